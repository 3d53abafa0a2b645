package web

import (
	"net/http"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Session keys and cookie name.
const (
	sessionCookie   = "onbehalf"
	sessConn        = "conn"
	sessOAuthState  = "oauth_state"
	sessOAuthVerify = "oauth_verifier"
)

// handleHome handles "GET /".
func (s *Server) handleHome(c *gin.Context) {
	conn, _ := s.sessionConnection(c)
	var notice string
	if c.Query("disconnected") == "1" {
		notice = "Zoom disconnected: this server deleted your tokens and profile data."
		if c.Query("revoke_failed") == "1" {
			notice += " Zoom could not be told to revoke the grant; remove the app in Zoom (App Marketplace → Manage → Added Apps) to be sure."
		}
	}
	s.render(c, http.StatusOK, s.pages.home, homeData{
		Notice:         notice,
		Conn:           conn,
		ZoomConfigured: s.opts.OAuth != nil,
		Missing:        s.opts.Hints,
		RedirectURI:    s.opts.RedirectURI,
		OBFURLTemplate: s.obfTemplate(conn),
		BaseURL:        s.opts.BaseURL,
	})
}

// sessionConnection returns the connection whose ID the session holds, or
// nil when there is none. A session pointing to a deleted connection is
// cleared.
func (s *Server) sessionConnection(c *gin.Context) (*onbehalf.Connection, error) {
	sess := sessions.Default(c)
	id, _ := sess.Get(sessConn).(string)
	if id == "" {
		return nil, onbehalf.Errorf(onbehalf.ENOTFOUND, "Not connected.")
	}
	conn, err := s.opts.Store.Connection(c.Request.Context(), id)
	if onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND {
		sess.Delete(sessConn)
		_ = sess.Save()
	}
	if err != nil {
		return nil, err
	}
	return conn, nil
}

// csrf rejects cross-origin state-changing requests from browsers.
func (s *Server) csrf(c *gin.Context) {
	if err := s.cop.Check(c.Request); err != nil {
		s.log.Info("cross-origin request rejected", "path", c.Request.URL.Path, "origin", c.GetHeader("Origin"))
		c.Abort()
		s.render(c, http.StatusForbidden, s.pages.errorPage, errorData{
			Title:   "Request refused",
			Message: "This form was submitted from another site, so it was refused. Open the page on this server and submit it again.",
		})
	}
}

// obfTemplate is the plain token URL template shown on the home page, with
// the connection ID filled in for a connected person; "" when plain URLs
// are disabled. The secret is never shown.
func (s *Server) obfTemplate(conn *onbehalf.Connection) string {
	if s.opts.DisableSecretURLs {
		return ""
	}
	id := "{connection_id}"
	if conn != nil {
		id = conn.ID
	}
	return s.opts.BaseURL + "/obf-callback?user_id=" + id + "&meeting_id={meeting_id}&auth_token={OBF_CALLBACK_SECRET}"
}
