// Package recalltest is a fake Recall.ai for tests: the create-bot endpoint
// POST /api/v1/bot/ served by an httptest.Server on the loopback interface.
//
// It answers like Recall's Django REST Framework API: token authentication
// in an "Authorization: Token <key>" header, field errors as
// {"field":["message"]}, and 201 with the created bot. It records every
// accepted request so tests can check what a client sent.
package recalltest

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// maxBody bounds the size of a create-bot request body.
const maxBody = 1 << 20

// BotRequest is an accepted create-bot request as the fake decoded it.
type BotRequest struct {
	// ID is the bot ID the fake assigned.
	ID string `json:"id"`
	// MeetingURL is the meeting_url field.
	MeetingURL string `json:"meeting_url"`
	// BotName is the bot_name field.
	BotName string `json:"bot_name"`
	// Zoom is the zoom object (zero when absent).
	Zoom Zoom `json:"zoom"`
	// Raw is the request body as received.
	Raw json.RawMessage `json:"-"`
	// Header holds the request headers as received.
	Header http.Header `json:"-"`
}

// Zoom is the "zoom" object of a create-bot request.
type Zoom struct {
	// OBFTokenURL is the URL the bot GETs its On-Behalf-Of token from.
	OBFTokenURL string `json:"obf_token_url"`
	// ZAKURL is the URL the bot GETs a ZAK from.
	ZAKURL string `json:"zak_url"`
	// JoinTokenURL is the URL the bot GETs a join token from.
	JoinTokenURL string `json:"join_token_url"`
}

// Server is a running fake Recall.ai. Create it with New and stop it with
// Close. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL, the equivalent of https://us-east-1.recall.ai.
	URL string

	apiKey string
	ts     *httptest.Server
	calls  atomic.Int64
	delay  atomic.Int64

	mu   sync.Mutex
	bots []BotRequest
	fail *failure
}

// failure is a canned answer set by FailNext.
type failure struct {
	status int
	body   string
}

// New starts a fake Recall.ai that accepts the given API key.
func New(apiKey string) *Server {
	s := &Server{apiKey: apiKey}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/bot/{$}", s.handleBot)
	// Without the trailing slash Recall (Django) does not find the route.
	mux.HandleFunc("/api/v1/bot", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not found."})
	})
	s.ts = httptest.NewServer(mux)
	s.URL = s.ts.URL
	return s
}

// Close shuts the server down and waits for pending requests.
func (s *Server) Close() { s.ts.Close() }

// Bots returns copies of every accepted create-bot request, in order.
func (s *Server) Bots() []BotRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]BotRequest, len(s.bots))
	for i, b := range s.bots {
		b.Raw = append(json.RawMessage(nil), b.Raw...)
		b.Header = b.Header.Clone()
		out[i] = b
	}
	return out
}

// FailNext makes the next create-bot request, whatever it holds, answer
// the given status and body (sent as application/json).
func (s *Server) FailNext(status int, body string) {
	s.mu.Lock()
	s.fail = &failure{status: status, body: body}
	s.mu.Unlock()
}

// SetDelay makes create-bot requests wait d before being handled (a request
// whose context ends first gets no answer).
func (s *Server) SetDelay(d time.Duration) { s.delay.Store(int64(d)) }

// Calls returns the number of requests to the create-bot endpoint, accepted
// or not.
func (s *Server) Calls() int { return int(s.calls.Load()) }

// handleBot serves POST /api/v1/bot/.
func (s *Server) handleBot(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"detail": fmt.Sprintf("Method %q not allowed.", r.Method)})
		return
	}
	s.calls.Add(1)
	// Read the body first: the server notices a client that gives up only
	// once the body is consumed.
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"detail": "Request body too large."})
		return
	}
	if d := time.Duration(s.delay.Load()); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	s.mu.Lock()
	f := s.fail
	s.fail = nil
	s.mu.Unlock()
	if f != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.status)
		_, _ = io.WriteString(w, f.body)
		return
	}

	switch key, ok := tokenAuth(r); {
	case !ok:
		writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Authentication credentials were not provided."})
		return
	case subtle.ConstantTimeCompare([]byte(key), []byte(s.apiKey)) != 1:
		writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Invalid token."})
		return
	}

	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		var probe any
		if json.Unmarshal(raw, &probe) == nil {
			writeJSON(w, http.StatusBadRequest, map[string][]string{
				"non_field_errors": {fmt.Sprintf("Invalid data. Expected a dictionary, but got %s.", jsonKind(probe))},
			})
			return
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"detail": "JSON parse error - " + err.Error()})
		return
	}
	var req BotRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string][]string{"non_field_errors": {"Invalid data: " + err.Error()}})
		return
	}
	if v, ok := fields["meeting_url"]; !ok || bytes.Equal(v, []byte("null")) {
		writeJSON(w, http.StatusBadRequest, map[string][]string{"meeting_url": {"This field is required."}})
		return
	}
	if req.MeetingURL == "" {
		writeJSON(w, http.StatusBadRequest, map[string][]string{"meeting_url": {"This field may not be blank."}})
		return
	}

	req.ID = newUUID()
	req.Raw = raw
	req.Header = r.Header.Clone()
	s.mu.Lock()
	s.bots = append(s.bots, req)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{
		"id":             req.ID,
		"meeting_url":    req.MeetingURL,
		"bot_name":       req.BotName,
		"status_changes": []any{},
	})
}

// tokenAuth returns the key of an "Authorization: Token <key>" header.
func tokenAuth(r *http.Request) (string, bool) {
	const prefix = "Token "
	h := r.Header.Get("Authorization")
	if len(h) <= len(prefix) || h[:len(prefix)] != prefix {
		return "", false
	}
	return h[len(prefix):], true
}

// jsonKind names the JSON type of a decoded value the way DRF does.
func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case string:
		return "str"
	case float64:
		return "int"
	case bool:
		return "bool"
	}
	return "NoneType"
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// writeJSON writes v as a JSON response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
