package api_test

import (
	"bufio"
	"net/http"
	"strings"
	"sync"
	"testing"

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
