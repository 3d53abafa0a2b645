package recalltest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func call(t *testing.T, s *Server, path, auth, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

func TestCreateBot(t *testing.T) {
	s := New("key123")
	defer s.Close()
	body := `{"meeting_url":"https://zoom.us/j/85012345678","bot_name":"Notes","zoom":{"obf_token_url":"https://x.test/obf?a=1"},"metadata":{"k":"v"}}`
	status, m := call(t, s, "/api/v1/bot/", "Token key123", body)
	if status != 201 || m["meeting_url"] != "https://zoom.us/j/85012345678" || m["bot_name"] != "Notes" {
		t.Fatalf("create: %d %v", status, m)
	}
	id, _ := m["id"].(string)
	if len(id) != 36 || strings.Count(id, "-") != 4 {
		t.Fatalf("id %q is not UUID-like", id)
	}
	bots := s.Bots()
	if len(bots) != 1 || bots[0].ID != id || bots[0].Zoom.OBFTokenURL != "https://x.test/obf?a=1" || string(bots[0].Raw) != body {
		t.Fatalf("Bots() = %+v", bots)
	}
}

func TestErrors(t *testing.T) {
	s := New("key123")
	defer s.Close()
	const ok = `{"meeting_url":"https://zoom.us/j/85012345678"}`
	cases := []struct {
		name, path, auth, body string
		status                 int
		key, want              string
	}{
		{"wrong key", "/api/v1/bot/", "Token nope", ok, 401, "detail", "Invalid token."},
		{"no key", "/api/v1/bot/", "", ok, 401, "detail", "Authentication credentials were not provided."},
		{"bearer", "/api/v1/bot/", "Bearer key123", ok, 401, "detail", "Authentication credentials were not provided."},
		{"no slash", "/api/v1/bot", "Token key123", ok, 404, "detail", "Not found."},
		{"missing", "/api/v1/bot/", "Token key123", `{"bot_name":"x"}`, 400, "meeting_url", "This field is required."},
		{"blank", "/api/v1/bot/", "Token key123", `{"meeting_url":""}`, 400, "meeting_url", "This field may not be blank."},
		{"list", "/api/v1/bot/", "Token key123", `[]`, 400, "non_field_errors", "Invalid data. Expected a dictionary, but got list."},
	}
	for _, c := range cases {
		status, m := call(t, s, c.path, c.auth, c.body)
		got := m[c.key]
		if l, isList := got.([]any); isList && len(l) == 1 {
			got = l[0]
		}
		if status != c.status || got != c.want {
			t.Errorf("%s: %d %v, want %d %s=%q", c.name, status, m, c.status, c.key, c.want)
		}
	}
	if status, m := call(t, s, "/api/v1/bot/", "Token key123", `{`); status != 400 || !strings.HasPrefix(m["detail"].(string), "JSON parse error") {
		t.Errorf("bad JSON: %d %v", status, m)
	}
	s.FailNext(503, `{"detail":"Service unavailable."}`)
	if status, m := call(t, s, "/api/v1/bot/", "Token key123", ok); status != 503 || m["detail"] != "Service unavailable." {
		t.Errorf("FailNext: %d %v", status, m)
	}
	if status, _ := call(t, s, "/api/v1/bot/", "Token key123", ok); status != 201 {
		t.Errorf("after FailNext: %d", status)
	}
	if len(s.Bots()) != 1 || s.Calls() != 9 {
		t.Errorf("Bots %d, Calls %d", len(s.Bots()), s.Calls())
	}
}

func TestConcurrentAndCopies(t *testing.T) {
	s := New("key123")
	defer s.Close()
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			body := fmt.Sprintf(`{"meeting_url":"https://zoom.us/j/%d","zoom":{"zak_url":"https://x.test/zak"}}`, 850000000+i)
			if status, m := call(t, s, "/api/v1/bot/", "Token key123", body); status != 201 {
				t.Errorf("create %d: %d %v", i, status, m)
			}
		})
	}
	wg.Wait()
	bots := s.Bots()
	ids := map[string]bool{}
	for _, b := range bots {
		if ids[b.ID] || b.Zoom.ZAKURL != "https://x.test/zak" || b.Header.Get("Authorization") != "Token key123" {
			t.Fatalf("bot %+v", b)
		}
		ids[b.ID] = true
	}
	if len(ids) != n || s.Calls() != n {
		t.Fatalf("%d bots, %d calls", len(ids), s.Calls())
	}
	// Bots returns copies.
	bots[0].Raw[0] = 'X'
	bots[0].Header.Set("Authorization", "changed")
	if b := s.Bots()[0]; b.Raw[0] != '{' || b.Header.Get("Authorization") != "Token key123" {
		t.Fatal("Bots() shares memory with the fake")
	}
}

func TestDelayHonoursCancellation(t *testing.T) {
	s := New("key123")
	defer s.Close()
	s.SetDelay(time.Minute)
	client := &http.Client{Timeout: 50 * time.Millisecond}
	req, _ := http.NewRequest("POST", s.URL+"/api/v1/bot/", strings.NewReader(`{"meeting_url":"https://zoom.us/j/850000000"}`))
	req.Header.Set("Authorization", "Token key123")
	start := time.Now()
	if _, err := client.Do(req); err == nil {
		t.Fatal("delayed create answered")
	}
	s.Close() // returns once the handler has noticed the client left
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Close waited %v", d)
	}
	if len(s.Bots()) != 0 {
		t.Fatal("an abandoned request created a bot")
	}
}
