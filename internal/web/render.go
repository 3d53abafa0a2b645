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
	// connect is a connect link's consent page.
	connect *template.Template
	// connected tells a person a connect link worked when the pages are
	// off (PAGES=false).
	connected *template.Template
}

func parsePages() (pages, error) {
	parse := func(name string) (*template.Template, error) {
		t, err := template.New("base.html").Funcs(funcs).ParseFS(templates.FS, "base.html", "parts.html", name)
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
	if p.connect, err = parse("connect.html"); err != nil {
		return p, err
	}
	if p.connected, err = parse("connected.html"); err != nil {
		return p, err
	}
	p.errorPage, err = parse("error.html")
	return p, err
}

// page is what every page shows around its own content.
type page struct {
	// Demo marks the page as part of `onbehalf demo`.
	Demo bool
	// Step is the step of the flow the page is (1 connect, 2 send a bot,
	// 3 watch it; 0 none).
	Step int
	// Bare leaves out the links to this server's own pages: on the pages
	// a product's user sees through a connect link, and everywhere with
	// PAGES=false.
	Bare bool
}

// homeData is the data of home.html.
type homeData struct {
	page
	Notice         string
	Conn           *onbehalf.Connection
	Health         *connHealth
	Bots           []botView
	ZoomConfigured bool
	Missing        []onbehalf.Hint
	// StoreProblem says, in an operator's words, why the store cannot
	// write ("" when it can).
	StoreProblem   string
	RedirectURI    string
	OBFURLTemplate string
	BaseURL        string
	// Team is the teammates card (teammates.go), nil when not connected.
	Team *teamData
}

// launchData is the data of launch.html.
type launchData struct {
	page
	Conn      *onbehalf.Connection
	Platforms []platformOption
	// Platform is the selected platform's name.
	Platform   string
	MeetingURL string
	BotName    string
	// UseZAK and UseJoin are the "bot signs in as me" and "I host this
	// meeting" boxes.
	UseZAK, UseJoin bool
	// ZAKAllowed shows the ZAK box (ALLOW_ZAK): hidden, since Zoom allows
	// ZAKs only for meetings in the operator's own account.
	ZAKAllowed bool
	// Error says why the bot was not sent; ErrorField names the form
	// field it is about ("" when none: then it shows above the form).
	Error, ErrorField string
	// Created is the bot just created (Post/Redirect/Get), if any, and
	// MeetingLink opens its meeting in Zoom ("" when unknown).
	Created     *botView
	MeetingLink string
	// Teammates are the teammates who said yes, offered as further
	// candidates (teammates.go).
	Teammates []teammateOption
	// Relay is the "relay" box (shown with the teammates): when the
	// person the bot joined for leaves, a bot is sent for the next one.
	Relay bool
	Bots  []botView
	// PublicWarning says why the platforms cannot reach BASE_URL ("" when
	// they can).
	PublicWarning string
	Missing       []onbehalf.Hint
}

// platformOption is a platform offered on the launch form.
type platformOption struct {
	Name, Title string
}

// errorData is the data of error.html.
type errorData struct {
	page
	Title    string
	Message  string
	RetryURL string
	Missing  []onbehalf.Hint
	// Calm shows the message as news, not as an error (the person
	// declined); Details is a line for whoever reads closer (a raw error
	// code).
	Calm    bool
	Details string
	// Status, when set, is the HTTP status the page answers (404, 405,
	// 500), shown above the title; NoStart hides the link to the home
	// page, which PAGES=false turns off.
	Status  int
	NoStart bool
}

// render executes t into a buffer first, so that a template error becomes a
// clean 500 instead of half a page.
func (s *Server) render(c *gin.Context, status int, t *template.Template, data any) {
	data = s.markDemo(data)
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		s.log.ErrorContext(c.Request.Context(), "rendering page", "path", c.Request.URL.Path, "err", err)
		plain(c, http.StatusInternalServerError, "internal error rendering the page")
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// renderError shows the error page for err, with the status its code maps to.
func (s *Server) renderError(c *gin.Context, title string, err error, retry string) {
	s.render(c, onbehalf.HTTPStatus(err), s.pages.errorPage, errorData{
		page:     s.page(0),
		Title:    title,
		Message:  onbehalf.ErrorMessage(err),
		RetryURL: retry,
	})
}

// markDemo marks a page of the demo as such, even when its handler built
// the page data without s.page: every page of the demo says so.
func (s *Server) markDemo(data any) any {
	if !s.opts.Demo {
		return data
	}
	switch d := data.(type) {
	case homeData:
		d.Demo = true
		return d
	case launchData:
		d.Demo = true
		return d
	case errorData:
		d.Demo = true
		return d
	case connectData:
		d.Demo = true
		return d
	case connectedData:
		d.Demo = true
		return d
	}
	return data
}

// page returns the common page data.
func (s *Server) page(step int) page {
	return page{Demo: s.opts.Demo, Step: step, Bare: s.opts.PagesOff}
}

// linkPage is what a page of a connect link's flow shows around its own
// content (Bare: the product's user is not this server's).
func (s *Server) linkPage(step int) page {
	p := s.page(step)
	p.Bare = true
	return p
}
