package web

import (
	"net/http"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
)

// notFoundText is the body of a 404 for a path this server does not serve:
// an unknown route and a page turned off by PAGES=false read the same, so
// that nobody learns which pages exist.
const notFoundText = "404 page not found"

// notFound answers 404 as an unknown route does (statusReply: a page for
// a browser, notFoundText for anything else).
func (s *Server) notFound(c *gin.Context) {
	s.statusReply(c, http.StatusNotFound)
}

// pagesOn lets a browser page through unless PAGES=false turned the pages
// off: then it is a 404. Every page for people (home, launch, the person's
// page, disconnect) is mounted behind it; connect links, their OAuth
// callback and result pages are not.
func (s *Server) pagesOn(c *gin.Context) {
	if s.opts.PagesOff {
		s.notFound(c)
		return
	}
	c.Next()
}

// connectLinkFlow lets the OAuth routes through when the pages are on, or
// when the session carries a connect link (set by GET /connect/:link):
// with PAGES=false only the product's connect links may connect Zoom.
func (s *Server) connectLinkFlow(c *gin.Context) {
	if s.opts.PagesOff {
		if link, _ := sessions.Default(c).Get(sessLink).(string); link == "" {
			s.notFound(c)
			return
		}
	}
	c.Next()
}

// handleOAuthStartPaged handles "GET /zoom/oauth": with the pages on, a
// plain connect (any connect link the session had is dropped); with
// PAGES=false only the connect link the session carries may start again
// (connectLinkFlow refused the others), so it is kept.
func (s *Server) handleOAuthStartPaged(c *gin.Context) {
	if !s.opts.PagesOff {
		s.handleOAuthStart(c)
		return
	}
	s.startOAuth(c, sessions.Default(c))
}
