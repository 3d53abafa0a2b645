package crashtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is a reverse proxy in front of the fake Zoom that remembers,
// for every refresh token Zoom issued by rotation, the one it replaced:
// the fake only tells the current one. A request is forwarded only once
// it arrived whole, and forwarded to its end even if the client dies
// meanwhile, so the record is complete once the proxy is quiet.
type recorder struct {
	target string
	srv    *httptest.Server
	client *http.Client
	open   atomic.Int64 // client connections not closed yet

	mu   sync.Mutex
	prev map[string]string // new refresh token → the one it replaced
}

func newRecorder(t *testing.T, target string) *recorder {
	t.Helper()
	r := &recorder{target: target, client: &http.Client{}, prev: make(map[string]string)}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	r.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			r.open.Add(1)
		case http.StateClosed, http.StateHijacked:
			r.open.Add(-1)
		}
	}
	r.srv.Start()
	t.Cleanup(r.srv.Close)
	return r
}

// URL returns the proxy's base URL.
func (r *recorder) URL() string { return r.srv.URL }

// previous returns the refresh token that tok replaced, if Zoom issued tok
// by rotation.
func (r *recorder) previous(tok string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.prev[tok]
	return p, ok
}

// quiesce waits until every client connection is closed: after the client
// died, every request it managed to send has then been forwarded and
// recorded.
func (r *recorder) quiesce(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for r.open.Load() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("proxy still has %d open connections", r.open.Load())
		}
		time.Sleep(time.Millisecond)
	}
}

func (r *recorder) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return // the client died mid-request: nothing reaches Zoom
	}
	ctx := context.WithoutCancel(req.Context())
	out, err := http.NewRequestWithContext(ctx, req.Method, r.target+req.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	out.Header = req.Header.Clone()
	resp, err := r.client.Do(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if req.URL.Path == "/oauth/token" && resp.StatusCode == http.StatusOK {
		form, _ := url.ParseQuery(string(body))
		var tr struct {
			RefreshToken string `json:"refresh_token"`
		}
		if form.Get("grant_type") == "refresh_token" && json.Unmarshal(respBody, &tr) == nil && tr.RefreshToken != "" {
			r.mu.Lock()
			r.prev[tr.RefreshToken] = form.Get("refresh_token")
			r.mu.Unlock()
		}
	}
	for k, v := range resp.Header {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(respBody)
}
