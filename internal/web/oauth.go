package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"golang.org/x/oauth2"
)

// handleOAuthStart handles "GET /zoom/oauth": it binds a random state and a
// PKCE verifier to the session and sends the browser to Zoom's consent page.
func (s *Server) handleOAuthStart(c *gin.Context) {
	if s.opts.OAuth == nil {
		s.render(c, http.StatusServiceUnavailable, s.pages.errorPage, errorData{
			Title:   "Zoom is not configured yet",
			Message: "This server has no Zoom app credentials, so it cannot connect Zoom.",
			Missing: s.zoomHints(),
		})
		return
	}
	state := randomToken()
	verifier := oauth2.GenerateVerifier()
	sess := sessions.Default(c)
	sess.Set(sessOAuthState, state)
	sess.Set(sessOAuthVerify, verifier)
	if err := sess.Save(); err != nil {
		s.renderError(c, "Could not start sign-in", onbehalf.WrapError(err, onbehalf.EINTERNAL, "Could not save the session."), "/zoom/oauth")
		return
	}
	c.Redirect(http.StatusFound, s.opts.OAuth.AuthCodeURL(state, verifier))
}

// handleOAuthCallback handles "GET /zoom/oauth-callback": it checks state,
// exchanges the code, reads the Zoom user and stores the connection.
// Nothing is stored on any failure.
func (s *Server) handleOAuthCallback(c *gin.Context) {
	const title = "Could not connect Zoom"
	if s.opts.OAuth == nil {
		s.handleOAuthStart(c)
		return
	}
	sess := sessions.Default(c)
	want, _ := sess.Get(sessOAuthState).(string)
	verifier, _ := sess.Get(sessOAuthVerify).(string)
	// The state is single-use, whatever happens next.
	sess.Delete(sessOAuthState)
	sess.Delete(sessOAuthVerify)
	fail := func(err error) {
		_ = sess.Save()
		s.renderError(c, title, err, "/zoom/oauth")
	}

	q := c.Request.URL.Query()
	if e := q.Get("error"); e != "" {
		msg := "Zoom did not authorize the app: " + clip(e, 100)
		if d := q.Get("error_description"); d != "" {
			msg += " (" + clip(d, 200) + ")"
		}
		fail(onbehalf.Errorf(onbehalf.EINVALID, "%s.", msg))
		return
	}
	got := q.Get("state")
	if want == "" || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		fail(onbehalf.Errorf(onbehalf.EINVALID,
			"The sign-in request does not match this browser session (missing or wrong state): it expired, was used already, or was started in another browser."))
		return
	}
	code := q.Get("code")
	if code == "" {
		fail(onbehalf.Errorf(onbehalf.EINVALID, "Zoom sent no authorization code."))
		return
	}
	tok, err := s.opts.OAuth.Exchange(c.Request.Context(), code, verifier)
	if err != nil {
		if onbehalf.ErrorCode(err) == onbehalf.ECONFLICT {
			// A rejected code is the upstream's answer, not a dead connection.
			err = &onbehalf.Error{Code: onbehalf.EUPSTREAM, Message: onbehalf.ErrorMessage(err), Err: err}
		}
		s.logError(c, "oauth code exchange failed", err)
		fail(err)
		return
	}
	user, err := s.opts.OAuth.Me(c.Request.Context(), tok.AccessToken)
	if err != nil {
		if onbehalf.ErrorCode(err) == onbehalf.EUNAUTHORIZED {
			err = &onbehalf.Error{Code: onbehalf.EUPSTREAM, Message: onbehalf.ErrorMessage(err) + " Check that the app has the user:read:user scope.", Err: err}
		}
		s.logError(c, "reading zoom user failed", err)
		fail(err)
		return
	}
	conn, err := s.opts.Store.UpsertConnection(c.Request.Context(), user, tok)
	if err != nil {
		s.logError(c, "storing connection failed", err)
		fail(err)
		return
	}
	// A fresh session for the connected user: nothing from before sign-in
	// is carried over.
	sess.Clear()
	sess.Set(sessConn, conn.ID)
	now := s.now().Unix()
	sess.Set(sessCreated, now) // the session's lifetime starts at connect
	sess.Set(sessSeen, now)
	if err := sess.Save(); err != nil {
		s.renderError(c, title, onbehalf.WrapError(err, onbehalf.EINTERNAL, "Could not save the session."), "/zoom/oauth")
		return
	}
	s.log.Info("zoom connected", "conn", conn.ID)
	c.Redirect(http.StatusSeeOther, "/launch")
}

// zoomHints says how to configure Zoom.
func (s *Server) zoomHints() []Hint {
	var out []Hint
	for _, h := range s.opts.Hints {
		if h.Var == "ZOOM_CLIENT_ID" || h.Var == "ZOOM_CLIENT_SECRET" {
			out = append(out, h)
		}
	}
	return out
}

// randomToken returns 32 random bytes, base64url.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics on failure)
	return base64.RawURLEncoding.EncodeToString(b)
}

// clip shortens s to at most n bytes for display.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
