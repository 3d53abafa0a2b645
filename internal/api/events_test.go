package api_test

import (
	"bufio"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/api"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// fakeStream writes one event and remembers whom it served.
type fakeStream struct {
	mu          sync.Mutex
	key, connID string
	refuse      error
}

func (f *fakeStream) Serve(w http.ResponseWriter, r *http.Request, key, connID string) error {
	f.mu.Lock()
	f.key, f.connID = key, connID
	refuse := f.refuse
	f.mu.Unlock()
	if refuse != nil {
		return refuse
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("id: 7\nevent: connection.created\ndata: {\"last\":\"" + r.Header.Get("Last-Event-ID") + "\"}\n\n"))
	return nil
}

func TestEvents(t *testing.T) {
	s := &fakeStream{}
	e := newEnv(t, func(o *api.Options) { o.Stream = s })
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/events?connection_id=conn_1", nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Last-Event-ID", "6")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, _ := bufio.NewReader(resp.Body).ReadString('\n')
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" || line != "id: 7\n" {
		t.Fatalf("%d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), line)
	}
	s.mu.Lock()
	key, conn := s.key, s.connID
	s.mu.Unlock()
	if conn != "conn_1" || !strings.HasPrefix(key, "env_") || strings.Contains(testKey, strings.TrimPrefix(key, "env_")) {
		t.Fatalf("served key %q (the key's ID, never the key), connection %q", key, conn)
	}

	// The stream's refusals, as JSON.
	s.mu.Lock()
	s.refuse = onbehalf.FieldError("Last-Event-ID", "Bad Last-Event-ID.")
	s.mu.Unlock()
	e.call(t, http.MethodGet, "/api/v1/events", nil).wantError(t, 400, onbehalf.EINVALID, "Last-Event-ID")
	e.call(t, http.MethodGet, "/api/v1/events?conn=1", nil).wantError(t, 400, onbehalf.EINVALID, "conn")
	e.callKey(t, "", http.MethodGet, "/api/v1/events", nil).wantError(t, 401, onbehalf.EUNAUTHORIZED, "")
}

func TestEventsWithoutStream(t *testing.T) {
	e := newEnv(t)
	e.call(t, http.MethodGet, "/api/v1/events", nil).wantError(t, 503, onbehalf.EUNAVAILABLE, "")
}

// apiObs records what the API tells its Observer.
type apiObs struct {
	mu   sync.Mutex
	seen []string
}

func (o *apiObs) ObserveAPIRequest(route, method string, status int, took time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen = append(o.seen, fmt.Sprintf("%s %s %d", method, route, status))
}

// Every answered request reaches the Observer under its route's pattern,
// never a path with an ID, refusals of the key check included.
func TestObserver(t *testing.T) {
	o := &apiObs{}
	e := newEnv(t, func(opts *api.Options) { opts.Observer = o })
	e.call(t, http.MethodGet, "/api/v1/bots/bot_123", nil)
	e.callKey(t, "", http.MethodGet, "/api/v1/connections", nil)
	e.callKey(t, "", http.MethodGet, "/api/v1/openapi.json", nil)
	o.mu.Lock()
	defer o.mu.Unlock()
	want := []string{"GET /api/v1/bots/:id 404", "GET /api/v1/connections 401", "GET /api/v1/openapi.json 200"}
	if !slices.Equal(o.seen, want) {
		t.Fatalf("observed %q, want %q", o.seen, want)
	}
}
