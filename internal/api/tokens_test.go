package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/api"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/ratelimit"
	"github.com/onbehalf/onbehalf/internal/tokens"
	"github.com/onbehalf/onbehalf/internal/zoom"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// tokenReply is the reply of POST /tokens.
type tokenReply struct {
	Token     string `json:"token"`
	Kind      string `json:"kind"`
	ExpiresIn int    `json:"expires_in"`
}

// mint calls POST /tokens and wants a token.
func (e *env) mint(t *testing.T, body map[string]any) tokenReply {
	t.Helper()
	r := e.call(t, http.MethodPost, "/api/v1/tokens", body)
	if r.status != 200 {
		t.Fatalf("mint %v: %d %s", body, r.status, r.body)
	}
	var out tokenReply
	r.decode(t, &out)
	return out
}

func TestMintByEachIdentifier(t *testing.T) {
	e := newEnv(t)
	e.addUser("zu_ann")
	e.zoom.SetHost(meeting, "zu_ann")
	id := e.connect(t, "zu_ann", "user-ann")["id"].(string)

	if got := e.mint(t, map[string]any{"connection_id": id, "kind": "obf", "meeting_id": meeting}); !strings.HasPrefix(got.Token, "obf_") || got.Kind != "obf" || got.ExpiresIn != 0 {
		t.Fatalf("obf: %+v", got)
	}
	if got := e.mint(t, map[string]any{"zoom_user_id": "zu_ann", "kind": "zak"}); !strings.HasPrefix(got.Token, "zak_") || got.ExpiresIn != 7200 {
		t.Fatalf("zak: %+v", got)
	}
	if got := e.mint(t, map[string]any{"external_user_id": "user-ann", "kind": "join", "meeting_id": meeting}); !strings.HasPrefix(got.Token, zoomdemo.JoinTokenPrefix) {
		t.Fatalf("join: %+v", got)
	}
	// meeting_url, as the other calls take it: a link or an invitation.
	if got := e.mint(t, map[string]any{"connection_id": id, "kind": "obf", "meeting_url": "Join Zoom Meeting https://us02web.zoom.us/j/" + meeting + "?pwd=x"}); !strings.HasPrefix(got.Token, "obf_") {
		t.Fatalf("obf by meeting_url: %+v", got)
	}
	minted := e.zoom.Minted()
	if len(minted) != 4 {
		t.Fatalf("minted %d tokens at Zoom", len(minted))
	}

	// The connection's last mint is recorded (in a batch, shortly after).
	eventually(t, "last_minted_at was not recorded", func() bool {
		var c map[string]any
		e.call(t, http.MethodGet, "/api/v1/connections/"+id, nil).decode(t, &c)
		return c["last_minted_at"] != nil
	})
}

func TestMintRefusesBadInput(t *testing.T) {
	e := newEnv(t)
	e.addUser("zu_ann")
	e.addUser("zu_bob")
	id := e.grant(t, "zu_ann", "shared", time.Now().Add(time.Hour))
	e.grant(t, "zu_bob", "shared", time.Now().Add(time.Hour))
	for name, tc := range map[string]struct {
		body   map[string]any
		status int
		code   string
		field  string
	}{
		"no identifier":     {map[string]any{"kind": "zak"}, 400, onbehalf.EINVALID, "connection_id"},
		"two identifiers":   {map[string]any{"connection_id": id, "zoom_user_id": "zu_ann", "kind": "zak"}, 400, onbehalf.EINVALID, "connection_id"},
		"empty identifier":  {map[string]any{"connection_id": "", "kind": "zak"}, 400, onbehalf.EINVALID, "connection_id"},
		"no kind":           {map[string]any{"connection_id": id}, 400, onbehalf.EINVALID, "kind"},
		"bad kind":          {map[string]any{"connection_id": id, "kind": "OBF"}, 400, onbehalf.EINVALID, "kind"},
		"kind list":         {map[string]any{"connection_id": id, "kind": []string{"obf"}}, 400, onbehalf.EINVALID, "kind"},
		"no meeting":        {map[string]any{"connection_id": id, "kind": "obf"}, 400, onbehalf.EINVALID, "meeting_id"},
		"short meeting":     {map[string]any{"connection_id": id, "kind": "join", "meeting_id": "1234"}, 400, onbehalf.EINVALID, "meeting_id"},
		"meeting number":    {map[string]any{"connection_id": id, "kind": "obf", "meeting_id": 85012345678}, 400, onbehalf.EINVALID, "meeting_id"},
		"bad meeting_url":   {map[string]any{"connection_id": id, "kind": "obf", "meeting_url": "https://evil.example/j/85012345678"}, 400, onbehalf.EINVALID, "meeting_url"},
		"url and id":        {map[string]any{"connection_id": id, "kind": "obf", "meeting_url": "https://zoom.us/j/" + meeting, "meeting_id": meeting}, 400, onbehalf.EINVALID, "meeting_id"},
		"unknown field":     {map[string]any{"connection_id": id, "kind": "zak", "user": "x"}, 400, onbehalf.EINVALID, "user"},
		"numeric conn":      {map[string]any{"connection_id": 5, "kind": "zak"}, 400, onbehalf.EINVALID, "connection_id"},
		"numeric email":     {map[string]any{"email": true, "kind": "zak"}, 400, onbehalf.EINVALID, "email"},
		"bad email":         {map[string]any{"email": "nope", "kind": "zak"}, 400, onbehalf.EINVALID, "email"},
		"unknown conn":      {map[string]any{"connection_id": "nope", "kind": "zak"}, 404, onbehalf.ENOTFOUND, "connection_id"},
		"unknown zoom":      {map[string]any{"zoom_user_id": "zu_nobody", "kind": "zak"}, 404, onbehalf.ENOTFOUND, "zoom_user_id"},
		"unknown external":  {map[string]any{"external_user_id": "nobody", "kind": "zak"}, 404, onbehalf.ENOTFOUND, "external_user_id"},
		"ambiguous":         {map[string]any{"external_user_id": "shared", "kind": "zak"}, 409, onbehalf.ECONFLICT, "external_user_id"},
		"email, no account": {map[string]any{"email": "a@example.com", "kind": "zak"}, 404, onbehalf.ENOTFOUND, "email"},
	} {
		t.Run(name, func(t *testing.T) {
			e.call(t, http.MethodPost, "/api/v1/tokens", tc.body).wantError(t, tc.status, tc.code, tc.field)
		})
	}
	r := e.call(t, http.MethodPost, "/api/v1/tokens", map[string]any{"email": "a@example.com", "kind": "zak"})
	if msg := r.wantError(t, 404, onbehalf.ENOTFOUND, "email").Error.Message; !strings.Contains(msg, "ZOOM_ACCOUNT_ID") || !strings.Contains(msg, "ZOOM_S2S_CLIENT_SECRET") {
		t.Fatalf("no hint to turn account mode on: %s", msg)
	}
	r = e.call(t, http.MethodPost, "/api/v1/tokens", map[string]any{"external_user_id": "shared", "kind": "zak"})
	if msg := r.wantError(t, 409, onbehalf.ECONFLICT, "external_user_id").Error.Message; !strings.Contains(msg, id) {
		t.Fatalf("the conflict does not list the connections: %s", msg)
	}
	if n := e.zoom.MintCalls(); n != 0 {
		t.Fatalf("%d mints at Zoom for refused requests", n)
	}
}

func TestMintDeadConnection(t *testing.T) {
	e := newEnv(t)
	e.addUser("zu_ann")
	id := e.grant(t, "zu_ann", "", time.Now().Add(time.Minute)) // due for a refresh
	e.zoom.RevokeGrant("zu_ann")
	r := e.call(t, http.MethodPost, "/api/v1/tokens", map[string]any{"connection_id": id, "kind": "zak"})
	if msg := r.wantError(t, 409, onbehalf.EDISCONNECTED, "connection_id").Error.Message; !strings.Contains(msg, "connect-links") {
		t.Fatalf("message: %s", msg)
	}
	var c map[string]any
	e.call(t, http.MethodGet, "/api/v1/connections/"+id, nil).decode(t, &c)
	if c["state"] != "disconnected" || c["disconnected_reason"] == nil {
		t.Fatalf("connection %v", c)
	}
}

func TestMintRelaysZoomRefusal(t *testing.T) {
	e := newEnv(t)
	e.addUser("zu_ann")
	e.addUser("zu_host")
	e.zoom.SetHost(meeting, "zu_host")
	id := e.grant(t, "zu_ann", "", time.Now().Add(time.Hour))
	r := e.call(t, http.MethodPost, "/api/v1/tokens", map[string]any{"connection_id": id, "kind": "join", "meeting_id": meeting})
	if msg := r.wantError(t, 502, onbehalf.EUPSTREAM, "").Error.Message; !strings.Contains(msg, "Zoom error 3000") {
		t.Fatalf("message: %s", msg)
	}
}

func TestMintSharesConnectionRateLimit(t *testing.T) {
	perConn := ratelimit.PerMinute(2, 100)
	e := newEnv(t, func(o *api.Options) { o.PerConnection = perConn })
	e.addUser("zu_ann")
	id := e.grant(t, "zu_ann", "", time.Now().Add(time.Hour))
	perConn.Allow(id, time.Now()) // a token callback took one
	e.mint(t, map[string]any{"connection_id": id, "kind": "zak"})
	r := e.call(t, http.MethodPost, "/api/v1/tokens", map[string]any{"connection_id": id, "kind": "zak"})
	r.wantError(t, 429, onbehalf.ETOOMANY, "")
	if r.header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
}

func TestMintAccountMode(t *testing.T) {
	e := accountEnv(t)
	if got := e.mint(t, map[string]any{"email": "host@example.com", "kind": "zak"}); !strings.HasPrefix(got.Token, "zak_") || got.ExpiresIn != 7200 {
		t.Fatalf("zak by email: %+v", got)
	}
	if got := e.mint(t, map[string]any{"zoom_user_id": "zu_acct", "kind": "zak"}); !strings.HasPrefix(got.Token, "zak_") {
		t.Fatalf("zak by user ID: %+v", got)
	}
	// OBF for an account user: Zoom's refusal, in its words, with what to
	// do.
	r := e.call(t, http.MethodPost, "/api/v1/tokens", map[string]any{"email": "host@example.com", "kind": "obf", "meeting_id": meeting})
	if msg := r.wantError(t, 502, onbehalf.EUPSTREAM, "").Error.Message; !strings.Contains(msg, "user's own OAuth access token") {
		t.Fatalf("OBF refusal: %s", msg)
	}
	e.call(t, http.MethodPost, "/api/v1/tokens", map[string]any{"email": "nobody@example.com", "kind": "zak"}).
		wantError(t, 404, onbehalf.ENOTFOUND, "email")
	// A connected user of the account is minted for by connection.
	e.addUser("zu_ann")
	e.grant(t, "zu_ann", "", time.Now().Add(time.Hour))
	e.zoom.AllowAccountOBF(false)
	if got := e.mint(t, map[string]any{"zoom_user_id": "zu_ann", "kind": "obf", "meeting_id": meeting}); !strings.HasPrefix(got.Token, "obf_") {
		t.Fatalf("connected user: %+v", got)
	}
	if n := e.zoom.AccountTokenGrants(); n != 1 {
		t.Fatalf("%d account token grants", n)
	}
}

// accountEnv is an env in account mode: a Server-to-Server app of
// acct_1, whose user zu_acct has no connection. The minter is built once
// the fake Zoom exists.
func accountEnv(t *testing.T) *env {
	t.Helper()
	acct := &lateAccount{}
	e := newEnv(t, func(o *api.Options) { o.Account = acct })
	acct.a = &tokens.Account{Zoom: zoom.New(zoom.Options{OAuthURL: e.zoom.URL, APIURL: e.zoom.APIURL(), Timeout: 5 * time.Second,
		AccountID: "acct_1", S2SClientID: "s2s", S2SClientSecret: "s2s-secret-0123456789"})}
	e.secrets = append(e.secrets, "s2s-secret-0123456789")
	e.zoom.EnableAccount("acct_1", "s2s", "s2s-secret-0123456789")
	e.zoom.AddUser(zoomdemo.User{ID: "zu_acct", AccountID: "acct_1", Email: "Host@Example.com"})
	return e
}

// lateAccount is an account minter set after the env is built.
type lateAccount struct{ a *tokens.Account }

func (l *lateAccount) Mint(ctx context.Context, user string, kind onbehalf.TokenKind, meetingID string) (string, error) {
	return l.a.Mint(ctx, user, kind, meetingID)
}
