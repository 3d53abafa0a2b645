package meetstream

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
)

// Headers of MeetStream's token requests.
const (
	// HeaderBotID carries MeetStream's bot ID on every token request.
	HeaderBotID = "X-Bot-Id"
	// HeaderWebhookSecret carries the bot's webhook secret, "if the bot has
	// one".
	HeaderWebhookSecret = "X-Webhook-Secret"
)

// paramMeeting is what MeetStream appends to an OBF URL on GET, and puts in
// the JSON body on POST.
const paramMeeting = "meeting_number"

// tokenBody is the JSON body of MeetStream's POST fallback:
// {"bot_id", "meeting_number" (OBF only), "webhook_secret"?}.
type tokenBody struct {
	BotID         flexString `json:"bot_id"`
	MeetingNumber flexString `json:"meeting_number"`
	WebhookSecret string     `json:"webhook_secret"`
}

// TokenRoutes implements onbehalf.Platform: GET and POST at TokenPath,
// serving the kind the signed URL names (no default: every URL of this
// path names its kind).
func (a *Adapter) TokenRoutes() []onbehalf.TokenRoute {
	return []onbehalf.TokenRoute{{
		Methods: []string{http.MethodGet, http.MethodPost},
		Path:    TokenPath,
		Kinds:   []onbehalf.TokenKind{onbehalf.KindOBF, onbehalf.KindZAK},
	}}
}

// AuthenticateToken implements onbehalf.Platform. With
// MEETSTREAM_WEBHOOK_SECRET set, the request must carry it in
// X-Webhook-Secret, or (on POST) as webhook_secret in the JSON body;
// compared in constant time, without leaking its length.
func (a *Adapter) AuthenticateToken(r *http.Request, body []byte) (func(bool), error) {
	if a.webhookSum == nil {
		return nil, nil
	}
	got := r.Header.Values(HeaderWebhookSecret)
	if len(got) == 0 && r.Method == http.MethodPost && len(bytes.TrimSpace(body)) > 0 {
		var b tokenBody
		if json.Unmarshal(body, &b) == nil && b.WebhookSecret != "" {
			got = []string{b.WebhookSecret}
		}
	}
	switch {
	case len(got) == 0 || got[0] == "":
		return nil, onbehalf.Errorf(onbehalf.EUNAUTHORIZED,
			"MeetStream token request refused: the X-Webhook-Secret header (or webhook_secret in the POST body) is missing, and this server requires it because %s is set. "+
				"MeetStream documents no way to give its bots this secret: unset %s unless your MeetStream bots send it.", VarWebhookSecret, VarWebhookSecret)
	case len(got) > 1 || subtle.ConstantTimeCompare(secretSum(got[0]), a.webhookSum) != 1:
		return nil, onbehalf.Errorf(onbehalf.EUNAUTHORIZED,
			"MeetStream token request refused: the X-Webhook-Secret header (or webhook_secret in the POST body) is wrong: it does not match %s.", VarWebhookSecret)
	}
	return nil, nil
}

// ReadTokenClaims implements onbehalf.Platform: the bot from X-Bot-Id (or
// bot_id of a POST body), the meeting from meeting_number, in the query on
// GET and in the JSON body on POST (a number or a string). A request that
// names two different meetings is refused.
func (a *Adapter) ReadTokenClaims(r *http.Request, body []byte) (onbehalf.TokenClaims, error) {
	c := onbehalf.TokenClaims{PlatformBotID: strings.TrimSpace(r.Header.Get(HeaderBotID))}
	meetings := r.URL.Query()[paramMeeting]
	if r.Method == http.MethodPost && len(bytes.TrimSpace(body)) > 0 {
		var b tokenBody
		if err := json.Unmarshal(body, &b); err != nil {
			return c, onbehalf.Errorf(onbehalf.EINVALID,
				`Bad request body: MeetStream posts JSON {"bot_id", "meeting_number"}.`)
		}
		if c.PlatformBotID == "" {
			c.PlatformBotID = strings.TrimSpace(string(b.BotID))
		}
		if b.MeetingNumber != "" {
			meetings = append(meetings, string(b.MeetingNumber))
		}
	}
	for _, m := range meetings {
		m = strings.Join(strings.Fields(m), "") // "850 1234 5678"
		if err := onbehalf.CheckMeetingID(paramMeeting, m); err != nil {
			return c, err
		}
		if c.MeetingID != "" && m != c.MeetingID {
			return c, onbehalf.Errorf(onbehalf.EUNAUTHORIZED,
				"Token URL refused: the request names two meetings in meeting_number (%s and %s).", c.MeetingID, m)
		}
		c.MeetingID = m
	}
	return c, nil
}

// WriteTokens implements onbehalf.Platform: JSON {"token": …}, which
// MeetStream's bots read whatever the token's length (a text/plain body
// counts as a token only past 50 characters).
func (a *Adapter) WriteTokens(w http.ResponseWriter, r *http.Request, tokens []onbehalf.MintedToken) {
	tok := ""
	if len(tokens) > 0 {
		tok = tokens[0].Token // a MeetStream URL serves one kind
	}
	platform.WriteJSON(w, http.StatusOK, map[string]string{"token": tok})
}

// WriteTokenError implements onbehalf.Platform: JSON {"error": message}
// with status (any non-2xx fails MeetStream's join; a 400 is not retried).
func (a *Adapter) WriteTokenError(w http.ResponseWriter, r *http.Request, status int, message string) {
	platform.WriteJSON(w, status, map[string]string{"error": message})
}

// secretSum hashes a secret so that comparing sums takes the same time
// whatever the secrets' lengths.
func secretSum(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// flexString is a JSON string or number read as its text: MeetStream's
// IDs and meeting numbers may come either way.
type flexString string

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*f = flexString(n.String())
	}
	return nil
}
