package meetingbaasdemo

import (
	"crypto/subtle"
	"mime"
	"net/http"
)

// FailRemove implements platformdemo.Fake: the next leave request with
// the right key gets status and body.
func (f *Fake) FailRemove(status int, body string) { f.bots.FailRemove(status, body) }

// authorized checks the x-meeting-baas-api-key header; when it fails the
// 401 is written.
func (f *Fake) authorized(w http.ResponseWriter, r *http.Request) bool {
	got := r.Header.Get("x-meeting-baas-api-key")
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(f.o.APIKey)) != 1 {
		writeError(w, http.StatusUnauthorized, "Unauthorized", "FST_ERR_FORBIDDEN", "Invalid or missing API key")
		return false
	}
	return true
}

// leave serves POST /v2/bots/{bot_id}/leave: 200 {"success": true} and
// the bot leaves. Like Fastify, it refuses a JSON content type with an
// empty body; a bot it does not know is its 404.
func (f *Fake) leave(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(w, r) {
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" && r.ContentLength == 0 {
		writeError(w, http.StatusBadRequest, "Bad Request", "FST_ERR_CTP_EMPTY_JSON_BODY",
			"Body cannot be empty when content-type is set to 'application/json'")
		return
	}
	id := r.PathValue("id")
	found, written := f.bots.Remove(w, id, func(b *bot) bool { return b.id == id })
	switch {
	case written:
	case !found:
		writeError(w, http.StatusNotFound, "Not Found", "FST_ERR_BOT_NOT_FOUND", "Bot not found")
	default:
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "data": map[string]any{"bot_id": id}})
	}
}
