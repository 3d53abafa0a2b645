package recall

import (
	"io"
	"net/http"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Token routes. Recall's bots GET exactly the URL they were given, and each
// zoom field takes one URL that answers one bare token, so every route
// serves one kind. The routes without /recall/ and the /recall/ aliases of
// obf and zak are those of URLs handed out before platforms had their own
// paths: they keep working, plain and signed.
const (
	PathOBF       = "/recall/obf-callback"
	PathZAK       = "/recall/zak-callback"
	PathJoin      = "/recall/join-callback"
	LegacyPathOBF = "/obf-callback"
	LegacyPathZAK = "/zak-callback"
)

// TokenRoutes implements onbehalf.Platform.
func (a *Adapter) TokenRoutes() []onbehalf.TokenRoute {
	get := []string{http.MethodGet}
	route := func(path string, def, kind onbehalf.TokenKind) onbehalf.TokenRoute {
		return onbehalf.TokenRoute{Methods: get, Path: path, Default: def, Kinds: []onbehalf.TokenKind{kind}}
	}
	return []onbehalf.TokenRoute{
		route(LegacyPathOBF, onbehalf.KindOBF, onbehalf.KindOBF),
		route(PathOBF, onbehalf.KindOBF, onbehalf.KindOBF),
		route(LegacyPathZAK, onbehalf.KindZAK, onbehalf.KindZAK),
		route(PathZAK, onbehalf.KindZAK, onbehalf.KindZAK),
		// No URL of the join kind was handed out before kinds were signed:
		// every URL of this route names its kind.
		route(PathJoin, "", onbehalf.KindJoin),
	}
}

// AuthenticateToken implements onbehalf.Platform. With a verification
// secret, every request from Recall carries webhook-id, webhook-timestamp
// and webhook-signature over an empty body (GET); the signature is checked
// in constant time, within 5 minutes of our clock, and its webhook-id is
// bound to the URL asked for (path and raw query), so that captured headers
// open no other URL. Without a secret there is nothing to check: the signed
// token URL is the credential.
func (a *Adapter) AuthenticateToken(r *http.Request, body []byte) (func(served bool), error) {
	if a.tokens == nil {
		return nil, nil
	}
	return a.tokens.Verify(r.Header, body, a.now(), r.URL.Path+"?"+r.URL.RawQuery)
}

// ReadTokenClaims implements onbehalf.Platform: Recall appends nothing to
// a token URL and names neither its bot nor the meeting.
func (a *Adapter) ReadTokenClaims(r *http.Request, body []byte) (onbehalf.TokenClaims, error) {
	return onbehalf.TokenClaims{}, nil
}

// WriteTokens implements onbehalf.Platform: the bare token as text/plain,
// which is all Recall reads (a JSON body would reach Zoom as the token).
// Every route serves one kind, so there is one token.
func (a *Adapter) WriteTokens(w http.ResponseWriter, r *http.Request, tokens []onbehalf.MintedToken) {
	if len(tokens) != 1 {
		a.WriteTokenError(w, r, http.StatusInternalServerError, "Internal error: a Recall.ai token URL serves exactly one token.")
		return
	}
	writeText(w, http.StatusOK, tokens[0].Token)
}

// WriteTokenError implements onbehalf.Platform: the message as text/plain
// with the status. Recall's bot fails the join on any non-2xx answer, and
// the message is what its logs and the bot's debug view show.
func (a *Adapter) WriteTokenError(w http.ResponseWriter, r *http.Request, status int, message string) {
	writeText(w, status, message)
}

// writeText writes a text/plain answer that no cache keeps.
func writeText(w http.ResponseWriter, status int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}
