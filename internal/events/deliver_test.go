package events

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/clocktest"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// newDeliverer returns a Deliverer of st's events to url, on clock c.
func newDeliverer(t testing.TB, st onbehalf.EventStore, url string, c *clocktest.Clock, opts DeliveryOptions) *Deliverer {
	t.Helper()
	if c != nil {
		opts.Now = c.Now
	}
	d, err := NewDeliverer(st, url, testSecret, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// pass runs one pass and checks how many events it claimed.
func pass(t *testing.T, d *Deliverer, want int) {
	t.Helper()
	n, err := d.Pass(context.Background())
	if err != nil || n != want {
		t.Fatalf("Pass = %d, %v; want %d", n, err, want)
	}
}

// A receiver that fails the first deliveries gets the same webhook-id,
// signed anew, on the schedule 1 s, 5 s, 30 s, and the body exactly as
// documented.
func TestDeliverRetriesWithSameID(t *testing.T) {
	c := newClock()
	st := newStore(t, c.Now)
	rcv := newReceiver(t, 3)
	log, logs := logger()
	d := newDeliverer(t, st, rcv.URL+"/hook?token=receiver-credential", c, DeliveryOptions{Logger: log})
	ev := writeEvents(t, st, "conn-1", 1)[0]

	start := c.Now()
	var stamps []string
	for i, wait := range []time.Duration{0, time.Second, 5 * time.Second, 30 * time.Second} {
		if wait > 0 {
			c.Advance(wait - time.Millisecond)
			pass(t, d, 0) // not due yet
			c.Advance(time.Millisecond)
		}
		pass(t, d, 1)
		h := rcv.next(t)
		if h.Err != nil {
			t.Fatalf("attempt %d: signature: %v", i+1, h.Err)
		}
		if h.ID != ev.ID {
			t.Fatalf("attempt %d: webhook-id %q, want the event's ID %q", i+1, h.ID, ev.ID)
		}
		if h.Timestamp != strconv.FormatInt(c.Now().Unix(), 10) {
			t.Errorf("attempt %d: webhook-timestamp %s, want the attempt's time %d", i+1, h.Timestamp, c.Now().Unix())
		}
		stamps = append(stamps, h.Timestamp)
		wantBody := `{"type":"bot.created","timestamp":"` + ev.Time.UTC().Format("2006-01-02T15:04:05.000Z") + `","data":` + string(ev.Data) +
			`,"id":"` + ev.ID + `","seq":` + strconv.FormatInt(ev.Seq, 10) + `}`
		if string(h.Body) != wantBody {
			t.Fatalf("body\n%s\nwant\n%s", h.Body, wantBody)
		}
	}
	if got := c.Now().Sub(start); got != 36*time.Second {
		t.Errorf("delivered after %s, want 36s", got)
	}
	if stamps[0] == stamps[3] {
		t.Error("retries were not signed anew")
	}
	c.Advance(time.Hour)
	pass(t, d, 0)
	if n, _ := st.PendingDeliveries(context.Background()); n != 0 {
		t.Errorf("%d pending after delivery", n)
	}
	if got := rcv.delivered()[ev.ID]; got != 1 {
		t.Errorf("delivered %d times", got)
	}
	checkLogs(t, logs.String())
	if !strings.Contains(logs.String(), "HTTP 500") || !strings.Contains(logs.String(), ev.ID) {
		t.Errorf("failures not logged with reason and event ID:\n%s", logs)
	}
}

// checkLogs fails when a log holds the secret, the receiver's credential
// or a body.
func checkLogs(t *testing.T, logs string) {
	t.Helper()
	for _, bad := range []string{testSecret, testSecret[len("whsec_"):], "receiver-credential", `"type"`} {
		if strings.Contains(logs, bad) {
			t.Errorf("logs hold %q:\n%s", bad, logs)
		}
	}
}

// The backoff doubles from a minute up to an hour; the last attempt is
// 24 h after the first, and then the event is given up, at ERROR.
func TestBackoffScheduleAndGiveUp(t *testing.T) {
	c := newClock()
	st := newStore(t, c.Now)
	rcv := newReceiver(t, 1<<30)
	rcv.ignoreTime = true // the fake clock goes a day ahead
	rec := &recorder{EventStore: st}
	log, logs := logger()
	d := newDeliverer(t, rec, rcv.URL, c, DeliveryOptions{Logger: log})
	ev := writeEvents(t, st, "conn-1", 1)[0]

	first := c.Now()
	want := []time.Duration{time.Second, 5 * time.Second, 30 * time.Second,
		time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute}
	for sum := sumDurations(want); sum < 24*time.Hour; sum = sumDurations(want) {
		want = append(want, min(time.Hour, 24*time.Hour-sum))
	}
	pass(t, d, 1)
	rcv.next(t)
	for i, wait := range want {
		c.Advance(wait - time.Millisecond)
		pass(t, d, 0)
		c.Advance(time.Millisecond)
		pass(t, d, 1)
		if h := rcv.next(t); h.ID != ev.ID || h.Err != nil {
			t.Fatalf("attempt %d: id %q, signature %v", i+2, h.ID, h.Err)
		}
		if strings.Contains(logs.String(), "gave up") != (i == len(want)-1) {
			t.Fatalf("attempt %d (%s after the first): gave up too early or not at all", i+2, c.Now().Sub(first))
		}
	}
	if got := c.Now().Sub(first); got != 24*time.Hour {
		t.Errorf("last attempt %s after the first, want 24h", got)
	}
	if len(rec.reasons) != len(want) {
		t.Errorf("%d failures rescheduled, want %d (the last one gives up)", len(rec.reasons), len(want))
	}
	c.Advance(48 * time.Hour)
	pass(t, d, 0)
	if n, _ := st.PendingDeliveries(context.Background()); n != 0 {
		t.Errorf("%d pending after giving up", n)
	}
	var giveUp string
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, "gave up") {
			giveUp = line
		}
	}
	if !strings.Contains(giveUp, "level=ERROR") || !strings.Contains(giveUp, ev.ID) || !strings.Contains(giveUp, "bot.created") {
		t.Errorf("give-up log line %q: want ERROR with the event ID and type", giveUp)
	}
	checkLogs(t, logs.String())
}

// sumDurations adds ds up.
func sumDurations(ds []time.Duration) time.Duration {
	var s time.Duration
	for _, d := range ds {
		s += d
	}
	return s
}

// Run delivers at once on Notify; stopped while the receiver is down and
// started again on the reopened store, it delivers every event with the
// IDs the receiver saw before the restart.
func TestEventsSurviveRestart(t *testing.T) {
	c := newClock()
	path := filepath.Join(t.TempDir(), "onbehalf.db")
	st := openStore(t, path, c.Now)
	rcv := newReceiver(t, 1<<30)
	evs := writeEvents(t, st, "conn-1", 3)

	ctx, cancel := context.WithCancel(context.Background())
	d := newDeliverer(t, st, rcv.URL, c, DeliveryOptions{Logger: discard()})
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	seen := map[string]bool{}
	for range evs {
		seen[rcv.next(t).ID] = true
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n, _ := st.PendingDeliveries(context.Background()); n != 3 {
		t.Fatalf("%d pending after failures, want 3", n)
	}
	st.Close()

	rcv.fail.Store(0)
	st = openStore(t, path, c.Now)
	defer st.Close()
	c.Advance(time.Second)
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	d = newDeliverer(t, st, rcv.URL, c, DeliveryOptions{Logger: discard()})
	go func() { done <- d.Run(ctx) }()
	d.Notify()
	for range evs {
		if h := rcv.next(t); !seen[h.ID] || h.Err != nil {
			t.Fatalf("after the restart: webhook-id %q (signature %v), want one of %v", h.ID, h.Err, seen)
		}
	}
	waitFor(t, "deliveries recorded", func() bool {
		n, _ := st.PendingDeliveries(context.Background())
		return n == 0
	})

	// A new event goes out at once on Notify (the clock does not move, so
	// no poll could make it due later).
	ev := writeEvents(t, st, "conn-1", 1)[0]
	d.Notify()
	if h := rcv.next(t); h.ID != ev.ID {
		t.Fatalf("got %q, want the new event %q", h.ID, ev.ID)
	}
	cancel()
	<-done
}

// An event claimed by a worker that died is delivered by another once
// its lease ends, not before.
func TestLeaseOfDeadWorker(t *testing.T) {
	c := newClock()
	st := newStore(t, c.Now)
	rcv := newReceiver(t, 0)
	ev := writeEvents(t, st, "conn-1", 1)[0]
	if dl, err := st.ClaimDeliveries(context.Background(), c.Now(), DefaultLease, 10); err != nil || len(dl) != 1 {
		t.Fatalf("claim: %v, %v", dl, err)
	}
	d := newDeliverer(t, st, rcv.URL, c, DeliveryOptions{Logger: discard()})
	c.Advance(DefaultLease - time.Millisecond)
	pass(t, d, 0)
	c.Advance(time.Millisecond)
	pass(t, d, 1)
	if h := rcv.next(t); h.ID != ev.ID {
		t.Fatalf("got %q", h.ID)
	}
}

// Two workers on one store deliver every event exactly once.
func TestTwoWorkersDeliverOnce(t *testing.T) {
	st := newStore(t, nil)
	rcv := newReceiver(t, 0)
	evs := writeEvents(t, st, "conn-1", 60)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	for range 2 {
		d := newDeliverer(t, st, rcv.URL, nil, DeliveryOptions{Logger: discard(), Concurrency: 4})
		go func() { done <- d.Run(ctx) }()
		d.Notify()
	}
	for range evs {
		rcv.next(t)
	}
	waitFor(t, "deliveries recorded", func() bool {
		n, _ := st.PendingDeliveries(context.Background())
		return n == 0
	})
	cancel()
	<-done
	<-done
	got := rcv.delivered()
	for _, ev := range evs {
		if got[ev.ID] != 1 {
			t.Errorf("event %d delivered %d times", ev.Seq, got[ev.ID])
		}
	}
	if len(rcv.hooks) != 0 {
		t.Errorf("%d extra webhooks", len(rcv.hooks))
	}
}

// The body is {"type", "timestamp", "data", "id", "seq"}, in that order,
// and nothing else; the timestamp is UTC with milliseconds.
func TestBody(t *testing.T) {
	ev := writeEvents(t, newStore(t, nil), "conn-9", 1)[0]
	b, err := Body(ev)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || len(m) != 5 || !bytes.HasPrefix(b, []byte(`{"type":"bot.created","timestamp":"`)) ||
		!bytes.HasSuffix(b, []byte(`,"id":"`+ev.ID+`","seq":`+strconv.FormatInt(ev.Seq, 10)+`}`)) {
		t.Fatalf("body %s (%v)", b, err)
	}
	var ts string
	json.Unmarshal(m["timestamp"], &ts)
	if p, err := time.Parse(time.RFC3339, ts); err != nil || !p.Equal(ev.Time.Truncate(time.Millisecond)) ||
		!regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(ts) {
		t.Errorf("timestamp %q: %v", ts, err)
	}
	if connectionID(ev) != "conn-9" || !(Filter{ConnectionID: "conn-9"}).Match(ev) || (Filter{Types: []string{"x"}}).Match(ev) {
		t.Error("filter does not see the connection or the type")
	}
}

// Run, stopped while a delivery is in flight, returns only once the
// receiver answered and the outcome is stored.
func TestRunFinishesInFlight(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	st := newStore(t, nil)
	d := newDeliverer(t, st, srv.URL, nil, DeliveryOptions{Logger: discard()})
	writeEvents(t, st, "conn-1", 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	<-started
	cancel()
	select {
	case <-done:
		t.Fatal("Run returned with a delivery in flight")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n, _ := st.PendingDeliveries(context.Background()); n != 0 {
		t.Errorf("%d pending: the delivery's outcome was not stored", n)
	}
}

// BenchmarkDeliver measures delivering events to a local receiver that
// answers at once, through the bbolt store (claim, POST, done).
func BenchmarkDeliver(b *testing.B) {
	st := newStore(b, nil)
	rcv := newReceiver(b, 0)
	d := newDeliverer(b, st, rcv.URL, nil, DeliveryOptions{Logger: discard()})
	writeEvents(b, st, "conn-1", b.N)
	b.ResetTimer()
	for done := 0; done < b.N; {
		n, err := d.Pass(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		done += n
		for range n {
			<-rcv.hooks
		}
	}
}

// obs records what the Deliverer tells its Observer.
type obs struct {
	mu        sync.Mutex
	attempts  []string
	delivered []time.Duration
	givenUp   int
}

func (o *obs) ObserveAttempt(reason string) {
	o.mu.Lock()
	o.attempts = append(o.attempts, reason)
	o.mu.Unlock()
}
func (o *obs) ObserveDelivered(d time.Duration) {
	o.mu.Lock()
	o.delivered = append(o.delivered, d)
	o.mu.Unlock()
}
func (o *obs) ObserveGivenUp() { o.mu.Lock(); o.givenUp++; o.mu.Unlock() }

// The Observer hears every attempt with its reason, each delivery with its
// lag since the event, and each give-up.
func TestDeliverObserver(t *testing.T) {
	c := newClock()
	st := newStore(t, c.Now)
	rcv := newReceiver(t, 1)
	o := &obs{}
	d := newDeliverer(t, st, rcv.URL, c, DeliveryOptions{Logger: discard(), Observer: o, RetryFor: time.Minute})
	writeEvents(t, st, "conn-1", 1)
	pass(t, d, 1)
	c.Advance(time.Second)
	pass(t, d, 1)
	if len(o.attempts) != 2 || o.attempts[0] != "HTTP 500" || o.attempts[1] != "" || len(o.delivered) != 1 || o.delivered[0] != time.Second || o.givenUp != 0 {
		t.Fatalf("observed %+v", o)
	}

	dead := newDeliverer(t, st, "http://127.0.0.1:1/", c, DeliveryOptions{Logger: discard(), Observer: o, RetryFor: time.Second})
	writeEvents(t, st, "conn-1", 1)
	pass(t, dead, 1)
	c.Advance(time.Second)
	pass(t, dead, 1)
	if o.givenUp != 1 || len(o.attempts) != 4 || o.attempts[2] != "connection refused" {
		t.Fatalf("observed %+v", o)
	}
}
