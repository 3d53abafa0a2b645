package platformdemo

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"

	"github.com/onbehalf/onbehalf/internal/events"
)

// Server is the demo's server as a platform's fake meets it: where the
// fake sends its status webhooks, how its bots reach the server, and the
// server's settings that point the adapter at the fake.
type Server struct {
	// URL is the server's base URL (http on loopback); HTTPSURL is the
	// same server through the demo's TLS front (ServeTLS), which Client
	// trusts.
	URL, HTTPSURL string
	// Client is what an https-only fake's bots and webhooks reach
	// HTTPSURL with.
	Client *http.Client
	// Set sets one of the server's variables: the platform's API key, API
	// URL and secrets, as the fake takes them.
	Set func(name, value string)
}

// Platform is a platform's fake as the demo runs it, with the platform's
// reason codes the demo's bots report.
type Platform struct {
	// Fake is the running fake; the demo stops it.
	Fake Running
	// Left is the platform's reason code for a bot that left because
	// everyone else left, Absent the one for a bot whose person never
	// came, and Refused the one for a bot that got no token ("" for the
	// fake's default).
	Left, Absent, Refused string
	// HTTPSOnly says the platform takes only https URLs of the server
	// (token URLs, status webhooks): the demo hands them out through its
	// TLS front, as a deployment does through its public https URL.
	HTTPSOnly bool
}

// Secret returns n random bytes, base64url-encoded: an API key or a
// signing secret of a fake.
func Secret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// WebhookSecret returns a new Standard Webhooks secret (whsec_ + base64 of
// 32 bytes), the server's own kind: the fakes that sign that way take it.
func WebhookSecret() string { return events.NewSecret() }
