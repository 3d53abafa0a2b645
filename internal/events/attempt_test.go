package events

import (
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Every failure is stored with a short reason: a status, a timeout, a
// refused connection; a redirect is not followed.
func TestFailureReasons(t *testing.T) {
	redirected := make(chan struct{}, 1)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		redirected <- struct{}{}
	}))
	defer target.Close()
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/500":
			http.Error(w, "secret stack trace", http.StatusInternalServerError)
		case "/302":
			http.Redirect(w, r, target.URL, http.StatusFound)
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		}
	}))
	defer srv.Close()
	defer close(stop)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()

	for _, tc := range []struct{ url, want string }{
		{srv.URL + "/500", "HTTP 500"},
		{srv.URL + "/302", "HTTP 302"},
		{srv.URL + "/slow", "timeout"},
		{refused, "connection refused"},
	} {
		c := newClock()
		st := newStore(t, c.Now)
		rec := &recorder{EventStore: st}
		log, logs := logger()
		d := newDeliverer(t, rec, tc.url, c, DeliveryOptions{Logger: log, Timeout: 200 * time.Millisecond})
		writeEvents(t, st, "conn-1", 1)
		pass(t, d, 1)
		if got := rec.last(); got != tc.want {
			t.Errorf("%s: reason %q, want %q", tc.url, got, tc.want)
		}
		if strings.Contains(logs.String(), "secret stack trace") || strings.Contains(logs.String(), "127.0.0.1") {
			t.Errorf("logs hold the body or the URL:\n%s", logs)
		}
	}
	if len(redirected) != 0 {
		t.Error("a redirect was followed")
	}
}

// A receiver that answers 2xx with an endless body does not hold the
// worker: the answer is read up to 64 KiB.
func TestEndlessBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 32<<10))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	st := newStore(t, nil)
	d := newDeliverer(t, st, srv.URL, nil, DeliveryOptions{Logger: discard(), Timeout: time.Minute})
	writeEvents(t, st, "conn-1", 1)
	start := time.Now()
	pass(t, d, 1)
	if n, _ := st.PendingDeliveries(context.Background()); n != 0 {
		t.Errorf("%d pending: a 2xx is a delivery", n)
	}
	if el := time.Since(start); el > 20*time.Second {
		t.Errorf("took %s", el)
	}
}

// The schedule: 1 s, 5 s, 30 s, then doubling from a minute, capped at an
// hour; never past the 24 h window.
func TestBackoff(t *testing.T) {
	want := []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute,
		4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour}
	for i, w := range want {
		if got := backoff(i + 1); got != w {
			t.Errorf("backoff(%d) = %s, want %s", i+1, got, w)
		}
	}
	if backoff(1000) != time.Hour || backoff(0) != time.Second {
		t.Error("backoff out of range")
	}
	first := time.Unix(0, 0)
	if next, ok := nextAttempt(20, first, first.Add(23*time.Hour+59*time.Minute), 24*time.Hour); !ok || !next.Equal(first.Add(24*time.Hour)) {
		t.Errorf("last attempt at %v, %v; want the window's end", next, ok)
	}
	if _, ok := nextAttempt(20, first, first.Add(24*time.Hour), 24*time.Hour); ok {
		t.Error("retried after the window")
	}
}

// NewSecret makes secrets the library takes; CheckConfig names every bad
// setting and never quotes the secret.
func TestSecretsAndConfig(t *testing.T) {
	s := NewSecret()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
	if !strings.HasPrefix(s, "whsec_") || err != nil || len(key) != 32 || s == NewSecret() {
		t.Fatalf("NewSecret() = %q", s)
	}
	if _, err := standardwebhooks.NewWebhook(s); err != nil {
		t.Fatal(err)
	}
	if err := CheckConfig("https://example.com/hooks", s); err != nil {
		t.Fatal(err)
	}
	bad := "whsec_not*base64"
	err = CheckConfig("example.com/hooks", bad)
	if err == nil || !strings.Contains(err.Error(), VarWebhookURL) || !strings.Contains(err.Error(), VarWebhookSecret) || strings.Contains(err.Error(), "not*base64") {
		t.Fatalf("CheckConfig: %v", err)
	}
	if onbehalf.ErrorCode(err) != onbehalf.EINVALID {
		t.Errorf("code %q", onbehalf.ErrorCode(err))
	}
	for _, s := range []string{"", "whsec_", "sk_" + s[6:], "whsec_" + base64.StdEncoding.EncodeToString([]byte("short"))} {
		if CheckConfig("https://example.com", s) == nil {
			t.Errorf("secret %q accepted", s)
		}
	}
	if _, err := NewDeliverer(newStore(t, nil), "https://example.com", s, DeliveryOptions{Timeout: time.Minute, Lease: time.Second}); onbehalf.ErrorCode(err) != onbehalf.EINVALID {
		t.Errorf("a lease shorter than the timeout: %v", err)
	}
}

// Notify never blocks, whether or not Run is running.
func TestNotifyNeverBlocks(t *testing.T) {
	d := newDeliverer(t, newStore(t, nil), "https://example.com", nil, DeliveryOptions{})
	b := NewBroker(newStore(t, nil), BrokerOptions{})
	for range 1000 {
		d.Notify()
		b.Notify()
	}
}

// Old events whose delivery is over are pruned; pending ones stay.
func TestPrune(t *testing.T) {
	c := newClock()
	st := newStore(t, c.Now)
	rcv := newReceiver(t, 0)
	d := newDeliverer(t, st, rcv.URL, c, DeliveryOptions{Logger: discard()})
	writeEvents(t, st, "conn-1", 3)
	pass(t, d, 3)
	pending := writeEvents(t, st, "conn-1", 1)[0]
	p := &Pruner{Store: st, Now: c.Now, Logger: discard()}
	c.Advance(DefaultKeep - time.Minute)
	if n, err := p.Prune(context.Background()); n != 0 || err != nil {
		t.Fatalf("pruned %d, %v before the time", n, err)
	}
	c.Advance(2 * time.Minute)
	if n, err := p.Prune(context.Background()); n != 3 || err != nil {
		t.Fatalf("pruned %d, %v; want 3", n, err)
	}
	left, _ := st.EventsAfter(context.Background(), 0, 0)
	if len(left) != 1 || left[0].ID != pending.ID {
		t.Errorf("left %v, want the pending event", left)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Run(ctx); err != nil {
		t.Error(err)
	}
}
