// Package webtest_test drives the integration API mounted on the web
// layer's engine, as the app mounts it: the connect-link flow goes through
// the API (POST /api/v1/connect-links), the web layer's /connect/{link},
// Zoom's consent and the OAuth callback, back to the product's return_to.
// It lives apart from the API's own tests so that a web layer in the
// middle of a change cannot stop those from building.
package webtest_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/api"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
	"github.com/onbehalf/onbehalf/internal/tokens"
	"github.com/onbehalf/onbehalf/internal/web"
	"github.com/onbehalf/onbehalf/internal/zoom"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

const (
	key    = "test-key-0123456789-abcdefghij"
	appURL = "https://app.example.com"
)

// server is the web layer with the API mounted, over the real store and
// token manager, talking to a fake Zoom.
type server struct {
	srv   *httptest.Server
	zoom  *zoomdemo.Server
	store *bolt.Store
}

// newServer starts the server; edit changes the web options first.
func newServer(t *testing.T, edit ...func(*web.Options)) *server {
	t.Helper()
	s := &server{zoom: zoomdemo.New("cid", "csecret")}
	t.Cleanup(s.zoom.Close)
	st, err := bolt.Open(filepath.Join(t.TempDir(), "web.db"), bolt.Options{ReserveBytes: bolt.NoReserve})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var h http.Handler
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(s.srv.Close)
	zc := zoom.New(zoom.Options{ClientID: "cid", ClientSecret: "csecret", RedirectURI: s.srv.URL + "/zoom/oauth-callback",
		OAuthURL: s.zoom.URL, APIURL: s.zoom.APIURL(), Timeout: 5 * time.Second})
	mgr := &tokens.Manager{Store: st, Zoom: zc, Revoker: zc, Logger: log}
	t.Cleanup(func() { mgr.Close(); st.Close() })
	s.store = st
	wo := web.Options{BaseURL: s.srv.URL, RedirectURI: s.srv.URL + "/zoom/oauth-callback",
		SessionSecret: "session-secret-0123456789-0123456789", Store: st, Connector: mgr, OAuth: zc, Logger: log}
	for _, f := range edit {
		f(&wo)
	}
	w, err := web.New(wo)
	if err != nil {
		t.Fatal(err)
	}
	api.Mount(w.Engine().Group("/api/v1"), api.Options{BaseURL: s.srv.URL, Keys: []string{key}, ReturnOrigins: []string{appURL},
		Store: st, Connector: mgr, Minter: mgr, OAuth: zc, Logger: log})
	h = w.Engine()
	return s
}

// call makes an API call and decodes its JSON reply into out.
func (s *server) call(t *testing.T, method, path, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, s.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if strings.Contains(string(raw), "zat_") || strings.Contains(string(raw), "zrt_") {
		t.Fatalf("reply holds a Zoom token: %s", raw)
	}
	if out != nil && json.Unmarshal(raw, out) != nil {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode
}

// follow walks a new browser through a connect link (its consent page,
// then Continue) until it would leave for the product's origin, and
// returns that last URL.
func follow(t *testing.T, u string) *url.URL {
	t.Helper()
	b := newBrowser(t, "")
	if st, page := b.open(t, u, true); st != 200 || !strings.Contains(page, `id="continue"`) {
		t.Fatalf("consent page: %d %.300s", st, page)
	}
	st, page := b.cont(t, u)
	if b.last == nil {
		t.Fatalf("the browser ended with %d: %.300s", st, page)
	}
	return b.last
}

func TestConnectLinkFlow(t *testing.T) {
	s := newServer(t)
	var link struct{ URL string }
	if st := s.call(t, http.MethodPost, "/api/v1/connect-links",
		`{"external_user_id":"user-7","metadata":{"plan":"team"},"return_to":"`+appURL+`/zoom/done?x=1"}`, &link); st != 201 {
		t.Fatalf("connect link: %d", st)
	}
	back := follow(t, link.URL)
	connID := back.Query().Get("connection_id")
	if back.Path != "/zoom/done" || back.Query().Get("x") != "1" || connID == "" {
		t.Fatalf("returned to %s", back)
	}
	var c map[string]any
	if st := s.call(t, http.MethodGet, "/api/v1/connections/"+connID, "", &c); st != 200 ||
		c["external_user_id"] != "user-7" || c["zoom_user_id"] != zoomdemo.DefaultUserID || c["state"] != "connected" {
		t.Fatalf("connection: %d %v", st, c)
	}
	if m, _ := c["metadata"].(map[string]any); m["plan"] != "team" {
		t.Fatalf("metadata %v", c["metadata"])
	}
	// The link works once.
	if st, _ := newBrowser(t, "").open(t, link.URL, true); st != http.StatusConflict {
		t.Fatalf("used link: %d", st)
	}
	// Minting by the product's own user ID.
	var tok struct{ Token string }
	if st := s.call(t, http.MethodPost, "/api/v1/tokens", `{"external_user_id":"user-7","kind":"obf","meeting_id":"85012345678"}`, &tok); st != 200 || !strings.HasPrefix(tok.Token, "obf_") {
		t.Fatalf("mint: %d %+v", st, tok)
	}
}

// The API's replies pass through the web layer's middleware: request IDs
// and security headers.
func TestAPIBehindWebMiddleware(t *testing.T) {
	s := newServer(t)
	req, _ := http.NewRequest(http.MethodGet, s.srv.URL+"/api/v1/connections", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Request-ID") == "" || resp.Header.Get("Cache-Control") != "no-store" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
}
