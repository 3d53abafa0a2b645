package web

import (
	"strings"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// oauthWords says in a person's words what Zoom's error= parameter of an
// OAuth redirect means (RFC 6749 §4.1.2.1); the raw code goes in the
// page's details line only.
var oauthWords = map[string]string{
	"invalid_request":           "Zoom could not handle the sign-in request this server sent.",
	"unauthorized_client":       "Zoom does not let this app ask for access this way. Whoever runs this server must check the Zoom app's settings.",
	"unsupported_response_type": "Zoom does not let this app ask for access this way. Whoever runs this server must check the Zoom app's settings.",
	"invalid_scope":             "The Zoom app asks for permissions Zoom does not know. Whoever runs this server must check the app's scopes.",
	"server_error":              "Zoom had a problem on its side.",
	"temporarily_unavailable":   "Zoom is busy or down for a moment.",
}

// declined is Zoom's error= code for a person who clicked "Decline".
const declined = "access_denied"

// zoomRefusal is the page of an OAuth redirect that came back with
// error=code: a calm note when the person declined, else words for
// people and the raw code in the details line.
func zoomRefusal(p page, code, description, retry string) errorData {
	details := "Zoom said " + onbehalf.Clip(code, 100)
	if d := strings.TrimRight(strings.TrimSpace(onbehalf.Clip(description, 200)), ".!? "); d != "" {
		details += ": " + d
	}
	details += "."
	if code == declined {
		return errorData{page: p, Calm: true, Title: "You declined",
			Message:  "You declined on Zoom's page, so nothing was connected. You can connect later if you change your mind.",
			Details:  details,
			RetryURL: retry}
	}
	msg, ok := oauthWords[code]
	if !ok {
		msg = "Zoom did not give this app access."
	}
	return errorData{page: p, Title: "Zoom did not connect", Message: msg + " Nothing was connected.", Details: details, RetryURL: retry}
}

// quote puts a product's user ID in typographic quotes for a page.
func quote(s string) string { return "“" + onbehalf.Clip(s, 200) + "”" }
