package meetingbaas

import (
	"net/http"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
)

// Parameters naming the bot that a Meeting BaaS bot appends to its token
// URLs: the v2 guide says bot_id, the v2 OpenAPI description and v1 say
// bot_uuid. It appends extra too (the URL-encoded JSON of the bot's
// "extra" object), which is not read.
const (
	ParamBotID   = "bot_id"
	ParamBotUUID = "bot_uuid"
)

// maxBotID bounds the bot ID a token request names (Meeting BaaS bot IDs
// are 36-character UUIDs).
const maxBotID = 128

// tokenKinds are the kinds Meeting BaaS takes token URLs for, each in its
// own zoom_config field.
var tokenKinds = []onbehalf.TokenKind{onbehalf.KindOBF, onbehalf.KindZAK}

// PlanTokenURLs implements onbehalf.Platform: one URL per kind, since each
// zoom_config field (obf_token_url, zak_token_url) takes a URL answering
// one bare token. Meeting BaaS has no field for a host's join token.
func (a *Adapter) PlanTokenURLs(kinds []onbehalf.TokenKind) ([]onbehalf.TokenURLPlan, error) {
	if len(kinds) == 0 {
		return nil, onbehalf.FieldError("kinds", "No token kind given: a Meeting BaaS bot needs obf, zak or both.")
	}
	for i, k := range kinds {
		switch {
		case k == onbehalf.KindJoin:
			return nil, onbehalf.FieldError("kinds", "Meeting BaaS takes no host join token (its zoom_config has no field for one), so its bots cannot skip the waiting room this way: use obf and/or zak.")
		case !onbehalf.HasKind(tokenKinds, k):
			return nil, onbehalf.FieldError("kinds", "Unknown token kind %q: Meeting BaaS takes obf and zak.", onbehalf.Clip(string(k), 20))
		case onbehalf.HasKind(kinds[:i], k):
			return nil, onbehalf.FieldError("kinds", "Token kind %q is given twice.", k)
		}
	}
	var plans []onbehalf.TokenURLPlan
	for _, k := range tokenKinds { // canonical order
		if onbehalf.HasKind(kinds, k) {
			plans = append(plans, onbehalf.TokenURLPlan{Path: PathToken, Kinds: []onbehalf.TokenKind{k}})
		}
	}
	return plans, nil
}

// TokenRoutes implements onbehalf.Platform: GET PathToken, for URLs that
// sign their kind (there are no legacy Meeting BaaS URLs).
func (a *Adapter) TokenRoutes() []onbehalf.TokenRoute {
	return []onbehalf.TokenRoute{{
		Methods: []string{http.MethodGet},
		Path:    PathToken,
		Kinds:   tokenKinds,
	}}
}

// AuthenticateToken implements onbehalf.Platform. Meeting BaaS bots send
// no credential of their own with a token request (no header, no
// signature): the signed token URL is the only authorization.
func (a *Adapter) AuthenticateToken(r *http.Request, body []byte) (func(bool), error) {
	return nil, nil
}

// ReadTokenClaims implements onbehalf.Platform: the Meeting BaaS bot ID
// from bot_id or bot_uuid (one of them, or both naming the same bot).
// Meeting BaaS names no meeting. extra is not read: it is Meeting BaaS's
// unsigned echo of what this server sent at create time, and the signed
// URL already says everything a mint needs, so whatever it holds can
// neither widen nor fail a join.
func (a *Adapter) ReadTokenClaims(r *http.Request, body []byte) (onbehalf.TokenClaims, error) {
	q := r.URL.Query()
	var id, from string
	for _, name := range []string{ParamBotID, ParamBotUUID} {
		for _, v := range q[name] {
			switch {
			case v == "":
				continue
			case len(v) > maxBotID || !printableASCII(v):
				return onbehalf.TokenClaims{}, onbehalf.FieldError(name, "Bad %s: not a Meeting BaaS bot ID.", name)
			case id != "" && v != id:
				return onbehalf.TokenClaims{}, onbehalf.FieldError(name, "The token request names two Meeting BaaS bots (%s and %s differ).", from, name)
			}
			id, from = v, name
		}
	}
	return onbehalf.TokenClaims{PlatformBotID: id}, nil
}

// WriteTokens implements onbehalf.Platform: the bare token as text/plain,
// which is all a Meeting BaaS bot reads. Each planned URL serves one kind;
// a URL granting several (made by hand) gets the first, in canonical
// order.
func (a *Adapter) WriteTokens(w http.ResponseWriter, r *http.Request, tokens []onbehalf.MintedToken) {
	if len(tokens) == 0 || tokens[0].Token == "" { // never a 200 without a token
		platform.WriteText(w, http.StatusInternalServerError, "No token was minted.")
		return
	}
	platform.WriteText(w, http.StatusOK, tokens[0].Token)
}

// WriteTokenError implements onbehalf.Platform: the message as text/plain
// with the status. Meeting BaaS reports a failed token URL as
// ZOOM_OBF_TOKEN_ERROR / ZOOM_ACCESS_TOKEN_ERROR; the message is for
// whoever reads its logs, and this server's timeline.
func (a *Adapter) WriteTokenError(w http.ResponseWriter, r *http.Request, status int, message string) {
	platform.WriteText(w, status, message)
}

// printableASCII reports whether s holds only visible ASCII characters.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
