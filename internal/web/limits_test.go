package web_test

import (
	"bufio"
	"context"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/bots"
	"github.com/onbehalf/onbehalf/internal/events"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
	"github.com/onbehalf/onbehalf/internal/web"
)

// TestBotsPerHour: past BOTS_PER_HOUR bots in the last hour, the launch
// page answers 429 in the site's look, says when the next bot may go, and
// calls no platform; an hour later it sends again. The launch service the
// API uses is not limited.
func TestBotsPerHour(t *testing.T) {
	clk := newClock()
	e := newEnv(t, envOpts{now: clk.Now, opts: func(o *web.Options) { o.BotsPerHour = 3 }})
	b := browser(t)
	e.connect(t, b)
	first := clk.Now()
	for i := 0; i < 3; i++ {
		if resp, page := e.launch(t, b, "https://zoom.us/j/"+meeting, nil); resp.StatusCode != 200 || resp.Request.URL.Query().Get("created") == "" {
			t.Fatalf("bot %d: %d %s", i, resp.StatusCode, clip(page))
		}
		clk.Advance(10 * time.Minute)
	}
	resp, page := e.launch(t, b, "https://zoom.us/j/"+meeting, nil)
	next := first.Add(time.Hour).UTC().Format("15:04")
	if resp.StatusCode != 429 || !strings.Contains(page, "BOTS_PER_HOUR=3") || !strings.Contains(page, "next one at "+next+" UTC (in 30 minutes)") ||
		!strings.Contains(page, "<form") || resp.Header.Get("Retry-After") != "1800" {
		t.Fatalf("4th bot: %d Retry-After=%q %s", resp.StatusCode, resp.Header.Get("Retry-After"), clip(page))
	}
	if n := len(e.recall.Bots()); n != 3 {
		t.Fatalf("the platform got %d bots, want 3", n)
	}
	// The API's way (the launch service) is not limited by it.
	if _, err := e.bots.Launch(context.Background(), bots.LaunchRequest{ConnectionID: e.connID(t), MeetingURL: "https://zoom.us/j/" + meeting}); err != nil {
		t.Fatalf("launch service: %v", err)
	}
	// The first bot leaves the window, but the API's bot counts in it.
	clk.Advance(30*time.Minute + time.Second)
	if resp, page := e.launch(t, b, "https://zoom.us/j/"+meeting, nil); resp.StatusCode != 429 || !strings.Contains(page, "(in 10 minutes)") {
		t.Fatalf("an hour after the first: %d %s", resp.StatusCode, clip(page))
	}
	clk.Advance(10 * time.Minute)
	if resp, page := e.launch(t, b, "https://zoom.us/j/"+meeting, nil); resp.StatusCode != 200 {
		t.Fatalf("once the second left the window: %d %s", resp.StatusCode, clip(page))
	}
	if resp, _ := e.launch(t, b, "https://zoom.us/j/"+meeting, nil); resp.StatusCode != 429 {
		t.Fatalf("right after: %d", resp.StatusCode)
	}
}

// TestBotsPerHourBurst: parallel posts cannot all pass the same count.
func TestBotsPerHourBurst(t *testing.T) {
	e := newEnv(t, envOpts{opts: func(o *web.Options) { o.BotsPerHour = 5 }})
	b := browser(t)
	e.connect(t, b)
	var wg sync.WaitGroup
	codes := make(chan int, 30)
	for i := 0; i < 30; i++ {
		wg.Go(func() {
			resp, _ := e.launch(t, b, "https://zoom.us/j/"+meeting, nil)
			codes <- resp.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	n := map[int]int{}
	for c := range codes {
		n[c]++
	}
	if n[200] != 5 || n[429] != 25 || len(e.recall.Bots()) != 5 {
		t.Fatalf("statuses %v, %d bots at the platform; want 5 sent and 25 refused", n, len(e.recall.Bots()))
	}
}

// stream opens GET /launch/events with b's cookies; a held stream has
// sent its first message. It returns the status, the body of a refusal,
// and what closes the stream.
func (e *testEnv) stream(t *testing.T, b *http.Client) (int, string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/launch/events", nil)
	c := &http.Client{Jar: b.Jar} // no timeout: the stream stays open
	resp, err := c.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		defer cancel()
		defer resp.Body.Close()
		return resp.StatusCode, body(resp), func() {}
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "id:") && !strings.HasPrefix(line, ":") {
		t.Fatalf("stream's first line %q: %v", line, err)
	}
	closed := sync.OnceFunc(func() { cancel(); resp.Body.Close() })
	t.Cleanup(closed)
	return 200, "", closed
}

// streamEnv is a test server whose launch page streams from a real
// broker, bounded only by the web layer.
func streamEnv(t *testing.T, perSession, max int) *testEnv {
	var broker *events.Broker
	e := newEnv(t, envOpts{opts: func(o *web.Options) {
		// The broker's bounds are STREAMS_PER_SESSION and STREAMS_MAX.
		broker = events.NewBroker(o.Store.(*bolt.Store), events.BrokerOptions{MaxStreams: max, MaxPerKey: perSession})
		o.Stream = brokerStream{broker}
	}})
	t.Cleanup(broker.Close)
	return e
}

// TestStreamsMax: at most STREAMS_MAX live-status streams in all (429
// beyond), token URLs answer while they are held, and a stream that ends
// frees its slot.
func TestStreamsMax(t *testing.T) {
	e := streamEnv(t, 1000, 50)
	tokenURL := e.tokenURL(t)
	b := browser(t)
	e.connect(t, b)
	var closers []func()
	for i := 0; i < 50; i++ {
		code, got, closeIt := e.stream(t, b)
		if code != 200 {
			t.Fatalf("stream %d: %d %s", i, code, got)
		}
		closers = append(closers, closeIt)
	}
	for i := 0; i < 10; i++ {
		if code, got, _ := e.stream(t, b); code != 429 || !strings.Contains(got, "STREAMS_MAX") {
			t.Fatalf("stream %d past the cap: %d %q", 51+i, code, got)
		}
	}
	for i := 0; i < 5; i++ {
		if code, _, got := call(t, tokenURL, nil); code != 200 {
			t.Fatalf("token URL with every stream taken: %d %s", code, got)
		}
	}
	closers[0]()
	waitStream(t, e, b)
}

// TestStreamsPerSession: a session holds at most STREAMS_PER_SESSION
// streams; another session still gets its own.
func TestStreamsPerSession(t *testing.T) {
	e := streamEnv(t, 5, 1000)
	tokenURL := e.tokenURL(t)
	b := browser(t)
	e.connect(t, b)
	var closers []func()
	for i := 0; i < 5; i++ {
		code, got, closeIt := e.stream(t, b)
		if code != 200 {
			t.Fatalf("stream %d: %d %s", i, code, got)
		}
		closers = append(closers, closeIt)
	}
	code, got, _ := e.stream(t, b)
	if code != 429 || !strings.Contains(got, "STREAMS_PER_SESSION") {
		t.Fatalf("6th stream: %d %q", code, got)
	}
	if code, _, got := call(t, tokenURL, nil); code != 200 {
		t.Fatalf("token URL: %d %s", code, got)
	}
	closers[2]()
	waitStream(t, e, b)
}

// waitStream waits until b may open a stream again (the server noticed
// that one ended), with a deadline.
func waitStream(t *testing.T, e *testEnv, b *http.Client) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, got, _ := e.stream(t, b)
		if code == 200 {
			return
		}
		if code != 429 || time.Now().After(deadline) {
			t.Fatalf("after closing a stream: %d %q", code, got)
		}
	}
}

// brokerStream serves the launch page's stream from a broker, as the app
// does.
type brokerStream struct{ b *events.Broker }

func (s brokerStream) Serve(w http.ResponseWriter, r *http.Request, key, connID string) {
	if err := s.b.ServeSSE(w, r, key, events.Filter{ConnectionID: connID}); err != nil {
		http.Error(w, onbehalf.ErrorMessage(err), onbehalf.HTTPStatus(err))
	}
}
