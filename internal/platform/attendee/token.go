package attendee

import (
	"net/http"

	"github.com/onbehalf/onbehalf/internal/meetingurl"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
)

// Attendee's bot calls its zoom_tokens_url once, when it builds its Zoom
// adapter (bots/external_callback_utils.py, get_zoom_tokens):
//
//	POST <zoom_tokens_url>
//	Content-Type: application/json
//	User-Agent: Attendee-Callback/1.0
//	X-Webhook-Signature: base64(HMAC-SHA256(secret, canonical JSON))
//
//	{"bot_id": "bot_…", "bot_metadata": {…} or null, "callback_type": "zoom_tokens", "meeting_url": "…"}
//
// with a 30 s timeout, no retry and no redirects. It reads zak_token,
// join_token, app_privilege_token and onbehalf_token from a 2xx JSON
// object, each only when a non-blank string; anything else (another
// status, a body that is not a JSON object) leaves the bot without tokens,
// and it fails later in Zoom.

// Reply fields of each kind. join_token (another Zoom SDK parameter) is
// not the host's join token: that is app_privilege_token.
var replyFields = map[onbehalf.TokenKind]string{
	onbehalf.KindOBF:  "onbehalf_token",
	onbehalf.KindZAK:  "zak_token",
	onbehalf.KindJoin: "app_privilege_token",
}

// TokenRoutes implements onbehalf.Platform: one POST route for every kind.
// Every URL names its kinds (there is no legacy Attendee URL).
func (a *Adapter) TokenRoutes() []onbehalf.TokenRoute {
	return []onbehalf.TokenRoute{{
		Methods: []string{http.MethodPost},
		Path:    TokenPath,
		Kinds:   append([]onbehalf.TokenKind(nil), onbehalf.Kinds...),
	}}
}

// AuthenticateToken implements onbehalf.Platform. With a webhook secret
// configured, the body's X-Webhook-Signature must match its canonical
// JSON (checked in constant time, before anything reads the body), and
// the (bot_id, signature) pair must not have been served too often or too
// long ago (auth.go). Without a secret, nothing is checked here: the
// signed URL is the only credential.
func (a *Adapter) AuthenticateToken(r *http.Request, body []byte) (func(served bool), error) {
	if a.key == nil {
		return nil, nil
	}
	v, sig, err := verifySigned(a.key, r.Header.Get(SignatureHeader), body, "token request")
	if err != nil {
		return nil, err
	}
	// Verified: the body may be read now.
	o, _ := v.(object)
	botID, _ := o.str("bot_id")
	now := a.now()
	until := urlExpiry(r.URL.Query().Get(tokenurl.ParamExp), now)
	return a.served.claim(ledgerKey(botID, sig), now, until)
}

// ReadTokenClaims implements onbehalf.Platform: the bot ID is bot_id, the
// meeting is the one meeting_url names (Attendee's stored meeting URL: it
// may carry pwd, tk or a vanity host). callback_type must be
// "zoom_tokens", the only callback this route serves.
func (a *Adapter) ReadTokenClaims(r *http.Request, body []byte) (onbehalf.TokenClaims, error) {
	var c onbehalf.TokenClaims
	v, err := parseJSON(body)
	if err != nil {
		return c, &onbehalf.Error{Code: onbehalf.EINVALID, Err: err,
			Message: "The Attendee token request's body is not JSON this server can read (" + err.Error() + ")."}
	}
	o, ok := v.(object)
	if !ok {
		return c, onbehalf.Errorf(onbehalf.EINVALID, "The Attendee token request's body must be a JSON object.")
	}
	if ct, _ := o.str("callback_type"); ct != "zoom_tokens" {
		return c, onbehalf.FieldError("callback_type", "callback_type is %q: this URL serves Attendee's zoom_tokens callback only.", onbehalf.Clip(ct, 40))
	}
	botID, ok := o.str("bot_id")
	if !ok || botID == "" || len(botID) > 128 {
		return c, onbehalf.FieldError("bot_id", "The Attendee token request has no usable bot_id.")
	}
	raw, ok := o.str("meeting_url")
	if !ok || raw == "" {
		return c, onbehalf.FieldError("meeting_url", "The Attendee token request has no meeting_url.")
	}
	m, err := meetingurl.Parse(raw)
	if err != nil {
		return c, onbehalf.FieldError("meeting_url", "The Attendee token request's meeting_url names no Zoom meeting: %s", onbehalf.ErrorMessage(err))
	}
	c.PlatformBotID, c.MeetingID = botID, m.ID
	return c, nil
}

// WriteTokens implements onbehalf.Platform: 200 JSON with a field per
// kind served (onbehalf_token, zak_token, app_privilege_token), nothing
// for the kinds not served. Several OBF tokens (a URL of several
// candidates) go in onbehalf_token comma-separated, in the order given:
// Attendee splits it on commas and joins with the next token each time
// Zoom says the token's user is not in the meeting, wrapping around.
func (a *Adapter) WriteTokens(w http.ResponseWriter, r *http.Request, tokens []onbehalf.MintedToken) {
	out := make(map[string]string, len(tokens))
	for _, t := range tokens {
		if f := replyFields[t.Kind]; f != "" && t.Token != "" {
			if prev := out[f]; prev != "" && t.Kind == onbehalf.KindOBF {
				out[f] = prev + "," + t.Token
				continue
			}
			out[f] = t.Token
		}
	}
	platform.WriteJSON(w, http.StatusOK, out)
}

// TakesTokenList reports that Attendee takes every candidate's OBF token
// at once (onbehalf.TokenListTaker): it fetches its tokens once per bot and
// tries them in turn.
func (a *Adapter) TakesTokenList() bool { return true }

var _ onbehalf.TokenListTaker = (*Adapter)(nil)

// WriteTokenError implements onbehalf.Platform: JSON {"error": message}
// with the status. Attendee logs the start of the body of a failed
// callback, so the message reaches its logs.
func (a *Adapter) WriteTokenError(w http.ResponseWriter, r *http.Request, status int, message string) {
	platform.WriteJSON(w, status, map[string]string{"error": message})
}
