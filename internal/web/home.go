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
	sessOAuthAt     = "oauth_at"
	sessLink        = "connect_link"
)

// botsShown bounds the bots listed on a page.
const botsShown = 20

// handleHome handles "GET /".
func (s *Server) handleHome(c *gin.Context) {
	ctx := c.Request.Context()
	conn, _ := s.sessionConnection(c)
	var notice string
	if c.Query("disconnected") == "1" {
		notice = "Zoom disconnected: this server deleted your tokens and profile data."
		if c.Query("revoke_failed") == "1" {
			notice += " Zoom could not be told to revoke the grant; remove the app in Zoom (App Marketplace → Manage → Added Apps) to be sure."
		}
	}
	d := homeData{
		page:           s.page(1),
		Notice:         notice,
		Conn:           conn,
		ZoomConfigured: s.opts.OAuth != nil,
		Missing:        s.opts.Hints,
		RedirectURI:    s.opts.RedirectURI,
		OBFURLTemplate: s.obfTemplate(conn),
		BaseURL:        s.opts.BaseURL,
	}
	if err := s.opts.Store.Health(ctx); err != nil {
		d.StoreProblem = onbehalf.ErrorMessage(err)
	}
	if conn != nil {
		d.Step = 2
		if !conn.Connected() {
			d.Step = 1 // reconnect
		}
		d.Health = health(conn, onbehalf.Kinds)
		if s.opts.Refreshes != nil && conn.Connected() {
			d.Health.Refresh = s.opts.Refreshes.RefreshState(conn.ID)
		}
		d.Bots = s.botViews(c, conn)
		if conn.Connected() {
			d.Team, _ = s.team(c, conn)
		}
	}
	s.render(c, http.StatusOK, s.pages.home, d)
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

// botViews returns the connection's newest bots as a person reads them.
func (s *Server) botViews(c *gin.Context, conn *onbehalf.Connection) []botView {
	list, _, err := s.opts.Store.ListBots(c.Request.Context(), onbehalf.BotFilter{ConnectionID: conn.ID, Limit: botsShown})
	if err != nil {
		s.logError(c, "listing bots failed", err)
		return nil
	}
	list = withRelays(c.Request.Context(), s.opts.Store, list) // relayview.go
	vc := s.viewContext()
	vc.connDead = !conn.Connected()
	vc.conn, vc.now = conn, s.now()
	if s.opts.Refreshes != nil {
		if st := s.opts.Refreshes.RefreshState(conn.ID); st.Failing {
			vc.failing = st.Reason
		}
	}
	vc.names = s.candidateNames(c, conn, list)
	sent := relayedFor(c.Request.Context(), s.opts.Store, conn, list)
	out := make([]botView, 0, len(list))
	for _, b := range list {
		v := newBotView(b, vc)
		v.Watch = watch(b, conn, vc.now)
		if who := sent[b.ID]; who != "" {
			sentFor(&v, who)
		}
		out = append(out, v)
	}
	return out
}

// viewContext is what rendering bots needs: the platforms' titles and
// Zoom's web origin, where meetings are <origin>/j/<id> (that of
// ZOOM_OAUTH_URL: zoom.us, zoomgov.com, or the demo's fake Zoom).
func (s *Server) viewContext() viewContext {
	vc := viewContext{titles: map[string]string{}}
	for _, p := range s.opts.Platforms {
		vc.titles[p.Name()] = p.Title()
	}
	if s.opts.OAuth != nil {
		vc.zoomWeb = webOrigin(s.opts.OAuth.AuthCodeURL("", ""))
	}
	return vc
}

// csrf rejects cross-origin state-changing requests from browsers.
func (s *Server) csrf(c *gin.Context) {
	if err := s.cop.Check(c.Request); err != nil {
		s.log.InfoContext(c.Request.Context(), "cross-origin request rejected", "path", c.Request.URL.Path, "origin", onbehalf.Clip(c.GetHeader("Origin"), 100))
		c.Abort()
		s.render(c, http.StatusForbidden, s.pages.errorPage, errorData{
			page:    s.page(0),
			Title:   "Request refused",
			Message: "This form was submitted from another site, so it was refused. Open the page on this server and submit it again.",
		})
	}
}

// obfTemplate is the plain token URL template shown on the home page, with
// the connection ID filled in for a connected person; "" when plain URLs
// are disabled. The secret is never shown.
func (s *Server) obfTemplate(conn *onbehalf.Connection) string {
	if !s.opts.PlainURLs {
		return ""
	}
	id := "{connection_id}"
	if conn != nil {
		id = conn.ID
	}
	return s.opts.BaseURL + "/obf-callback?user_id=" + id + "&meeting_id={meeting_id}&auth_token={OBF_CALLBACK_SECRET}"
}

// handleDisconnect handles "POST /zoom/disconnect": it deletes the
// connection's tokens and personal data, revokes the grant at Zoom and
// clears the session.
func (s *Server) handleDisconnect(c *gin.Context) {
	sess := sessions.Default(c)
	id, _ := sess.Get(sessConn).(string)
	sess.Clear()
	_ = sess.Save()
	if id == "" {
		c.Redirect(http.StatusSeeOther, "/")
		return
	}
	_, revokeErr, err := s.opts.Connector.Disconnect(c.Request.Context(), id)
	if onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND {
		c.Redirect(http.StatusSeeOther, "/?disconnected=1")
		return
	} else if err != nil {
		s.logError(c, "disconnect failed", err)
		s.renderError(c, "Could not disconnect", err, "/")
		return
	}
	s.log.InfoContext(c.Request.Context(), "zoom disconnected by user", "conn", id)
	if revokeErr != nil {
		s.logError(c, "revoking zoom grant failed", revokeErr)
		c.Redirect(http.StatusSeeOther, "/?disconnected=1&revoke_failed=1")
		return
	}
	c.Redirect(http.StatusSeeOther, "/?disconnected=1")
}
