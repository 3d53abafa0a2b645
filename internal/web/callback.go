package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// tokenRequest is a bot platform's request for a token, whatever its shape.
type tokenRequest struct {
	ConnID    string
	MeetingID string
	Secret    string
}

// callbackRoute describes how one bot platform asks for one kind of token:
// where, how its parameters are read and how the reply is written. Adding a
// platform (other parameter names, POST with JSON, a JSON reply) or a token
// kind (ZAK) is one more entry in callbackRoutes, not a new handler.
type callbackRoute struct {
	method, path string
	kind         onbehalf.TokenKind
	read         func(*gin.Context) tokenRequest
	write        func(c *gin.Context, status int, body string)
}

// callbackRoutes are the token URLs served. Recall's shape: GET with
// user_id, meeting_id and auth_token in the query, bare token as text/plain.
var callbackRoutes = []callbackRoute{
	{method: http.MethodGet, path: "/obf-callback", kind: onbehalf.KindOBF, read: readQuery, write: plain},
	{method: http.MethodGet, path: "/recall/obf-callback", kind: onbehalf.KindOBF, read: readQuery, write: plain},
}

// isCallbackPath reports whether a route pattern is a token callback.
func isCallbackPath(p string) bool {
	for _, rt := range callbackRoutes {
		if rt.path == p {
			return true
		}
	}
	return false
}

// readQuery reads the contract's query parameters.
func readQuery(c *gin.Context) tokenRequest {
	q := c.Request.URL.Query()
	return tokenRequest{ConnID: q.Get("user_id"), MeetingID: q.Get("meeting_id"), Secret: q.Get("auth_token")}
}

// tokenCallback handles a token URL, e.g. "GET /obf-callback": authorize,
// validate, mint, reply. The status table is the contract's §3.
func (s *Server) tokenCallback(rt callbackRoute) gin.HandlerFunc {
	return func(c *gin.Context) {
		req := rt.read(c)
		token, err := s.serveToken(c, rt.kind, req)
		if err != nil {
			if statusOf(err) >= 500 || onbehalf.ErrorCode(err) == onbehalf.ECONFLICT {
				s.logError(c, "token callback failed", err)
			}
			rt.write(c, statusOf(err), onbehalf.ErrorMessage(err))
			return
		}
		rt.write(c, http.StatusOK, token)
	}
}

// serveToken authorizes and validates a token request, then mints.
func (s *Server) serveToken(c *gin.Context, kind onbehalf.TokenKind, req tokenRequest) (string, error) {
	if err := s.authorize(req); err != nil {
		return "", err
	}
	if err := validate(kind, req); err != nil {
		return "", err
	}
	token, err := s.opts.Minter.Mint(c.Request.Context(), req.ConnID, kind, req.MeetingID)
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

// authorize checks the shared secret in constant time. Both sides are
// hashed first so that the comparison does not leak the secret's length.
func (s *Server) authorize(req tokenRequest) error {
	if req.Secret == "" {
		return onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Missing auth_token: the token URL must carry the server's secret.")
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
	}
	if kind != onbehalf.KindOBF {
		return nil
	}
	switch {
	case req.MeetingID == "":
		return onbehalf.Errorf(onbehalf.EINVALID, "Missing meeting_id: an OBF token is bound to one meeting.")
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
