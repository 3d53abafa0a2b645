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

// PathConnected is the page a connect link without return_to ends on: it
// says the account is connected and the tab can be closed, and nothing of
// this server's own pages.
const PathConnected = "/connect-done"

// connectData is the data of connect.html: a connect link's consent page.
type connectData struct {
	page
	// Secret is the link's secret, the last part of its URL.
	Secret         string
	ExternalUserID string
	// Origin is the product's origin (of the link's return_to), "" when
	// the link has none.
	Origin    string
	ExpiresAt time.Time
}

// handleConnectLink handles "GET /connect/:link" (the link's secret): a one-time link the
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
	if err == nil && l.Status(s.now()) == onbehalf.LinkPending && c.GetHeader("Sec-Fetch-Mode") == "navigate" {
		l, err = s.bindLink(c)
	}
	if err = linkError(l, err, s.now()); err != nil {
		s.renderLinkError(c, err)
		return
	}
	d := connectData{page: s.linkPage(1), Secret: l.Secret, ExternalUserID: l.ExternalUserID, ExpiresAt: l.ExpiresAt}
	if u, err := url.Parse(l.ReturnTo); err == nil && u.Host != "" {
		d.Origin = u.Host
	}
	s.render(c, http.StatusOK, s.pages.connect, d)
}

// handleConnectContinue handles "POST /connect/:link" (CSRF-protected):
// the consent page's Continue. The link must be bound to this browser (or
// is bound to it now); then OAuth starts for it.
func (s *Server) handleConnectContinue(c *gin.Context) {
	l, err := s.opts.Store.ConnectLink(c.Request.Context(), c.Param("link"))
	if err == nil && l.Status(s.now()) == onbehalf.LinkPending {
		l, err = s.bindLink(c)
	}
	if err = linkError(l, err, s.now()); err != nil {
		s.renderLinkError(c, err)
		return
	}
	sess := sessions.Default(c)
	sess.Set(sessLink, l.Secret)
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
// used (nil when l can). The store's own words serve for a conflict found
// while binding (opened in another browser).
func linkError(l *onbehalf.ConnectLink, err error, now time.Time) error {
	if onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND {
		return onbehalf.Errorf(onbehalf.ENOTFOUND, "This connect link does not exist. Ask the app that sent you here for a new one.")
	}
	if err != nil {
		return err
	}
	switch l.Status(now) {
	case onbehalf.LinkRevoked:
		return errLinkRevoked
	case onbehalf.LinkUsed:
		return onbehalf.Errorf(onbehalf.ECONFLICT, "This connect link was used already. Ask the app that sent you here for a new one.")
	case onbehalf.LinkExpired:
		return onbehalf.Errorf(onbehalf.ECONFLICT, "This connect link expired. Ask the app that sent you here for a new one.")
	}
	return nil
}

// errLinkRevoked is the error a person sees for a revoked connect link.
var errLinkRevoked = onbehalf.Errorf(onbehalf.ECONFLICT,
	"The app that sent you here revoked this connect link, so it no longer works. Nothing was connected. If you still want to connect Zoom, ask the app for a new link.")

// renderLinkError shows why a connect link cannot be used, without links
// to this server's own pages; a revoked link's page says so in its title.
// Where the link stands (revoked, used, expired, unknown) is news to the
// person, not a fault to report.
func (s *Server) renderLinkError(c *gin.Context, err error) {
	title := "Cannot connect Zoom"
	if err == errLinkRevoked {
		title = "This connect link was revoked"
	}
	code := onbehalf.ErrorCode(err)
	s.render(c, onbehalf.HTTPStatus(err), s.pages.errorPage, errorData{page: s.linkPage(0), Title: title,
		Message: onbehalf.ErrorMessage(err), NoStart: true, Calm: code == onbehalf.ECONFLICT || code == onbehalf.ENOTFOUND})
}

// linkUseError is the error a person sees when the OAuth flow comes back
// with a link that can no longer be used (used meanwhile, expired,
// revoked): why, read from the link.
func (s *Server) linkUseError(c *gin.Context, secret string, err error) error {
	if code := onbehalf.ErrorCode(err); code != onbehalf.ECONFLICT && code != onbehalf.ENOTFOUND {
		return err
	}
	l, rerr := s.opts.Store.ConnectLink(c.Request.Context(), secret)
	if e := linkError(l, rerr, s.now()); e != nil {
		return e
	}
	return err
}

// connectedData is the data of connected.html.
type connectedData struct {
	page
	Conn *onbehalf.Connection
}

// handleConnected handles "GET /connect-done" (PathConnected): a connect
// link without return_to ends here after connecting, whether the pages
// are on or off. A connected session is told it worked and that the tab
// can be closed; any other is a 404. With PAGES=false it answers
// "GET /launch" too, where such links ended before.
func (s *Server) handleConnected(c *gin.Context) {
	conn, err := s.sessionConnection(c)
	if err != nil {
		s.notFound(c)
		return
	}
	s.render(c, http.StatusOK, s.pages.connected, connectedData{page: s.linkPage(0), Conn: conn})
}
