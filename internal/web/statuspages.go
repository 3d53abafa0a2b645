package web

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// statusPage is what a browser reads for a bare HTTP error: an unknown
// address, a method a route does not take, a crash.
type statusPage struct {
	title, message string
	// plain is the body for clients that are not browsers (scripts,
	// platforms, tests), in Gin's words.
	plain string
}

// statusPages are the pages of the bare HTTP errors, by status.
var statusPages = map[int]statusPage{
	http.StatusNotFound: {
		title:   "Page not found",
		message: "There is no page at this address. Check the link you followed, or start again from the home page.",
		plain:   notFoundText,
	},
	http.StatusMethodNotAllowed: {
		title:   "This address does not take that request",
		message: "The page exists, but not for this kind of request (a form sent to a link, or the other way round). Open it from the home page instead.",
		plain:   "405 method not allowed",
	},
	http.StatusInternalServerError: {
		title:   "Something went wrong on this server",
		message: "The server hit an error it did not expect, and nothing was changed. Try again in a moment.",
		plain:   "internal error",
	},
}

// wantsHTML reports whether the client asked for a page: browsers list
// text/html in Accept; scripts and HTTP libraries do not, and keep the
// plain text reply they always had.
func wantsHTML(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(mt), "text/html") {
			continue
		}
		// "text/html;q=0" refuses HTML.
		q := strings.ReplaceAll(params, " ", "")
		return !strings.Contains(q, "q=0") || strings.Contains(q, "q=0.")
	}
	return false
}

// statusReply answers a bare HTTP error: a page in the site's look for a
// browser, else the plain text line.
func (s *Server) statusReply(c *gin.Context, status int) {
	c.Abort()
	sp := statusPages[status]
	if !wantsHTML(c.Request) || c.Request.Method == http.MethodHead {
		plain(c, status, sp.plain)
		return
	}
	d := errorData{page: s.page(0), Title: sp.title, Message: sp.message, Calm: status != http.StatusInternalServerError, Status: status,
		NoStart: s.opts.PagesOff}
	if status == http.StatusInternalServerError {
		d.RetryURL = c.Request.URL.Path
		if c.Request.Method != http.MethodGet {
			d.RetryURL = ""
		}
	}
	s.render(c, status, s.pages.errorPage, d)
}
