package recalldemo

import (
	"net/http"

	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
)

// FailRemove implements platformdemo.Fake: the next leave-call request
// with the right key gets status and body.
func (f *Fake) FailRemove(status int, body string) { f.bots.FailRemove(status, body) }

// handleLeave serves POST /api/v1/bot/{id}/leave_call/ as Recall does: the
// bot leaves (its status webhooks follow), and Recall answers 200 with
// the bot; a bot it does not know is DRF's 404.
func (f *Fake) handleLeave(w http.ResponseWriter, r *http.Request) {
	if status, body := f.authenticate(r); status != 0 {
		platformdemo.WriteJSON(w, status, body)
		return
	}
	id := r.PathValue("id")
	found, written := f.bots.Remove(w, id, func(b Created) bool { return b.ID == id })
	switch {
	case written:
	case !found:
		platformdemo.WriteJSON(w, http.StatusNotFound, map[string]string{"detail": "Not found."})
	default:
		platformdemo.WriteJSON(w, http.StatusOK, map[string]any{"id": id})
	}
}
