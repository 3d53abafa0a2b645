package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/logtest"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// receiver is a product's webhook endpoint: it verifies every delivery
// with the Standard Webhooks library, refuses the first failures, and
// records what it accepted.
type receiver struct {
	*httptest.Server
	wh *standardwebhooks.Webhook

	mu       sync.Mutex
	failures int
	ids      map[string]int // webhook-id → deliveries accepted
	types    []string
	bad      int
}

func newReceiver(t *testing.T, secret string, failFirst int) *receiver {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{wh: wh, failures: failFirst, ids: map[string]int{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := r.wh.Verify(body, req.Header); err != nil {
			r.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.failures > 0 {
			r.failures--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var ev struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if json.Unmarshal(body, &ev) != nil || ev.Type == "" {
			r.bad++
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.ids[req.Header.Get("webhook-id")]++
		r.types = append(r.types, ev.Type)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.Close)
	return r
}

// waitFor waits until the receiver accepted an event of each type.
func (r *receiver) waitFor(t *testing.T, types ...string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r.mu.Lock()
		seen := map[string]bool{}
		for _, x := range r.types {
			seen[x] = true
		}
		bad := r.bad
		r.mu.Unlock()
		if bad > 0 {
			t.Fatalf("%d deliveries failed the signature check", bad)
		}
		all := true
		for _, x := range types {
			all = all && seen[x]
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhooks received %v, want %v", seen, types)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestOutgoingWebhooksAtLeastOnce: connection and bot events reach the
// product's receiver signed the Standard Webhooks way; deliveries it
// refused are retried with the same webhook-id, across a restart of the
// server.
func TestOutgoingWebhooksAtLeastOnce(t *testing.T) {
	f := newFakes(t)
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	rcv := newReceiver(t, secret, 2)
	f.env["WEBHOOK_URL"] = rcv.URL
	f.env["WEBHOOK_SECRET"] = secret
	a, stop := startApp(t, f, &logtest.Buffer{})
	tokenURL := walk(t, a.BaseURL(), f)
	rcv.waitFor(t, "connection.created", "bot.created")
	stop()

	// While the server is down the grant dies at Zoom; after the restart
	// the next fetch finds out and the product hears of it.
	f.zoom.RevokeGrant(zoomdemo.DefaultUserID)
	a, stop = startApp(t, f, &logtest.Buffer{})
	defer stop()
	if got := status(t, a.BaseURL(), tokenURL); got != http.StatusConflict {
		t.Fatalf("dead grant: %d", got)
	}
	rcv.waitFor(t, "connection.disconnected", "token.failed")
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	for id, n := range rcv.ids {
		if n != 1 {
			t.Errorf("event %s accepted %d times", id, n)
		}
	}
}
