package web

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/templates"
)

// pages holds every page template, parsed once at start: base.html plus the
// page's own file defining the "main" block.
type pages struct {
	home, launch, errorPage *template.Template
}

func parsePages() (pages, error) {
	parse := func(name string) (*template.Template, error) {
		t, err := template.New("base.html").ParseFS(templates.FS, "base.html", name)
		if err != nil {
			return nil, fmt.Errorf("parsing template %s: %w", name, err)
		}
		return t, nil
	}
	var p pages
	var err error
	if p.home, err = parse("home.html"); err != nil {
		return p, err
	}
	if p.launch, err = parse("launch.html"); err != nil {
		return p, err
	}
	p.errorPage, err = parse("error.html")
	return p, err
}

// homeData is the data of home.html.
type homeData struct {
	Notice         string
	Conn           *onbehalf.Connection
	ZoomConfigured bool
	Missing        []Hint
	RedirectURI    string
	OBFURLTemplate string
	BaseURL        string
}

// launchData is the data of launch.html.
type launchData struct {
	Conn             *onbehalf.Connection
	RecallConfigured bool
	MeetingURL       string
	BotName          string
	// UseZAK is the "bot signs in as me" checkbox: the bot also gets a
	// ZAK token URL.
	UseZAK    bool
	Error     string
	BotID     string
	MeetingID string
}

// errorData is the data of error.html.
type errorData struct {
	Title    string
	Message  string
	RetryURL string
	Missing  []Hint
}

// render executes t into a buffer first, so that a template error becomes a
// clean 500 instead of half a page.
func (s *Server) render(c *gin.Context, status int, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		s.log.Error("rendering page", "path", c.Request.URL.Path, "err", err)
		plain(c, http.StatusInternalServerError, "internal error rendering the page")
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// renderError shows the error page for err, with the status its code maps to.
func (s *Server) renderError(c *gin.Context, title string, err error, retry string) {
	s.render(c, statusOf(err), s.pages.errorPage, errorData{
		Title:    title,
		Message:  onbehalf.ErrorMessage(err),
		RetryURL: retry,
	})
}
