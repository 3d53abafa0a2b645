package api_test

import (
	"net/http"
	"testing"
	"time"
)

// POST /bots takes "relay"; the bot's reply says it, with no failure and
// no link yet (null).
func TestCreateBotRelay(t *testing.T) {
	e := newEnv(t)
	e.addUser("zu_ann")
	id := e.grant(t, "zu_ann", "user-ann", time.Now().Add(time.Hour))
	var b map[string]any
	e.call(t, http.MethodPost, "/api/v1/bots", map[string]any{"connection_id": id, "meeting_url": "https://zoom.us/j/" + meeting, "relay": true}).decode(t, &b)
	if b["relay"] != true || b["failure"] != nil || b["relayed_to"] != nil {
		t.Fatalf("bot %v", b)
	}
	var got map[string]any
	e.call(t, http.MethodGet, "/api/v1/bots/"+b["id"].(string), nil).decode(t, &got)
	if got["relay"] != true {
		t.Fatalf("stored bot %v", got)
	}
	// Not a boolean: a clear 400 naming the field, nothing created.
	e.call(t, http.MethodPost, "/api/v1/bots", map[string]any{"connection_id": id, "meeting_url": "https://zoom.us/j/" + meeting, "relay": "yes"}).
		wantError(t, http.StatusBadRequest, "invalid", "relay")
}
