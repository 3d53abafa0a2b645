package attendeedemo

import (
	"net/http"

	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
)

// FailRemove implements platformdemo.Fake: the next leave request with
// the right key gets status and body.
func (f *Fake) FailRemove(status int, body string) { f.bots.FailRemove(status, body) }

// handleLeave serves POST /api/v1/bots/{id}/leave as Attendee's
// BotLeaveView does: the bot goes to leaving and the answer is the bot;
// a bot of no project is {"error": "Bot not found"} with 404.
func (f *Fake) handleLeave(w http.ResponseWriter, r *http.Request) {
	if msg := f.authenticate(r); msg != "" {
		w.Header().Set("WWW-Authenticate", "Token")
		platformdemo.WriteJSON(w, http.StatusUnauthorized, map[string]string{"detail": msg})
		return
	}
	id := r.PathValue("id")
	found, written := f.bots.Remove(w, id, func(b *Created) bool { return b.ID == id })
	switch {
	case written:
	case !found:
		platformdemo.WriteJSON(w, http.StatusNotFound, map[string]string{"error": "Bot not found"})
	default:
		platformdemo.WriteJSON(w, http.StatusOK, map[string]any{"id": id, "state": "leaving"})
	}
}
