package web

import (
	"crypto/sha256"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// sessBrowser is the session key of the random per-browser value a connect
// link is bound to (its SHA-256 is stored on the link).
const sessBrowser = "browser"

// connectData is the data of connect.html: a connect link's consent page.
type connectData struct {
	page
	LinkID         string
	ExternalUserID string
	// Origin is the product's origin (of the link's return_to), "" when
	// the link has none.
	Origin    string
	ExpiresAt time.Time
}

// handleConnectLink handles "GET /connect/:link": a one-time link the
// product's backend made (POST /api/v1/connect-links). It shows the
// consent page, which names the product's user the Zoom account will be
// linked to; its Continue button (a POST) starts OAuth.
//
// The link is bound to the first browser that opens it: a browser's
// navigation binds it at once, and another browser then gets a 409. A GET
// that is not a browser's navigation (no "Sec-Fetch-Mode: navigate": a
// mail scanner or a chat app's link preview) sees the page but binds
// nothing, so that it cannot use the link up; Continue binds in any case.
func (s *Server) handleConnectLink(c *gin.Context) {
	l, err := s.opts.Store.ConnectLink(c.Request.Context(), c.Param("link"))
	if err == nil && c.GetHeader("Sec-Fetch-Mode") == "navigate" {
		l, err = s.bindLink(c)
	}
	if err = linkError(l, err, s.now()); err != nil {
		s.renderError(c, "Cannot connect Zoom", err, "")
		return
	}
	d := connectData{page: s.page(1), LinkID: l.ID, ExternalUserID: l.ExternalUserID, ExpiresAt: l.ExpiresAt}
	if u, err := url.Parse(l.ReturnTo); err == nil && u.Host != "" {
		d.Origin = u.Host
	}
	s.render(c, http.StatusOK, s.pages.connect, d)
}

// handleConnectContinue handles "POST /connect/:link" (CSRF-protected):
// the consent page's Continue. The link must be bound to this browser (or
// is bound to it now); then OAuth starts for it.
func (s *Server) handleConnectContinue(c *gin.Context) {
	l, err := s.bindLink(c)
	if err = linkError(l, err, s.now()); err != nil {
		s.renderError(c, "Cannot connect Zoom", err, "")
		return
	}
	sess := sessions.Default(c)
	sess.Set(sessLink, l.ID)
	s.startOAuth(c, sess)
}

// bindLink binds the path's link to this browser (BindConnectLink),
// giving the browser its random value first if it has none.
func (s *Server) bindLink(c *gin.Context) (*onbehalf.ConnectLink, error) {
	sess := sessions.Default(c)
	v, _ := sess.Get(sessBrowser).(string)
	if v == "" {
		v = randomToken()
		sess.Set(sessBrowser, v)
		if err := sess.Save(); err != nil {
			return nil, onbehalf.WrapError(err, onbehalf.EINTERNAL, "Could not save the session.")
		}
	}
	sum := sha256.Sum256([]byte(v))
	return s.opts.Store.BindConnectLink(c.Request.Context(), c.Param("link"), sum[:], s.now())
}

// linkError is the error a person sees for a connect link that cannot be
// used (nil when l can). The store's own words serve for a conflict (used,
// expired, opened in another browser).
func linkError(l *onbehalf.ConnectLink, err error, now time.Time) error {
	switch {
	case onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND:
		return onbehalf.Errorf(onbehalf.ENOTFOUND, "This connect link does not exist. Ask the app that sent you here for a new one.")
	case err != nil:
		return err
	case !l.UsedAt.IsZero():
		return onbehalf.Errorf(onbehalf.ECONFLICT, "This connect link was used already. Ask the app that sent you here for a new one.")
	case !now.Before(l.ExpiresAt):
		return onbehalf.Errorf(onbehalf.ECONFLICT, "This connect link expired. Ask the app that sent you here for a new one.")
	}
	return nil
}
