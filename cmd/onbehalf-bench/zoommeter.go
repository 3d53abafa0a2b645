package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// zoomMeter serves the fake Zoom on a listener of its own through a
// handler that times every call inside the fake: from the moment the
// fake's handler is entered (the request's header read) to its return,
// which covers its delay (SetMintDelay, SetRefreshDelay) and its own work.
// While recording, it keeps for each mint the access token presented, the
// meeting and the token minted, and for each refresh the refresh token
// presented and the access token issued, so that every call can be
// charged to the connection it was made for. The fake itself is not
// changed: its handler is zoomdemo's ConsentHandler, which is the bare
// fake for every route but the browser's authorize page (unused here).
type zoomMeter struct {
	srv   *httptest.Server
	inner http.Handler
	on    atomic.Bool

	mu    sync.Mutex
	calls []zoomCall
}

// Kinds of zoomCall.
const (
	callMint = iota + 1
	callRefresh
	callOther
)

// zoomCall is one request the fake answered while recording.
type zoomCall struct {
	kind int
	// presented is the access token (mint) or refresh token (refresh)
	// the request carried.
	presented string
	meeting   string
	status    int
	body      []byte
	took      time.Duration
}

// issued returns the token the call handed out: the minted token of a
// mint, the new access token of a refresh ("" when it failed).
func (c *zoomCall) issued() string {
	if c.status != http.StatusOK {
		return ""
	}
	var v struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(c.body, &v) != nil {
		return ""
	}
	if c.kind == callMint {
		return v.Token
	}
	return v.AccessToken
}

// newZoomMeter starts the timing front of the fake. Use URL as
// ZOOM_OAUTH_URL and APIURL as ZOOM_API_URL.
func newZoomMeter(f *fakes) *zoomMeter {
	m := &zoomMeter{inner: f.zoom.ConsentHandler(zoomdemo.Consent{})}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	return m
}

// URL is the OAuth base URL; APIURL the REST base URL.
func (m *zoomMeter) URL() string    { return m.srv.URL }
func (m *zoomMeter) APIURL() string { return m.srv.URL + "/v2" }

// Close stops the listener.
func (m *zoomMeter) Close() { m.srv.Close() }

// record starts recording (dropping what was recorded); stop stops it and
// returns the calls.
func (m *zoomMeter) record() {
	m.mu.Lock()
	m.calls = nil
	m.mu.Unlock()
	m.on.Store(true)
}

func (m *zoomMeter) stop() []zoomCall {
	m.on.Store(false)
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.calls
	m.calls = nil
	return out
}

// serve times one request.
func (m *zoomMeter) serve(w http.ResponseWriter, r *http.Request) {
	if !m.on.Load() {
		m.inner.ServeHTTP(w, r)
		return
	}
	t0 := time.Now()
	c := zoomCall{kind: callOther}
	switch {
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/token") && strings.HasPrefix(r.URL.Path, "/v2/users/"):
		c.kind = callMint
		c.presented = strings.TrimSpace(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		c.meeting = r.URL.Query().Get("meeting_id")
	case r.Method == http.MethodPost && r.URL.Path == "/oauth/token":
		b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err == nil {
			r.Body = io.NopCloser(bytes.NewReader(b))
			if q, err := url.ParseQuery(string(b)); err == nil && q.Get("grant_type") == "refresh_token" {
				c.kind = callRefresh
				c.presented = q.Get("refresh_token")
			}
		}
	}
	tw := &teeWriter{ResponseWriter: w}
	m.inner.ServeHTTP(tw, r)
	c.took = time.Since(t0)
	c.status, c.body = tw.status, tw.buf.Bytes()
	if c.status == 0 {
		c.status = http.StatusOK
	}
	m.mu.Lock()
	m.calls = append(m.calls, c)
	m.mu.Unlock()
}

// teeWriter keeps a copy of the status and body it writes.
type teeWriter struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (t *teeWriter) WriteHeader(code int) {
	if t.status == 0 {
		t.status = code
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *teeWriter) Write(b []byte) (int, error) {
	if t.status == 0 {
		t.status = http.StatusOK
	}
	t.buf.Write(b)
	return t.ResponseWriter.Write(b)
}

// zoomLedger charges the recorded calls to connections: a call belongs to
// the connection whose access token (mint) or refresh token (refresh) it
// presented, and a refresh makes its new access token the connection's.
type zoomLedger struct {
	// took is the time the fake spent on each connection's calls.
	took []time.Duration
	// mints, refreshes and failedMints count each connection's calls.
	mints, refreshes, failedMints []int
	// minted maps each minted token to its connection and meeting.
	minted map[string]mintedFor
	// unknown counts calls no connection presented the token of.
	unknown int
}

// mintedFor is the connection and meeting a token was minted for.
type mintedFor struct {
	conn    int
	meeting string
}

// newLedger charges calls to the n connections whose first access and
// refresh tokens are access[i] and refresh[i].
func newLedger(calls []zoomCall, access, refresh []string) *zoomLedger {
	n := len(access)
	l := &zoomLedger{took: make([]time.Duration, n), mints: make([]int, n), refreshes: make([]int, n),
		failedMints: make([]int, n), minted: make(map[string]mintedFor, n)}
	byAccess := make(map[string]int, n)
	byRefresh := make(map[string]int, n)
	for i := range n {
		byAccess[access[i]] = i
		byRefresh[refresh[i]] = i
	}
	// Refreshes first: the access tokens they issue are the ones later
	// mints present.
	for i := range calls {
		c := &calls[i]
		if c.kind != callRefresh {
			continue
		}
		conn, ok := byRefresh[c.presented]
		if !ok {
			l.unknown++
			continue
		}
		l.took[conn] += c.took
		l.refreshes[conn]++
		if at := c.issued(); at != "" {
			byAccess[at] = conn
		}
	}
	for i := range calls {
		c := &calls[i]
		if c.kind == callRefresh {
			continue
		}
		conn, ok := byAccess[c.presented]
		if c.kind != callMint || !ok {
			l.unknown++
			continue
		}
		l.took[conn] += c.took
		tok := c.issued()
		if tok == "" {
			l.failedMints[conn]++
			continue
		}
		l.mints[conn]++
		l.minted[tok] = mintedFor{conn: conn, meeting: c.meeting}
	}
	return l
}
