package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/onbehalf/onbehalf/internal/connect"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// stateTTL bounds the time between leaving for Zoom's consent page and
// coming back (Zoom's code itself lives 5 minutes).
const stateTTL = 15 * time.Minute

// handleOAuthStart handles "GET /zoom/oauth": it binds a random state and a
// PKCE verifier to the session and sends the browser to Zoom's consent page.
func (s *Server) handleOAuthStart(c *gin.Context) {
	sess := sessions.Default(c)
	sess.Delete(sessLink) // a plain connect is not a connect link's
	s.startOAuth(c, sess)
}

// startOAuth sends the browser to Zoom's consent page with a fresh state
// and PKCE verifier bound to the session.
func (s *Server) startOAuth(c *gin.Context, sess sessions.Session) {
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
	sess.Set(sessOAuthState, state)
	sess.Set(sessOAuthVerify, verifier)
	sess.Set(sessOAuthAt, s.now().Unix())
	if err := sess.Save(); err != nil {
		s.renderError(c, "Could not start sign-in", onbehalf.WrapError(err, onbehalf.EINTERNAL, "Could not save the session."), "/zoom/oauth")
		return
	}
	c.Redirect(http.StatusFound, s.opts.OAuth.AuthCodeURL(state, verifier))
}

// handleOAuthCallback handles "GET /zoom/oauth-callback": it checks and
// burns the state and runs the one connect flow (package connect):
// exchange, Zoom user, ALLOWED_* policy for the pages, store. Nothing is
// stored on any failure, and a grant that is not kept is given back.
func (s *Server) handleOAuthCallback(c *gin.Context) {
	const title = "Could not connect Zoom"
	if s.opts.OAuth == nil {
		s.startOAuth(c, sessions.Default(c))
		return
	}
	ctx := c.Request.Context()
	sess := sessions.Default(c)
	want, _ := sess.Get(sessOAuthState).(string)
	verifier, _ := sess.Get(sessOAuthVerify).(string)
	at, _ := sess.Get(sessOAuthAt).(int64)
	linkID, _ := sess.Get(sessLink).(string)
	// The state is single-use, whatever happens next.
	sess.Delete(sessOAuthState)
	sess.Delete(sessOAuthVerify)
	sess.Delete(sessOAuthAt)
	sess.Delete(sessLink)
	retry := "/zoom/oauth"
	if linkID != "" {
		retry = "/connect/" + url.PathEscape(linkID) // unused until the code arrives
	}
	fail := func(err error) {
		_ = sess.Save()
		s.renderError(c, title, err, retry)
	}

	q := c.Request.URL.Query()
	if e := q.Get("error"); e != "" {
		_ = sess.Save()
		s.render(c, http.StatusBadRequest, s.pages.errorPage, zoomRefusal(s.page(0), e, q.Get("error_description"), retry))
		return
	}
	got := q.Get("state")
	if want == "" || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		fail(onbehalf.Errorf(onbehalf.EINVALID,
			"The sign-in request does not match this browser session (missing or wrong state): it expired, was used already, or was started in another browser."))
		return
	}
	// Burnt here, before the exchange: a replayed callback (the old cookie
	// and URL again) is refused even while Zoom's code is still valid.
	if !s.sec.states.claim(got, s.now()) || s.now().Sub(time.Unix(at, 0)) > stateTTL {
		fail(onbehalf.Errorf(onbehalf.EINVALID, "This sign-in request was used already or expired: connect again."))
		return
	}
	code := q.Get("code")
	if code == "" {
		fail(onbehalf.Errorf(onbehalf.EINVALID, "Zoom sent no authorization code."))
		return
	}
	var link *onbehalf.ConnectLink
	if linkID != "" {
		l, err := s.opts.Store.UseConnectLink(ctx, linkID, s.now())
		if err != nil {
			_ = sess.Save()
			s.renderLinkError(c, s.linkUseError(c, linkID, err))
			return
		}
		link, retry = l, ""
	}
	req := connect.Request{
		Exchange: func(ctx context.Context) (onbehalf.Token, error) {
			tok, err := s.opts.OAuth.Exchange(ctx, code, verifier)
			if err != nil {
				s.logError(c, "oauth code exchange failed", err)
			}
			return tok, err
		},
		// Only a connect through the pages is limited: the product's
		// connect links are its business.
		Limited: link == nil,
	}
	if link != nil {
		req.ExternalUserID, req.Metadata = link.ExternalUserID, link.Metadata
	}
	res, err := s.connect.Connect(ctx, req)
	if cc, ok := errors.AsType[*onbehalf.ConnectConflict](err); ok {
		_ = sess.Save()
		s.render(c, http.StatusConflict, s.pages.errorPage, errorData{page: s.linkPage(0), NoStart: true,
			Title: "This Zoom account is already connected to " + quote(cc.ExternalUserID),
			Message: fmt.Sprintf("Your Zoom account is already connected to %s in the app that sent you here, so it was not connected to %s. "+
				"Nothing was changed: it stays connected to %s. If that is not you, or this link was not meant for you, tell the app that sent it.",
				quote(cc.ExternalUserID), quote(cc.RequestedExternalUserID), quote(cc.ExternalUserID)),
		})
		return
	}
	if err != nil {
		if onbehalf.ErrorCode(err) != onbehalf.EFORBIDDEN {
			s.logError(c, "connecting zoom failed", err)
		}
		fail(err)
		return
	}
	conn, created := res.Conn, res.Created
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
	s.log.InfoContext(ctx, "zoom connected", "conn", conn.ID, "new", created, "link", link != nil)
	if link == nil {
		c.Redirect(http.StatusSeeOther, "/launch")
		return
	}
	// The link's record of what it made; the connect stands either way.
	if err := s.opts.Store.LinkConnectLink(ctx, linkID, conn.ID); err != nil {
		s.logError(c, "recording a connect link's connection failed", err)
	}
	if link.ReturnTo != "" {
		c.Redirect(http.StatusSeeOther, withParam(link.ReturnTo, "connection_id", conn.ID))
		return
	}
	c.Redirect(http.StatusSeeOther, PathConnected)
}

// withParam returns u with a query parameter added.
func withParam(u, k, v string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := p.Query()
	q.Set(k, v)
	p.RawQuery = q.Encode()
	return p.String()
}

// zoomHints says how to configure Zoom.
func (s *Server) zoomHints() []onbehalf.Hint {
	var out []onbehalf.Hint
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
