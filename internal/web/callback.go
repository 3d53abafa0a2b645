package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
)

// tokenRequest is a bot platform's request for a token, whatever its shape.
type tokenRequest struct {
	ConnID    string
	MeetingID string
	// Secret is the plain auth_token (OBF_CALLBACK_SECRET).
	Secret string
	// Exp and Sig are a signed URL's expiry and signature (tokenurl).
	Exp, Sig string
	// Dup names the first parameter given more than once, if any.
	Dup string
}

// callbackRoute describes how one bot platform asks for one kind of token:
// where, how its parameters are read and how the reply is written. Adding a
// platform (other parameter names, POST with JSON, a JSON reply) or a token
// kind is one more entry in callbackRoutes, not a new handler.
type callbackRoute struct {
	method, path string
	kind         onbehalf.TokenKind
	read         func(*gin.Context) tokenRequest
	write        func(c *gin.Context, status int, body string)
}

// callbackRoutes are the token URLs served. Recall's shape: GET with
// user_id (and meeting_id for OBF) plus either exp and sig (signed URL) or
// auth_token (plain secret URL) in the query; the bare token as text/plain.
// ZAK routes serve "GET /zak-callback": the bot signs in as the user.
var callbackRoutes = []callbackRoute{
	{method: http.MethodGet, path: "/obf-callback", kind: onbehalf.KindOBF, read: readQuery, write: plain},
	{method: http.MethodGet, path: "/recall/obf-callback", kind: onbehalf.KindOBF, read: readQuery, write: plain},
	{method: http.MethodGet, path: "/zak-callback", kind: onbehalf.KindZAK, read: readQuery, write: plain},
	{method: http.MethodGet, path: "/recall/zak-callback", kind: onbehalf.KindZAK, read: readQuery, write: plain},
}

// isCallbackPath reports whether a route pattern is a token callback.
func isCallbackPath(p string) bool {
	_, ok := callbackKind(p)
	return ok
}

// callbackKind returns the token kind a callback path serves.
func callbackKind(p string) (onbehalf.TokenKind, bool) {
	for _, rt := range callbackRoutes {
		if rt.path == p {
			return rt.kind, true
		}
	}
	return "", false
}

// queryParams are the parameters readQuery knows, in the order a
// duplicate is reported.
var queryParams = []string{"user_id", "meeting_id", "auth_token", tokenurl.ParamExp, tokenurl.ParamSig}

// readQuery reads the contract's query parameters and those of a signed
// URL. A parameter given twice is noted in Dup, never silently resolved.
func readQuery(c *gin.Context) tokenRequest {
	q := c.Request.URL.Query()
	req := tokenRequest{
		ConnID:    q.Get("user_id"),
		MeetingID: q.Get("meeting_id"),
		Secret:    q.Get("auth_token"),
		Exp:       q.Get(tokenurl.ParamExp),
		Sig:       q.Get(tokenurl.ParamSig),
	}
	for _, k := range queryParams {
		if len(q[k]) > 1 {
			req.Dup = k
			break
		}
	}
	return req
}

// tokenCallback handles a token URL, e.g. "GET /obf-callback" or
// "GET /zak-callback": limit, check Recall's signature, authorize,
// validate, mint, reply. The status table is the contract's §3, plus 429.
func (s *Server) tokenCallback(rt callbackRoute) gin.HandlerFunc {
	return func(c *gin.Context) {
		token, err := s.serveToken(c, rt)
		if err != nil {
			if onbehalf.ErrorCode(err) == onbehalf.EUNAUTHORIZED {
				// Past the failure budget of this client, 429 replaces 401.
				if lim := s.sec.limits.failure(c, s.now()); lim != nil {
					err = lim
				}
			}
			if statusOf(err) >= 500 || onbehalf.ErrorCode(err) == onbehalf.ECONFLICT {
				s.logError(c, "token callback failed", err)
			}
			rt.write(c, statusOf(err), onbehalf.ErrorMessage(err))
			return
		}
		rt.write(c, http.StatusOK, token)
	}
}

// serveToken runs the checks in order, cheapest and least revealing
// first, then mints.
func (s *Server) serveToken(c *gin.Context, rt callbackRoute) (token string, err error) {
	now := s.now()
	if err := s.sec.limits.perIP(c, now); err != nil {
		return "", err
	}
	if v := s.sec.recall; v != nil {
		body, rerr := io.ReadAll(io.LimitReader(c.Request.Body, maxSignedBody+1))
		if rerr != nil || len(body) > maxSignedBody {
			return "", onbehalf.Errorf(onbehalf.EINVALID, "The request body is too large or unreadable.")
		}
		release, verr := v.verify(c.Request.Header, body, now)
		if verr != nil {
			return "", verr
		}
		// A request that fails further on may be retried by Recall with
		// the same webhook-id: only a served token uses the ID up. (err is
		// the named result.)
		defer func() {
			if err != nil {
				release()
			}
		}()
	}
	req := rt.read(c)
	// Syntax first: a missing or malformed parameter is a 400 whatever the
	// authorization mode, and says nothing about secrets or connections.
	if err := validate(rt.kind, req); err != nil {
		return "", err
	}
	if err := s.authorize(rt.kind, req); err != nil {
		return "", err
	}
	if err := s.sec.limits.perConn(c, req.ConnID, now); err != nil {
		return "", err
	}
	token, err = s.opts.Minter.Mint(c.Request.Context(), req.ConnID, rt.kind, req.MeetingID)
	switch onbehalf.ErrorCode(err) {
	case "":
		if token == "" { // never a 200 with an empty body
			return "", onbehalf.Errorf(onbehalf.EUPSTREAM, "Zoom returned an empty token.")
		}
		return token, nil
	case onbehalf.ENOTFOUND:
		return "", onbehalf.Errorf(onbehalf.ENOTFOUND,
			"Unknown user_id: no Zoom connection has this ID. Connect Zoom at %s/zoom/oauth and use the token URL it gives.", s.opts.BaseURL)
	case onbehalf.ECONFLICT:
		return "", onbehalf.Errorf(onbehalf.ECONFLICT,
			"This Zoom connection no longer works (%s). The user must reconnect at %s/zoom/oauth; the token URL keeps working after that.",
			onbehalf.ErrorMessage(err), s.opts.BaseURL)
	}
	return "", err
}

// authorize checks a token request in one of two modes. A signed URL (exp
// and sig) is checked whenever the request carries either: tokenurl
// checks that this server signed exactly these parameters for this token
// kind and that it has not expired; an auth_token next to them must be
// right too. Otherwise the plain auth_token is
// compared with OBF_CALLBACK_SECRET in constant time (both sides are
// hashed first so that the comparison does not leak the secret's length),
// unless plain URLs are disabled.
func (s *Server) authorize(kind onbehalf.TokenKind, req tokenRequest) error {
	if req.Sig != "" || req.Exp != "" {
		if req.Dup != "" && req.Dup != "auth_token" {
			return onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Token URL refused: %s appears more than once, so the URL was changed.", req.Dup)
		}
		if err := s.sec.signer.Verify(kind, req.ConnID, req.MeetingID, req.Exp, req.Sig); err != nil {
			return err
		}
		if req.Secret == "" {
			return nil
		}
		// A signed URL that also carries auth_token must carry the right one.
	}
	if req.Secret == "" {
		return onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Missing auth_token: the token URL must carry the server's secret, or be a signed URL (exp and sig) as /launch gives.")
	}
	if s.opts.DisableSecretURLs {
		return onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Token URL refused: plain secret URLs are disabled on this server (ALLOW_SECRET_URLS=false). Use the signed token URL that /launch gives.")
	}
	if req.Dup == "auth_token" {
		return onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Wrong auth_token: it appears more than once.")
	}
	got := sha256.Sum256([]byte(req.Secret))
	if subtle.ConstantTimeCompare(got[:], s.secretSum[:]) != 1 {
		return onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Wrong auth_token: it does not match this server's OBF_CALLBACK_SECRET.")
	}
	return nil
}

// validate checks the parameters a token kind needs.
func validate(kind onbehalf.TokenKind, req tokenRequest) error {
	switch {
	case req.ConnID == "":
		return onbehalf.Errorf(onbehalf.EINVALID, "Missing user_id: the connection ID this server gave when Zoom was connected.")
	case len(req.ConnID) > 128:
		return onbehalf.Errorf(onbehalf.EINVALID, "Bad user_id: too long to be a connection ID.")
	case req.Dup == "user_id":
		return onbehalf.Errorf(onbehalf.EINVALID, "Bad user_id: it appears more than once.")
	}
	if kind != onbehalf.KindOBF {
		return nil
	}
	switch {
	case req.MeetingID == "":
		return onbehalf.Errorf(onbehalf.EINVALID, "Missing meeting_id: an OBF token is bound to one meeting.")
	case req.Dup == "meeting_id":
		return onbehalf.Errorf(onbehalf.EINVALID, "Bad meeting_id: it appears more than once.")
	case !isDigits(req.MeetingID):
		return onbehalf.Errorf(onbehalf.EINVALID, "Bad meeting_id: it must be the numeric Zoom meeting ID (digits only).")
	case len(req.MeetingID) < 9 || len(req.MeetingID) > 12:
		return onbehalf.Errorf(onbehalf.EINVALID, "Bad meeting_id: a Zoom meeting ID has 9 to 12 digits.")
	}
	return nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
