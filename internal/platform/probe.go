package platform

import (
	"net/http"
	"strings"
)

// Probe is a platform's harmless read-only call, by which `onbehalf
// doctor` tells an API key the platform refuses (401/403) from one it
// accepts. It reads a bot that cannot exist (NoBot): nothing is created,
// and no real bot's data is fetched.
type Probe struct {
	// URL returns the call's URL for the configuration get reads (the
	// adapter's API base URL and path); nil when the platform has no such
	// call, and None says why.
	URL func(get func(string) string) string
	// Auth sets the API key on the request.
	Auth func(h http.Header, key string)
	// Documented is true when the platform documents that a wrong key is
	// 401/403 and an unknown bot 404 on this call; otherwise a 404 only
	// says the key was not refused.
	Documented bool
	// Hint is added to a refusal ("" for none).
	Hint string
	// None says why the platform has no harmless call (URL nil).
	None string
}

// NoBot is the ID of a bot that cannot exist, the one a Probe reads.
const NoBot = "00000000-0000-0000-0000-000000000000"

// TokenAuth is the Authorization: Token <key> scheme (Django REST
// Framework's) of Recall.ai, MeetStream and Attendee.
func TokenAuth(h http.Header, key string) { h.Set("Authorization", "Token "+key) }

// ConfiguredURL returns the value of the variable name as get reads it,
// without a trailing slash, or def when it is unset: a Probe's API base
// URL.
func ConfiguredURL(get func(string) string, name, def string) string {
	if v := strings.TrimSpace(get(name)); v != "" {
		return strings.TrimRight(v, "/")
	}
	return def
}
