package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/api"
)

// callIdem makes an API call with the test key and an Idempotency-Key.
func (e *env) callIdem(t testing.TB, key, method, path string, body any) reply {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set(api.IdempotencyHeader, key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return reply{}
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, body: got}
	e.scan(t, path, r)
	return r
}

// TestIdempotentCreateBot: a retried POST /bots with the same key creates
// one bot at the platform and gets the first answer again, marked
// replayed; the same key with another body is a 422; a request without a
// key is not affected.
func TestIdempotentCreateBot(t *testing.T) {
	e := newEnv(t)
	e.addUser("zu_ann")
	id := e.grant(t, "zu_ann", "", time.Now().Add(time.Hour))
	body := map[string]any{"platform": "recall", "connection_id": id, "meeting_url": "https://zoom.us/j/" + meeting}

	first := e.callIdem(t, "retry-1", http.MethodPost, "/api/v1/bots", body)
	if first.status != http.StatusCreated || first.header.Get(api.ReplayedHeader) != "" {
		t.Fatalf("first: %d %s %v", first.status, first.body, first.header)
	}
	again := e.callIdem(t, "retry-1", http.MethodPost, "/api/v1/bots", body)
	if again.status != http.StatusCreated || !bytes.Equal(again.body, first.body) ||
		again.header.Get(api.ReplayedHeader) != "true" || again.header.Get("Location") != first.header.Get("Location") {
		t.Fatalf("retry: %d %s %v, want the first answer replayed", again.status, again.body, again.header)
	}
	if n := len(e.recall.Created()); n != 1 {
		t.Fatalf("platform got %d bots, want 1", n)
	}

	body["bot_name"] = "Other"
	r := e.callIdem(t, "retry-1", http.MethodPost, "/api/v1/bots", body)
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("another body: %d %s, want 422", r.status, r.body)
	}
	r.wantError(t, http.StatusUnprocessableEntity, "idempotency_mismatch", "")
	if n := len(e.recall.Created()); n != 1 {
		t.Fatalf("platform got %d bots after a mismatch, want 1", n)
	}
	// Another key, or no key: a new bot.
	if r := e.callIdem(t, "retry-2", http.MethodPost, "/api/v1/bots", body); r.status != http.StatusCreated {
		t.Fatalf("another key: %d %s", r.status, r.body)
	}
	if r := e.call(t, http.MethodPost, "/api/v1/bots", body); r.status != http.StatusCreated {
		t.Fatalf("no key: %d %s", r.status, r.body)
	}
	if n := len(e.recall.Created()); n != 3 {
		t.Fatalf("platform got %d bots, want 3", n)
	}
	// A bad request is kept too (a final answer); a too long key is a 400.
	bad := map[string]any{"platform": "recall", "connection_id": id, "meeting_url": "https://example.com/j/1"}
	if r := e.callIdem(t, "bad-1", http.MethodPost, "/api/v1/bots", bad); r.status != http.StatusBadRequest {
		t.Fatalf("bad request: %d %s", r.status, r.body)
	}
	if r := e.callIdem(t, "bad-1", http.MethodPost, "/api/v1/bots", bad); r.status != http.StatusBadRequest || r.header.Get(api.ReplayedHeader) != "true" {
		t.Fatalf("bad request again: %d %s %v", r.status, r.body, r.header)
	}
	if r := e.callIdem(t, strings.Repeat("k", 300), http.MethodPost, "/api/v1/bots", body); r.status != http.StatusBadRequest {
		t.Fatalf("long key: %d %s", r.status, r.body)
	}
}

// TestIdempotentInFlight: a retry while the first request with its key
// still runs is a 409, and the platform gets one bot.
func TestIdempotentInFlight(t *testing.T) {
	e := newEnv(t)
	e.addUser("zu_ann")
	id := e.grant(t, "zu_ann", "", time.Now().Add(time.Hour))
	body := map[string]any{"platform": "recall", "connection_id": id, "meeting_url": "https://zoom.us/j/" + meeting}
	e.recall.SetDelay(300 * time.Millisecond)
	for try := range 10 {
		key := "flight-" + string(rune('a'+try))
		var wg sync.WaitGroup
		var first reply
		wg.Go(func() { first = e.callIdem(t, key, http.MethodPost, "/api/v1/bots", body) })
		second := e.callIdem(t, key, http.MethodPost, "/api/v1/bots", body)
		wg.Wait()
		if second.status == http.StatusConflict {
			second.wantError(t, http.StatusConflict, "conflict", "")
			if first.status != http.StatusCreated {
				t.Fatalf("first: %d %s", first.status, first.body)
			}
			if n := len(e.recall.Created()); n != try+1 {
				t.Fatalf("platform got %d bots, want %d", n, try+1)
			}
			return
		}
		// The retry came after the first ended (or claimed first): one bot all the same.
		if n := len(e.recall.Created()); n != try+1 {
			t.Fatalf("platform got %d bots, want %d", n, try+1)
		}
	}
	t.Fatal("no retry ever met its first request in flight")
}

// TestIdempotentConnectLink: a retried POST /connect-links with the same
// key gets the same link (its answer is kept, sealed), not a second one.
func TestIdempotentConnectLink(t *testing.T) {
	e := newEnv(t)
	body := map[string]any{"external_user_id": "user-42"}
	first := e.callIdem(t, "link-1", http.MethodPost, "/api/v1/connect-links", body)
	again := e.callIdem(t, "link-1", http.MethodPost, "/api/v1/connect-links", body)
	if first.status != http.StatusCreated || again.status != http.StatusCreated || !bytes.Equal(again.body, first.body) ||
		again.header.Get(api.ReplayedHeader) != "true" {
		t.Fatalf("first %d %s; retry %d %s %v", first.status, first.body, again.status, again.body, again.header)
	}
	other := e.callIdem(t, "link-2", http.MethodPost, "/api/v1/connect-links", body)
	if other.status != http.StatusCreated || bytes.Equal(other.body, first.body) {
		t.Fatalf("another key: %d %s", other.status, other.body)
	}
}
