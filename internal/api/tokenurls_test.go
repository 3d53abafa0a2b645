package api_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// onePlatform is a platform whose one token URL serves every kind (as
// Attendee's does).
type onePlatform struct{ onebehalfPlatform }

// onebehalfPlatform leaves what the test does not call unimplemented.
type onebehalfPlatform = onbehalf.Platform

func (onePlatform) Name() string  { return "one" }
func (onePlatform) Title() string { return "One URL" }
func (onePlatform) PlanTokenURLs(kinds []onbehalf.TokenKind) ([]onbehalf.TokenURLPlan, error) {
	return []onbehalf.TokenURLPlan{{Path: "/one/tokens", Kinds: kinds}}, nil
}

// tokenURLs is the reply of POST /connections/{id}/token-urls.
type tokenURLs struct {
	OBF       string    `json:"obf_token_url"`
	ZAK       string    `json:"zak_token_url"`
	Join      string    `json:"join_token_url"`
	ExpiresAt time.Time `json:"expires_at"`
}

func TestTokenURLs(t *testing.T) {
	e := newEnv(t)
	e.addUser("zu_ann")
	e.zoom.SetHost(meeting, "zu_ann")
	id := e.grant(t, "zu_ann", "", time.Now().Add(time.Hour))
	path := "/api/v1/connections/" + id + "/token-urls"

	r := e.call(t, http.MethodPost, path, map[string]any{"platform": "recall", "meeting_url": "https://us02web.zoom.us/j/" + meeting + "?pwd=x",
		"kinds": []string{"join", "obf", "zak"}, "ttl": "2h"})
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var got tokenURLs
	r.decode(t, &got)
	if got.OBF == "" || got.ZAK == "" || got.Join == "" || got.OBF == got.ZAK || got.ZAK == got.Join {
		t.Fatalf("urls %+v", got)
	}
	if d := time.Until(got.ExpiresAt); d < 119*time.Minute || d > 121*time.Minute {
		t.Fatalf("expires in %s", d)
	}
	// Each URL serves its kind, as Recall's bot fetches it.
	for kind, u := range map[onbehalf.TokenKind]string{onbehalf.KindOBF: got.OBF, onbehalf.KindZAK: got.ZAK, onbehalf.KindJoin: got.Join} {
		if !strings.HasPrefix(u, e.srv.URL+"/") {
			t.Fatalf("%s url %q", kind, u)
		}
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 256)
		n, _ := resp.Body.Read(buf)
		resp.Body.Close()
		if resp.StatusCode != 200 || n == 0 || strings.ContainsAny(string(buf[:n]), " \n{") {
			t.Fatalf("%s fetch: %d %q", kind, resp.StatusCode, buf[:n])
		}
	}

	// Only the kinds asked for; OBF by default; TTL in seconds.
	r = e.call(t, http.MethodPost, path, map[string]any{"platform": "recall", "meeting_id": meeting, "ttl": 600})
	var only map[string]any
	r.decode(t, &only)
	if r.status != 200 || only["obf_token_url"] == nil || only["zak_token_url"] != nil || only["join_token_url"] != nil {
		t.Fatalf("default kinds: %d %s", r.status, r.body)
	}
	u, _ := url.Parse(only["obf_token_url"].(string))
	// Bound to the platform asked for: refused on any other platform's
	// routes (internal/tokenserve).
	if u.Query().Get("meeting_id") != meeting || u.Query().Get("user_id") != id || u.Query().Get("platform") != "recall" {
		t.Fatalf("url %s", u)
	}

	// A platform whose one URL serves several kinds: the same URL under
	// each key.
	e.bots.Platforms = append(e.bots.Platforms, onePlatform{})
	r = e.call(t, http.MethodPost, path, map[string]any{"platform": "one", "meeting_id": meeting, "kinds": []string{"obf", "join"}})
	var one tokenURLs
	r.decode(t, &one)
	if r.status != 200 || one.OBF == "" || one.OBF != one.Join || one.ZAK != "" {
		t.Fatalf("one URL: %d %s", r.status, r.body)
	}
	if u, _ := url.Parse(one.OBF); u.Query().Get("platform") != "one" {
		t.Fatalf("one URL %s: want platform=one", one.OBF)
	}
}

func TestTokenURLsRefusesBadInput(t *testing.T) {
	e := newEnv(t)
	e.addUser("zu_ann")
	id := e.grant(t, "zu_ann", "", time.Now().Add(time.Hour))
	path := "/api/v1/connections/" + id + "/token-urls"
	for name, tc := range map[string]struct {
		path   string
		body   map[string]any
		status int
		code   string
		field  string
	}{
		"unknown connection": {"/api/v1/connections/nope/token-urls", map[string]any{"meeting_id": meeting}, 404, onbehalf.ENOTFOUND, "id"},
		"no meeting":         {path, map[string]any{"platform": "recall"}, 400, onbehalf.EINVALID, "meeting_url"},
		"both":               {path, map[string]any{"meeting_id": meeting, "meeting_url": "https://zoom.us/j/" + meeting}, 400, onbehalf.EINVALID, "meeting_id"},
		"bad meeting url":    {path, map[string]any{"meeting_url": "https://evil.example.com/j/" + meeting}, 400, onbehalf.EINVALID, "meeting_url"},
		"bad meeting id":     {path, map[string]any{"meeting_id": "12"}, 400, onbehalf.EINVALID, "meeting_id"},
		"unknown platform":   {path, map[string]any{"platform": "zoombot", "meeting_id": meeting}, 400, onbehalf.EINVALID, "platform"},
		"unknown kind":       {path, map[string]any{"meeting_id": meeting, "kinds": []string{"obf", "pat"}}, 400, onbehalf.EINVALID, "kinds"},
		"kind twice":         {path, map[string]any{"meeting_id": meeting, "kinds": []string{"obf", "obf"}}, 400, onbehalf.EINVALID, "kinds"},
		"kinds string":       {path, map[string]any{"meeting_id": meeting, "kinds": "obf"}, 400, onbehalf.EINVALID, "kinds"},
		"ttl too long":       {path, map[string]any{"meeting_id": meeting, "ttl": "169h"}, 400, onbehalf.EINVALID, "ttl"},
		"ttl seconds long":   {path, map[string]any{"meeting_id": meeting, "ttl": 1 << 62}, 400, onbehalf.EINVALID, "ttl"},
		"ttl negative":       {path, map[string]any{"meeting_id": meeting, "ttl": -5}, 400, onbehalf.EINVALID, "ttl"},
		"ttl garbage":        {path, map[string]any{"meeting_id": meeting, "ttl": "soon"}, 400, onbehalf.EINVALID, "ttl"},
		"ttl fraction":       {path, map[string]any{"meeting_id": meeting, "ttl": 1.5}, 400, onbehalf.EINVALID, "ttl"},
		"unknown field":      {path, map[string]any{"meeting_id": meeting, "kind": "obf"}, 400, onbehalf.EINVALID, "kind"},
	} {
		t.Run(name, func(t *testing.T) {
			e.call(t, http.MethodPost, tc.path, tc.body).wantError(t, tc.status, tc.code, tc.field)
		})
	}
	// A connection that cannot mint a kind: the scope it lacks, named.
	e.addUser("zu_noscope")
	e.zoom.SetScopes("zu_noscope", "user:read:user user:read:token")
	at, rt := e.zoom.IssueGrant("zu_noscope")
	c, _, err := e.mgr.Connect(context.Background(), onbehalf.Authorization{User: onbehalf.ZoomUser{ID: "zu_noscope"},
		Token: onbehalf.Token{AccessToken: at, RefreshToken: rt, Expiry: time.Now().Add(time.Hour), Scope: "user:read:user user:read:token"}})
	if err != nil {
		t.Fatal(err)
	}
	r := e.call(t, http.MethodPost, "/api/v1/connections/"+c.ID+"/token-urls", map[string]any{"meeting_id": meeting, "kinds": []string{"join"}})
	if msg := r.wantError(t, 400, onbehalf.EINVALID, "kinds").Error.Message; !strings.Contains(msg, "meeting:read:local_recording_token") {
		t.Fatal(msg)
	}
}
