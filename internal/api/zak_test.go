package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/api"
)

// TestZAKOffByDefault: with ALLOW_ZAK off (the default), asking for a ZAK
// through the API (a token now, a bot, token URLs, a batch's host) is a
// 403 that says why and how to enable it, and Zoom mints nothing; OBF
// tokens are unaffected.
func TestZAKOffByDefault(t *testing.T) {
	e := newEnv(t, func(o *api.Options) { o.AllowZAK = false })
	e.bots.AllowZAK = false // before any launch
	e.addUser("zu_ann")
	e.zoom.SetHost(meeting, "zu_ann")
	id := e.grant(t, "zu_ann", "user-ann", time.Now().Add(time.Hour))

	refused := func(what string, r reply) {
		t.Helper()
		if r.status != http.StatusForbidden || !strings.Contains(string(r.body), `"forbidden"`) || !strings.Contains(string(r.body), "ALLOW_ZAK") {
			t.Errorf("%s: %d %s, want 403 naming ALLOW_ZAK", what, r.status, r.body)
		}
	}
	refused("token", e.call(t, http.MethodPost, "/api/v1/tokens", map[string]any{"connection_id": id, "kind": "zak"}))
	refused("bot", e.call(t, http.MethodPost, "/api/v1/bots", map[string]any{
		"platform": "recall", "connection_id": id, "meeting_url": "https://zoom.us/j/" + meeting, "kinds": []string{"obf", "zak"}}))
	refused("token URLs", e.call(t, http.MethodPost, "/api/v1/connections/"+id+"/token-urls", map[string]any{
		"platform": "recall", "meeting_id": meeting, "kinds": []string{"zak"}}))
	r := e.call(t, http.MethodPost, "/api/v1/tokens/batch", map[string]any{"meeting_id": meeting,
		"host": map[string]string{"connection_id": id}, "participants": []map[string]string{{"connection_id": id}}})
	if r.status != 200 || !strings.Contains(string(r.body), `"forbidden"`) || strings.Count(string(r.body), `"token"`) != 1 {
		t.Errorf("batch: %d %s, want the host refused and the participant served", r.status, r.body)
	}
	if n := len(e.zoom.Minted()); n != 1 {
		t.Errorf("Zoom minted %d tokens, want 1 (the participant's OBF)", n)
	}
	if got := e.mint(t, map[string]any{"connection_id": id, "kind": "obf", "meeting_id": meeting}); got.Kind != "obf" {
		t.Errorf("obf: %+v", got)
	}
}
