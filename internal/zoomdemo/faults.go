package zoomdemo

import (
	"crypto/subtle"
	"net/http"
	"sync"
)

// refreshFaults are refusals queued for the next refresh_token grants
// (FailRefreshes).
type refreshFaults struct {
	mu         sync.Mutex
	left       int
	status     int
	retryAfter string
}

// FailRefreshes makes the next n refresh_token grants fail with status
// (500, 503, 429...) before Zoom looks at the refresh token, so that the
// pair is not rotated; retryAfter, when not empty, is sent as the
// Retry-After header. The failed requests count in RefreshCalls.
func (s *Server) FailRefreshes(n, status int, retryAfter string) {
	s.faults.mu.Lock()
	s.faults.left, s.faults.status, s.faults.retryAfter = n, status, retryAfter
	s.faults.mu.Unlock()
}

// failRefresh answers a refresh_token grant with a queued failure and
// reports whether it did.
func (s *Server) failRefresh(w http.ResponseWriter) bool {
	s.faults.mu.Lock()
	if s.faults.left <= 0 {
		s.faults.mu.Unlock()
		return false
	}
	s.faults.left--
	status, ra := s.faults.status, s.faults.retryAfter
	s.faults.mu.Unlock()
	if ra != "" {
		w.Header().Set("Retry-After", ra)
	}
	if status == http.StatusTooManyRequests {
		writeJSON(w, status, map[string]any{"code": 429, "message": "You have reached the maximum per-second rate limit for this API. Try again later."})
		return true
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(http.StatusText(status)))
	return true
}

// SetClientSecrets sets the client secrets Zoom accepts for the General
// app, like Zoom's client secret rotation: both the old and the new one
// while it is under way, then only the new one. By default only the
// secret given to New is accepted.
func (s *Server) SetClientSecrets(secrets ...string) {
	cp := append([]string(nil), secrets...)
	s.secrets.Store(&cp)
}

// secretOK reports whether secret is one the app accepts now.
func (s *Server) secretOK(secret string) bool {
	list := []string{s.clientSecret}
	if p := s.secrets.Load(); p != nil {
		list = *p
	}
	ok := 0
	for _, want := range list {
		ok |= subtle.ConstantTimeCompare([]byte(secret), []byte(want))
	}
	return ok == 1
}
