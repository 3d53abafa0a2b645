package api_test

import (
	"bytes"
	"context"
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

	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/api"
	"github.com/onbehalf/onbehalf/internal/bots"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/recall"
	"github.com/onbehalf/onbehalf/internal/platform/recall/recalldemo"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
	"github.com/onbehalf/onbehalf/internal/tokens"
	"github.com/onbehalf/onbehalf/internal/tokenserve"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
	"github.com/onbehalf/onbehalf/internal/zoom"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

const (
	testKey  = "test-key-0123456789-abcdefghij"
	meeting  = "85012345678"
	redirect = "https://app.example.com/zoom/callback"
	appURL   = "https://app.example.com"
)

// env is the API mounted on a Gin engine over the real bbolt store, the
// token manager, the launch service with the Recall.ai adapter, and the
// token handler, talking to fake Zoom and a fake Recall.ai.
type env struct {
	srv    *httptest.Server
	zoom   *zoomdemo.Server
	zc     *zoom.Client
	recall *recalldemo.Fake
	store  *bolt.Store
	mgr    *tokens.Manager
	bots   *bots.Service
	engine *gin.Engine
	// secrets are strings no reply may ever hold.
	secrets []string
}

// newEnv starts an env; edit changes the API's options before they are
// used.
func newEnv(t testing.TB, edit ...func(*api.Options)) *env {
	t.Helper()
	e := &env{zoom: zoomdemo.New("cid", "csecret"), recall: recalldemo.New(recalldemo.Options{APIKey: "rkey"})}
	t.Cleanup(e.zoom.Close)
	t.Cleanup(e.recall.Close)
	st, err := bolt.Open(filepath.Join(t.TempDir(), "api.db"), bolt.Options{ReserveBytes: bolt.NoReserve})
	if err != nil {
		t.Fatal(err)
	}
	e.store = st
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	var h http.Handler
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	e.zc = zoom.New(zoom.Options{ClientID: "cid", ClientSecret: "csecret", RedirectURI: e.srv.URL + "/zoom/oauth-callback",
		OAuthURL: e.zoom.URL, APIURL: e.zoom.APIURL(), Timeout: 5 * time.Second})
	e.mgr = &tokens.Manager{Store: st, Zoom: e.zc, Revoker: e.zc, Logger: log}
	rc, err := recall.New(recall.Config{APIKey: "rkey", BaseURL: e.recall.URL()}, platform.Deps{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	signer := &tokenurl.Signer{Key: tokenurl.NewKey(), TTL: 168 * time.Hour}
	// ZAKs on (ALLOW_ZAK=true): most tests mint them; TestZAKOffByDefault
	// turns them off.
	e.bots = &bots.Service{Store: st, Platforms: []onbehalf.Platform{rc}, Signer: signer, BaseURL: e.srv.URL, AllowZAK: true, Logger: log}
	e.bots.Start()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.bots.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; e.mgr.Close(); st.Close() })

	gin.SetMode(gin.ReleaseMode)
	e.engine = gin.New()
	ts := tokenserve.New(tokenserve.Options{Signer: signer, Minter: e.mgr, BaseURL: e.srv.URL, Recorder: e.bots, Logger: log, AllowZAK: true})
	for _, p := range e.bots.Platforms {
		for _, rt := range p.TokenRoutes() {
			for _, m := range rt.Methods {
				e.engine.Handle(m, rt.Path, func(c *gin.Context) { ts.Serve(c.Writer, c.Request, p, rt, c.ClientIP()) })
			}
		}
	}
	o := api.Options{
		BaseURL: e.srv.URL, Platforms: []string{rc.Name()}, Keys: []string{testKey}, ReturnOrigins: []string{appURL},
		TokenURLTTL: 168 * time.Hour, Store: st, Connector: e.mgr, Minter: e.mgr, Bots: e.bots,
		OAuth: e.zc, Recorder: e.bots, Logger: log, AllowZAK: true,
	}
	for _, f := range edit {
		f(&o)
	}
	e.secrets = append([]string{"csecret", "rkey"}, o.Keys...)
	api.Mount(e.engine.Group("/api/v1"), o)
	h = e.engine
	return e
}

// reply is an API answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// decode decodes the reply's JSON into v.
func (r reply) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %d %s: %v", r.status, r.body, err)
	}
}

// apiError is an error reply's content.
type apiError struct {
	Error struct {
		Code, Message, Field string
	}
}

// wantError checks that the reply is the error status/code about field.
func (r reply) wantError(t testing.TB, status int, code, field string) apiError {
	t.Helper()
	var e apiError
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	r.decode(t, &e)
	if e.Error.Code != code || e.Error.Field != field || e.Error.Message == "" {
		t.Fatalf("error %+v, want code %q field %q", e.Error, code, field)
	}
	return e
}

// call makes an API call with the test key; body is a string (sent as
// is) or a value (sent as JSON).
func (e *env) call(t testing.TB, method, path string, body any) reply {
	t.Helper()
	return e.callKey(t, testKey, method, path, body)
}

// callKey makes an API call with the given key ("" for none) and checks
// the reply holds no token material and agrees with openapi.json.
func (e *env) callKey(t testing.TB, key, method, path string, body any) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, body: raw}
	e.scan(t, path, r)
	conforms(t, req, r)
	return r
}

// scan fails the test when a reply holds token material: Zoom access,
// refresh or account tokens, a client secret or an API key anywhere, and
// minted tokens anywhere but in the replies of /tokens.
func (e *env) scan(t testing.TB, path string, r reply) {
	t.Helper()
	all := string(r.body)
	for k, vs := range r.header {
		all += "\n" + k + ": " + strings.Join(vs, " ")
	}
	for _, s := range append([]string{"zat_", "zrt_", "zacc_"}, e.secrets...) {
		if strings.Contains(all, s) {
			t.Fatalf("reply of %s holds token material %q: %s", path, s, all)
		}
	}
	if !strings.HasPrefix(path, "/api/v1/tokens") {
		for _, tok := range e.zoom.Minted() {
			if strings.Contains(all, tok) {
				t.Fatalf("reply of %s holds a minted token: %s", path, all)
			}
		}
	}
	if r.status != http.StatusNoContent && r.status < 500 && !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") &&
		!strings.HasPrefix(r.header.Get("Content-Type"), "text/event-stream") && path != "/api/v1/reference" {
		t.Fatalf("reply of %s is %q, not JSON: %d %s", path, r.header.Get("Content-Type"), r.status, r.body)
	}
}

// authorize has the fake Zoom approve an authorization request for user
// with redirect as redirect URI (no PKCE: a backend's own flow) and
// returns the code.
func (e *env) authorize(t testing.TB, user string) string {
	t.Helper()
	q := url.Values{"client_id": {"cid"}, "response_type": {"code"}, "redirect_uri": {redirect}, "fake_user": {user}}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(e.zoom.URL + "/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("authorize %s: %d %s", user, resp.StatusCode, resp.Header.Get("Location"))
	}
	return code
}

// addUser adds a Zoom user to the fake.
func (e *env) addUser(id string) {
	e.zoom.AddUser(zoomdemo.User{ID: id, AccountID: "acct_1", Email: id + "@example.com", FirstName: "User", LastName: id})
}

// connect connects a Zoom user through POST /connections for an external
// user and returns the connection's JSON.
func (e *env) connect(t testing.TB, user, external string) map[string]any {
	t.Helper()
	body := map[string]any{"code": e.authorize(t, user), "redirect_uri": redirect}
	if external != "" {
		body["external_user_id"] = external
	}
	r := e.call(t, http.MethodPost, "/api/v1/connections", body)
	if r.status != http.StatusCreated {
		t.Fatalf("connect %s: %d %s", user, r.status, r.body)
	}
	var c map[string]any
	r.decode(t, &c)
	return c
}

// grant stores a connection for a Zoom user directly through the manager
// (fast: no HTTP), with an access token expiring at expiry.
func (e *env) grant(t testing.TB, user, external string, expiry time.Time) string {
	t.Helper()
	at, rt := e.zoom.IssueGrant(user)
	c, _, err := e.mgr.Connect(context.Background(), onbehalf.Authorization{
		User:           onbehalf.ZoomUser{ID: user, AccountID: "acct_1", Email: user + "@example.com"},
		Token:          onbehalf.Token{AccessToken: at, RefreshToken: rt, Expiry: expiry, Scope: zoomdemo.Scope},
		ExternalUserID: external,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// events returns the store's events of a type.
func (e *env) events(t testing.TB, typ string) []map[string]any {
	t.Helper()
	evs, err := e.store.EventsAfter(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, ev := range evs {
		if ev.Type != typ {
			continue
		}
		var d map[string]any
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// eventually waits up to 5 s for cond (the bots service writes token
// fetches in batches), failing with what otherwise.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
