package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/api"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// batchItem is one item of a batch reply.
type batchItem struct {
	Who   map[string]string `json:"who"`
	Token string            `json:"token"`
	Error *struct {
		Code, Message, Field string
	} `json:"error"`
}

// batchReply is the reply of POST /tokens/batch.
type batchReply struct {
	Host         *batchItem  `json:"host"`
	Participants []batchItem `json:"participants"`
}

// participants connects n Zoom users (zu_p0…) with fresh access tokens and
// returns their connection IDs.
func (e *env) participants(t testing.TB, n int, expiry time.Time) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		u := fmt.Sprintf("zu_p%d", i)
		e.addUser(u)
		ids[i] = e.grant(t, u, "", expiry)
	}
	return ids
}

// 100 participants, 10 of whom share one connection whose access token
// expired: every participant gets an OBF token, the host a ZAK, and the
// shared connection is refreshed once.
func TestBatchOneRefreshPerConnection(t *testing.T) {
	e := newEnv(t)
	ids := e.participants(t, 91, time.Now().Add(time.Hour))
	e.addUser("zu_expired")
	expired := e.grant(t, "zu_expired", "", time.Now().Add(-time.Minute))
	e.addUser("zu_host")
	e.grant(t, "zu_host", "host-user", time.Now().Add(time.Hour))

	var ps []map[string]string
	for i := range 90 {
		ps = append(ps, map[string]string{"connection_id": ids[i]})
	}
	for range 10 {
		ps = append(ps, map[string]string{"connection_id": expired})
	}
	r := e.call(t, http.MethodPost, "/api/v1/tokens/batch", map[string]any{
		"meeting_id": meeting, "host": map[string]string{"external_user_id": "host-user"}, "participants": ps,
	})
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var out batchReply
	r.decode(t, &out)
	if out.Host == nil || !strings.HasPrefix(out.Host.Token, "zak_") || out.Host.Who["external_user_id"] != "host-user" || out.Host.Error != nil {
		t.Fatalf("host: %+v", out.Host)
	}
	if len(out.Participants) != 100 {
		t.Fatalf("%d participants", len(out.Participants))
	}
	seen := map[string]bool{}
	for i, p := range out.Participants {
		if p.Error != nil || !strings.HasPrefix(p.Token, "obf_") || p.Who["connection_id"] != ps[i]["connection_id"] || seen[p.Token] {
			t.Fatalf("participant %d: %+v", i, p)
		}
		seen[p.Token] = true
	}
	if n := e.zoom.RefreshCalls(); n != 1 {
		t.Fatalf("%d refreshes at Zoom, want 1 (one per connection)", n)
	}
	if n := e.zoom.ReusedRefreshTokens(); n != 0 {
		t.Fatalf("%d reused refresh tokens", n)
	}
}

func TestBatchItemsFailOnTheirOwn(t *testing.T) {
	e := newEnv(t)
	ids := e.participants(t, 2, time.Now().Add(time.Hour))
	r := e.call(t, http.MethodPost, "/api/v1/tokens/batch", map[string]any{
		"meeting_id": meeting,
		"host":       map[string]string{"zoom_user_id": "zu_nobody"},
		"participants": []map[string]string{
			{"connection_id": ids[0]}, {"connection_id": "gone"}, {"email": "x@example.com"}, {"zoom_user_id": "zu_p1"},
		},
	})
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var out batchReply
	r.decode(t, &out)
	if out.Host.Error == nil || out.Host.Error.Code != onbehalf.ENOTFOUND || out.Host.Error.Field != "host.zoom_user_id" || out.Host.Token != "" {
		t.Fatalf("host: %+v", out.Host)
	}
	want := []struct{ code, field string }{{"", ""}, {onbehalf.ENOTFOUND, "participants[1].connection_id"}, {onbehalf.ENOTFOUND, "participants[2].email"}, {"", ""}}
	for i, w := range want {
		p := out.Participants[i]
		switch {
		case w.code == "" && (p.Error != nil || !strings.HasPrefix(p.Token, "obf_")):
			t.Errorf("participant %d: %+v", i, p)
		case w.code != "" && (p.Error == nil || p.Error.Code != w.code || p.Error.Field != w.field || p.Error.Message == "" || p.Token != ""):
			t.Errorf("participant %d: %+v, want %s about %s", i, p, w.code, w.field)
		}
	}
	// No host: null.
	r = e.call(t, http.MethodPost, "/api/v1/tokens/batch", map[string]any{"meeting_id": meeting, "participants": []map[string]string{{"connection_id": ids[0]}}})
	if r.status != 200 || !strings.Contains(string(r.body), `"host":null`) {
		t.Fatalf("no host: %d %s", r.status, r.body)
	}
}

func TestBatchRefusesBadInput(t *testing.T) {
	e := newEnv(t)
	ids := e.participants(t, 1, time.Now().Add(time.Hour))
	one := []map[string]string{{"connection_id": ids[0]}}
	many := make([]map[string]string, api.MaxBatch+1)
	for i := range many {
		many[i] = one[0]
	}
	for name, tc := range map[string]struct {
		body  map[string]any
		field string
	}{
		"no meeting":      {map[string]any{"participants": one}, "meeting_id"},
		"bad meeting":     {map[string]any{"meeting_id": "abc", "participants": one}, "meeting_id"},
		"nobody":          {map[string]any{"meeting_id": meeting}, "participants"},
		"too many":        {map[string]any{"meeting_id": meeting, "participants": many}, "participants"},
		"two identifiers": {map[string]any{"meeting_id": meeting, "participants": []map[string]string{one[0], {"connection_id": "a", "email": "b@c"}}}, "participants[1].connection_id"},
		"empty item":      {map[string]any{"meeting_id": meeting, "participants": []map[string]string{{}}}, "participants[0].connection_id"},
		"bad host":        {map[string]any{"meeting_id": meeting, "host": map[string]string{}, "participants": one}, "host.connection_id"},
		"item type":       {map[string]any{"meeting_id": meeting, "participants": []any{"conn"}}, "participants[0]"},
		"item field type": {map[string]any{"meeting_id": meeting, "participants": []any{map[string]any{"email": 5}}}, "participants[0].email"},
		"unknown in item": {map[string]any{"meeting_id": meeting, "participants": []any{map[string]any{"id": "x"}}}, "participants[0].id"},
		"list type":       {map[string]any{"meeting_id": meeting, "participants": one[0]}, "participants"},
	} {
		t.Run(name, func(t *testing.T) {
			e.call(t, http.MethodPost, "/api/v1/tokens/batch", tc.body).wantError(t, 400, onbehalf.EINVALID, tc.field)
		})
	}
	if n := e.zoom.MintCalls(); n != 0 {
		t.Fatalf("%d mints for refused batches", n)
	}
}

func TestBatchCountsPerToken(t *testing.T) {
	e := newEnv(t, func(o *api.Options) { o.RateLimitPerKey = 20 })
	ids := e.participants(t, 1, time.Now().Add(time.Hour))
	ps := make([]map[string]string, 30)
	for i := range ps {
		ps[i] = map[string]string{"connection_id": ids[0]}
	}
	r := e.call(t, http.MethodPost, "/api/v1/tokens/batch", map[string]any{"meeting_id": meeting, "participants": ps})
	r.wantError(t, 429, onbehalf.ETOOMANY, "")
	if r.header.Get("Retry-After") == "" || e.zoom.MintCalls() != 0 {
		t.Fatalf("Retry-After %q, %d mints", r.header.Get("Retry-After"), e.zoom.MintCalls())
	}
}

// A batch of 100 participants against a Zoom that takes 100 ms per mint
// finishes well under a second: mints run concurrently, bounded.
func TestBatchLatency(t *testing.T) {
	e := newEnv(t)
	ids := e.participants(t, 100, time.Now().Add(time.Hour))
	ps := make([]map[string]string, len(ids))
	for i, id := range ids {
		ps[i] = map[string]string{"connection_id": id}
	}
	body := map[string]any{"meeting_id": meeting, "participants": ps}
	e.zoom.SetMintDelay(100 * time.Millisecond)
	start := time.Now()
	r := e.call(t, http.MethodPost, "/api/v1/tokens/batch", body)
	took := time.Since(start)
	if r.status != 200 || strings.Contains(string(r.body), `"error"`) {
		t.Fatalf("%d %s", r.status, r.body)
	}
	t.Logf("batch of 100 with 100 ms per mint: %s", took)
	// One mint after another would take 10 s: half of that proves the
	// mints run side by side, with room for a loaded CI machine (the
	// speed itself is a benchmark's business, not a test's).
	if took > 5*time.Second {
		t.Fatalf("batch of 100 took %s: the mints did not run side by side", took)
	}
}
