package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
)

// TestBotCandidates: a bot of several connections gets, fetch after fetch,
// the next candidate's OBF token, and its timeline says whose and why.
func TestBotCandidates(t *testing.T) {
	e := newEnv(t)
	e.addUser("zu_ann")
	e.addUser("zu_bob")
	ann := e.grant(t, "zu_ann", "", time.Now().Add(time.Hour))
	bob := e.grant(t, "zu_bob", "", time.Now().Add(time.Hour))
	r := e.call(t, http.MethodPost, "/api/v1/bots", map[string]any{
		"platform": "recall", "connection_ids": []string{ann, bob}, "meeting_url": "https://zoom.us/j/" + meeting,
	})
	if r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var b struct {
		ID            string   `json:"id"`
		PlatformBotID string   `json:"platform_bot_id"`
		ConnectionID  string   `json:"connection_id"`
		ConnectionIDs []string `json:"connection_ids"`
		Timeline      []struct {
			ConnectionID string `json:"connection_id"`
			Why          string `json:"why"`
			HTTPStatus   int    `json:"http_status"`
		} `json:"timeline"`
	}
	r.decode(t, &b)
	if b.ConnectionID != ann || len(b.ConnectionIDs) != 2 || b.ConnectionIDs[1] != bob {
		t.Fatalf("bot %+v", b)
	}
	for range 2 {
		if got := e.recall.Fetch(context.Background(), b.PlatformBotID, onbehalf.KindOBF, platformdemo.Tamper{}); got.Status != 200 || got.Tokens[onbehalf.KindOBF] == "" {
			t.Fatalf("fetch: %+v", got)
		}
	}
	eventually(t, "no timeline entries for the fetches", func() bool {
		e.call(t, http.MethodGet, "/api/v1/bots/"+b.ID, nil).decode(t, &b)
		return len(b.Timeline) == 2
	})
	if tl := b.Timeline; tl[0].ConnectionID != ann || tl[0].Why != "first choice" || tl[1].ConnectionID != bob || !strings.HasPrefix(tl[1].Why, "next after "+ann) {
		t.Fatalf("timeline %+v", tl)
	}
}

// TestCandidatesRefused: the error names the candidate that cannot serve.
func TestCandidatesRefused(t *testing.T) {
	e := newEnv(t)
	e.addUser("zu_ann")
	e.addUser("zu_bob")
	ann := e.grant(t, "zu_ann", "", time.Now().Add(time.Hour))
	bob := e.grant(t, "zu_bob", "", time.Now().Add(time.Hour))
	c, err := e.store.Connection(context.Background(), bob)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.MarkDisconnected(context.Background(), bob, c.Token.RefreshToken, "revoked"); err != nil {
		t.Fatal(err)
	}
	eleven := make([]string, onbehalf.MaxCandidates+1)
	for i := range eleven {
		eleven[i] = ann
	}
	murl := "https://zoom.us/j/" + meeting
	for name, tc := range map[string]struct {
		path   string
		body   map[string]any
		status int
		code   string
		field  string
	}{
		"disconnected":       {"/api/v1/bots", map[string]any{"connection_ids": []string{ann, bob}, "meeting_url": murl}, 409, onbehalf.EDISCONNECTED, "connection_ids[1]"},
		"unknown":            {"/api/v1/bots", map[string]any{"connection_ids": []string{ann, "nope"}, "meeting_url": murl}, 404, onbehalf.ENOTFOUND, "connection_ids[1]"},
		"twice":              {"/api/v1/bots", map[string]any{"connection_ids": []string{ann, ann}, "meeting_url": murl}, 400, onbehalf.EINVALID, "connection_ids[1]"},
		"too many":           {"/api/v1/bots", map[string]any{"connection_ids": eleven, "meeting_url": murl}, 400, onbehalf.EINVALID, "connection_ids"},
		"empty list":         {"/api/v1/bots", map[string]any{"connection_ids": []string{}, "meeting_url": murl}, 400, onbehalf.EINVALID, "connection_ids"},
		"empty id":           {"/api/v1/bots", map[string]any{"connection_ids": []string{ann, ""}, "meeting_url": murl}, 400, onbehalf.EINVALID, "connection_ids[1]"},
		"other first":        {"/api/v1/bots", map[string]any{"connection_id": ann, "connection_ids": []string{bob, ann}, "meeting_url": murl}, 400, onbehalf.EINVALID, "connection_ids[0]"},
		"urls: path first":   {"/api/v1/connections/" + ann + "/token-urls", map[string]any{"connection_ids": []string{bob, ann}, "meeting_id": meeting}, 400, onbehalf.EINVALID, "connection_ids[0]"},
		"urls: unknown":      {"/api/v1/connections/" + ann + "/token-urls", map[string]any{"connection_ids": []string{ann, "nope"}, "meeting_id": meeting}, 404, onbehalf.ENOTFOUND, "connection_ids[1]"},
		"urls: disconnected": {"/api/v1/connections/" + ann + "/token-urls", map[string]any{"connection_ids": []string{ann, bob}, "meeting_id": meeting}, 409, onbehalf.EDISCONNECTED, "connection_ids[1]"},
	} {
		t.Run(name, func(t *testing.T) {
			e.call(t, http.MethodPost, tc.path, tc.body).wantError(t, tc.status, tc.code, tc.field)
		})
	}
	if n := len(e.recall.Created()); n != 0 {
		t.Fatalf("%d bots created on the platform", n)
	}
}

// TestTokenURLsCandidates: token URLs of several connections carry the
// list, signed (version 4), the path's connection first.
func TestTokenURLsCandidates(t *testing.T) {
	e := newEnv(t)
	e.addUser("zu_ann")
	e.addUser("zu_bob")
	ann := e.grant(t, "zu_ann", "", time.Now().Add(time.Hour))
	bob := e.grant(t, "zu_bob", "", time.Now().Add(time.Hour))
	r := e.call(t, http.MethodPost, "/api/v1/connections/"+ann+"/token-urls", map[string]any{"platform": "recall", "meeting_id": meeting, "connection_ids": []string{ann, bob}})
	var got tokenURLs
	r.decode(t, &got)
	if r.status != 200 || !strings.Contains(got.OBF, "user_id="+ann) || !strings.Contains(got.OBF, "also="+bob) {
		t.Fatalf("%d %s", r.status, r.body)
	}
	for range 2 {
		resp, err := http.Get(got.OBF)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("fetch %d", resp.StatusCode)
		}
	}
}
