package events

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
)

// sseMsg is one message of a stream: an event, an id-only message, or a
// comment.
type sseMsg struct {
	ID, Event, Data, Comment string
}

// sseClient reads one stream.
type sseClient struct {
	msgs   chan sseMsg // closed when the stream ends
	cancel context.CancelFunc
	// ready is the id of the stream's first message, its position.
	ready string
}

// dial opens a stream at url with the given headers; a status other than
// 200 is returned with the body and no client.
func dial(t *testing.T, url string, header map[string]string) (*sseClient, int, string) {
	t.Helper()
	return dialWith(t, http.DefaultClient, url, header)
}

// dialWith is dial with another client.
func dialWith(t *testing.T, client *http.Client, url string, header map[string]string) (*sseClient, int, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		return nil, resp.StatusCode, string(body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	c := &sseClient{msgs: make(chan sseMsg, 1000), cancel: cancel}
	t.Cleanup(cancel)
	go func() {
		defer close(c.msgs)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var m sseMsg
		for sc.Scan() {
			line := sc.Text()
			field, value, _ := strings.Cut(line, ": ")
			switch field {
			case "":
				if line == "" && m != (sseMsg{}) {
					c.msgs <- m
					m = sseMsg{}
				} else if line != "" {
					c.msgs <- sseMsg{Comment: value}
				}
			case "id":
				m.ID = value
			case "event":
				m.Event = value
			case "data":
				m.Data = value
			}
		}
	}()
	first := c.next(t, true)
	if first.Event != ReadyEvent || first.Data != `{"type":"ready","last_event_id":"`+first.ID+`"}` || first.ID == "" {
		t.Fatalf("first message %+v, want the ready message: an id and data", first)
	}
	c.ready = first.ID
	return c, http.StatusOK, ""
}

// next returns the next message that is not a comment (nor, unless
// comments is set, one).
func (c *sseClient) next(t *testing.T, comments bool) sseMsg {
	t.Helper()
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				t.Fatal("the stream ended")
			}
			if m.Comment != "" && !comments {
				continue
			}
			return m
		case <-time.After(10 * time.Second):
			t.Fatal("no message")
		}
	}
}

// expect checks that the next events of c are evs, as documented.
func (c *sseClient) expect(t *testing.T, evs ...onbehalf.Event) {
	t.Helper()
	for _, ev := range evs {
		m := c.next(t, false)
		body, _ := Body(ev)
		if m.ID != ev.ID || m.Event != ev.Type || m.Data != string(body) {
			t.Fatalf("got %+v, want id %s event %s data %s", m, ev.ID, ev.Type, body)
		}
	}
}

// ended waits for the stream to end.
func (c *sseClient) ended(t *testing.T) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-c.msgs:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("the stream did not end")
		}
	}
}

// sseServer serves b's streams: the key is the X-Key header, the filter
// the connection_id parameter; errors are answered as the API would.
func sseServer(t *testing.T, b *Broker, configure func(*http.Server)) *httptest.Server {
	t.Helper()
	return sseServerTLS(t, b, configure, false)
}

// sseServerTLS is sseServer, over TLS with HTTP/2 when h2 is set.
func sseServerTLS(t *testing.T, b *Broker, configure func(*http.Server), h2 bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := Filter{ConnectionID: r.URL.Query().Get("connection_id")}
		if err := b.ServeSSE(w, r, r.Header.Get("X-Key"), f); err != nil {
			http.Error(w, onbehalf.ErrorMessage(err), onbehalf.HTTPStatus(err))
		}
	}))
	if configure != nil {
		configure(srv.Config)
	}
	if h2 {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	t.Cleanup(b.Close) // before srv.Close, which waits for the handlers
	return srv
}

// startBroker runs a Broker of st that only polls on Notify (its poll is
// an hour), so that every live event in a test proves Notify works.
func startBroker(t *testing.T, st *bolt.Store, opts BrokerOptions) *Broker {
	t.Helper()
	if opts.Poll == 0 {
		opts.Poll = time.Hour
	}
	if opts.Heartbeat == 0 {
		opts.Heartbeat = time.Hour
	}
	opts.Logger = discard()
	b := NewBroker(st, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return b
}

// A stream resumes after Last-Event-ID (header, or the parameter for a
// first connection; the header wins), an event ID or a Seq, then goes on
// live; without either, it starts at the newest event and says so with
// its ready message.
func TestSSEResume(t *testing.T) {
	st := newStore(t, nil)
	b := startBroker(t, st, BrokerOptions{})
	srv := sseServer(t, b, nil)
	evs := writeEvents(t, st, "conn-1", 5)

	byHeader, _, _ := dial(t, srv.URL, map[string]string{"Last-Event-ID": evs[1].ID})
	byHeader.expect(t, evs[2:]...)
	bySeq, _, _ := dial(t, srv.URL, map[string]string{"Last-Event-ID": strconv.FormatInt(evs[2].Seq, 10), "X-Key": "seq"})
	bySeq.expect(t, evs[3:]...)
	byParam, _, _ := dial(t, srv.URL+"?last_event_id="+evs[3].ID, nil)
	byParam.expect(t, evs[4])
	both, _, _ := dial(t, srv.URL+"?last_event_id=0", map[string]string{"Last-Event-ID": evs[4].ID})
	fresh, _, _ := dial(t, srv.URL, nil)
	if fresh.ready != strconv.FormatInt(evs[4].Seq, 10) {
		t.Fatalf("a fresh stream's position %q, want the newest Seq %d", fresh.ready, evs[4].Seq)
	}

	more := writeEvents(t, st, "conn-1", 2)
	b.Notify()
	for _, c := range []*sseClient{byHeader, bySeq, byParam, both, fresh} {
		c.expect(t, more...)
	}

	for _, bad := range []string{"abc", "evt_unknown", strings.Repeat("x", 100)} {
		if _, code, body := dial(t, srv.URL, map[string]string{"Last-Event-ID": bad}); code != http.StatusBadRequest || !strings.Contains(body, "Last-Event-ID") {
			t.Errorf("Last-Event-ID %.10s…: %d %q", bad, code, body)
		}
	}
	if _, code, _ := dial(t, srv.URL+"?last_event_id=-3", nil); code != http.StatusBadRequest {
		t.Errorf("negative last_event_id: %d", code)
	}
	// A Last-Event-ID from the future (another database) starts at now.
	future, _, _ := dial(t, srv.URL, map[string]string{"Last-Event-ID": "999999"})
	last := writeEvents(t, st, "conn-1", 1)
	b.Notify()
	future.expect(t, last...)
}

// A client cut off before its first event resumes from the ready
// message's id and misses nothing written meanwhile, also when the store
// had no event at all (EventSource clients that skip an id without data
// would otherwise resume from nothing).
func TestSSECutBeforeFirstEvent(t *testing.T) {
	st := newStore(t, nil)
	b := startBroker(t, st, BrokerOptions{})
	srv := sseServer(t, b, nil)
	for range 2 {
		c, _, _ := dial(t, srv.URL, nil)
		c.cancel()
		c.ended(t)
		gap := writeEvents(t, st, "conn-1", 2)
		again, _, _ := dial(t, srv.URL, map[string]string{"Last-Event-ID": c.ready})
		again.expect(t, gap...)
	}
}

// Events written by another instance (no Notify here) arrive by polling.
func TestSSEPollsWithoutNotify(t *testing.T) {
	st := newStore(t, nil)
	b := startBroker(t, st, BrokerOptions{Poll: 10 * time.Millisecond})
	srv := sseServer(t, b, nil)
	c, _, _ := dial(t, srv.URL, nil)
	evs := writeEvents(t, st, "conn-1", 3)
	c.expect(t, evs...)
}

// A filtered stream gets only its connection's events; its heartbeat
// moves its Last-Event-ID past the events it skipped.
func TestSSEFilterAndHeartbeat(t *testing.T) {
	st := newStore(t, nil)
	b := startBroker(t, st, BrokerOptions{Heartbeat: 20 * time.Millisecond})
	srv := sseServer(t, b, nil)
	a1 := writeEvents(t, st, "conn-a", 2)
	writeEvents(t, st, "conn-b", 2)
	a2 := writeEvents(t, st, "conn-a", 1)
	c, _, _ := dial(t, srv.URL+"?connection_id=conn-a", map[string]string{"Last-Event-ID": "0"})
	c.expect(t, append(a1, a2...)...)

	skipped := writeEvents(t, st, "conn-b", 3)
	b.Notify()
	want := strconv.FormatInt(skipped[2].Seq, 10)
	sawPing := false
	for {
		m := c.next(t, true)
		if m.Comment == "ping" {
			sawPing = true
			continue
		}
		if m.Event != "" || m.Data != "" {
			t.Fatalf("got %+v: another connection's event", m)
		}
		if m.ID == want {
			break
		}
	}
	for !sawPing {
		sawPing = c.next(t, true).Comment == "ping"
	}
	a3 := writeEvents(t, st, "conn-a", 1)
	b.Notify()
	c.expect(t, a3...)
}

// Neither the server's WriteTimeout nor its ReadTimeout cuts a stream,
// over HTTP/1.1 and HTTP/2. The timeouts also bound the TLS handshake,
// which a loaded machine running -race can stretch: they are long enough
// for it (a second), and the stream lives well past them.
func TestSSEOutlivesServerTimeouts(t *testing.T) {
	const timeout = time.Second
	for _, h2 := range []bool{false, true} {
		st := newStore(t, nil)
		b := startBroker(t, st, BrokerOptions{Heartbeat: 25 * time.Millisecond})
		srv := sseServerTLS(t, b, func(s *http.Server) {
			s.WriteTimeout = timeout
			s.ReadTimeout = timeout
		}, h2)
		c, _, _ := dialWith(t, srv.Client(), srv.URL, nil)
		start := time.Now()
		for time.Since(start) < 3*timeout {
			c.next(t, true)
		}
		evs := writeEvents(t, st, "conn-1", 1)
		b.Notify()
		c.expect(t, evs...)
	}
}

// Close ends every stream at once and refuses new ones with a 503.
func TestSSECloseEndsStreams(t *testing.T) {
	st := newStore(t, nil)
	b := startBroker(t, st, BrokerOptions{})
	srv := sseServer(t, b, nil)
	var cs []*sseClient
	for i := range 3 {
		c, _, _ := dial(t, srv.URL, map[string]string{"X-Key": strconv.Itoa(i)})
		cs = append(cs, c)
	}
	b.Close()
	for _, c := range cs {
		c.ended(t)
	}
	if _, code, body := dial(t, srv.URL, nil); code != http.StatusServiceUnavailable || !strings.Contains(body, "shutting down") {
		t.Errorf("after Close: %d %q", code, body)
	}
	waitFor(t, "the streams to be forgotten", func() bool { return b.count() == 0 })
}

// Streams are bounded per key (429) and overall (503); a stream that the
// client ends frees its place.
func TestSSEBounds(t *testing.T) {
	st := newStore(t, nil)
	b := startBroker(t, st, BrokerOptions{MaxStreams: 3, MaxPerKey: 2})
	srv := sseServer(t, b, nil)
	key := func(k string) map[string]string { return map[string]string{"X-Key": k} }
	a1, _, _ := dial(t, srv.URL, key("a"))
	dial(t, srv.URL, key("a"))
	if _, code, body := dial(t, srv.URL, key("a")); code != http.StatusTooManyRequests || !strings.Contains(body, "at most 2") {
		t.Errorf("third stream of a key: %d %q", code, body)
	}
	dial(t, srv.URL, key("b"))
	if _, code, body := dial(t, srv.URL, key("c")); code != http.StatusTooManyRequests || !strings.Contains(body, "too many event streams") {
		t.Errorf("fourth stream: %d %q", code, body)
	}
	a1.cancel()
	waitFor(t, "the ended stream to be forgotten", func() bool { return b.count() == 2 })
	if c, code, body := dial(t, srv.URL, key("a")); c == nil {
		t.Errorf("after a stream ended: %d %q", code, body)
	}
}
