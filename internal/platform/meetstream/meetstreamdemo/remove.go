package meetstreamdemo

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"

	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
)

// FailRemove implements platformdemo.Fake: the next remove-bot request
// with the right key gets status and body.
func (f *Fake) FailRemove(status int, body string) { f.bots.FailRemove(status, body) }

// authorized checks the "Authorization: Token <key>" header as
// MeetStream's API does; when it fails the 401 is written.
func (f *Fake) authorized(w http.ResponseWriter, r *http.Request) bool {
	scheme, key, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	switch {
	case scheme == "":
		platformdemo.WriteJSON(w, http.StatusUnauthorized, map[string]any{"detail": "Authentication credentials were not provided."})
		return false
	case !strings.EqualFold(scheme, "Token") || subtle.ConstantTimeCompare([]byte(key), []byte(f.o.APIKey)) != 1:
		platformdemo.WriteJSON(w, http.StatusUnauthorized, map[string]any{"detail": "Invalid token."})
		return false
	}
	return true
}

// removeBot serves GET /api/v1/bots/{bot_id}/remove_bot (a GET, as
// MeetStream has it): the bot leaves the meeting; a bot MeetStream does not
// know is a 404.
func (f *Fake) removeBot(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		platformdemo.WriteJSON(w, http.StatusMethodNotAllowed, map[string]any{"detail": fmt.Sprintf("Method %q not allowed.", r.Method)})
		return
	}
	if !f.authorized(w, r) {
		return
	}
	id := r.PathValue("id")
	found, written := f.bots.Remove(w, id, func(b *bot) bool { return b.ID == id })
	switch {
	case written:
	case !found:
		platformdemo.WriteJSON(w, http.StatusNotFound, map[string]any{"detail": "Bot not found."})
	default:
		platformdemo.WriteJSON(w, http.StatusOK, map[string]any{"bot_id": id, "message": "Bot removed from the meeting."})
	}
}
