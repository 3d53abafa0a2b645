package web

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/onbehalf/onbehalf/internal/bots"
	"github.com/onbehalf/onbehalf/internal/meetingurl"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/publicurl"
)

// maxFormBytes bounds a form post: a whole Zoom invitation may be pasted.
const maxFormBytes = 64 << 10

// demoMeetingURL is the meeting link the demo's launch form starts with:
// made up, like every meeting of the demo's fake Zoom.
const demoMeetingURL = "https://zoom.us/j/85012345678"

// handleLaunchForm handles "GET /launch": the form, and the person's bots
// (the one just created first, after Post/Redirect/Get).
func (s *Server) handleLaunchForm(c *gin.Context) {
	if s.opts.PagesOff {
		s.handleConnected(c)
		return
	}
	conn, err := s.sessionConnection(c)
	if err != nil {
		c.Redirect(http.StatusSeeOther, "/")
		return
	}
	d := s.launchData(c, conn)
	if id := c.Query("created"); id != "" {
		for i := range d.Bots {
			if d.Bots[i].ID == id {
				d.Created = &d.Bots[i]
			}
		}
	}
	if d.Created != nil && d.Created.MeetingID != "" {
		if web := s.viewContext().zoomWeb; web != "" {
			d.MeetingLink = web + "/j/" + d.Created.MeetingID
		}
	}
	s.render(c, http.StatusOK, s.pages.launch, d)
}

// launchData is the launch page around a connection.
func (s *Server) launchData(c *gin.Context, conn *onbehalf.Connection) launchData {
	d := launchData{page: s.page(2), Conn: conn, BotName: bots.DefaultBotName, ZAKAllowed: s.opts.AllowZAK}
	if s.opts.Demo {
		// The demo's fake platforms fetch tokens on loopback; any Zoom link
		// works, so one is filled in.
		d.MeetingURL = demoMeetingURL
	} else {
		d.PublicWarning = publicWarning(s.opts.BaseURL)
	}
	for _, p := range s.opts.Platforms {
		d.Platforms = append(d.Platforms, platformOption{Name: p.Name(), Title: p.Title()})
	}
	if len(d.Platforms) == 1 {
		d.Platform = d.Platforms[0].Name
	}
	if len(d.Platforms) == 0 {
		d.Missing = s.opts.Hints
	}
	d.Bots = s.botViews(c, conn)
	if conn.Connected() {
		d.Teammates, _ = s.teammateOptions(c, conn, nil)
	}
	if !conn.Connected() {
		d.Step = 1 // reconnect
	}
	for _, b := range d.Bots {
		if d.Step == 2 && !b.Status.Final() {
			d.Step = 3 // a bot is on its way: watch it
		}
	}
	return d
}

// handleLaunch handles "POST /launch": the launch service sends the bot;
// on success the browser is sent back to GET /launch (Post/Redirect/Get),
// so that a reload never sends a second bot. A bad input is a 4xx page
// with the form as it was, and no call to the platform.
func (s *Server) handleLaunch(c *gin.Context) {
	conn, err := s.sessionConnection(c)
	if err != nil {
		c.Redirect(http.StatusSeeOther, "/")
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxFormBytes)
	d := s.launchData(c, conn)
	if err := c.Request.ParseForm(); err != nil {
		d.Error, d.Step = "The form could not be read (too large or malformed).", 2
		s.render(c, http.StatusBadRequest, s.pages.launch, d)
		return
	}
	f := c.Request.PostForm
	d.MeetingURL = onbehalf.Clip(strings.TrimSpace(f.Get("meeting_url")), meetingurl.MaxLen)
	d.BotName = strings.TrimSpace(f.Get("bot_name"))
	d.UseZAK, d.UseJoin = f.Get("use_zak") == "1", f.Get("use_join") == "1"
	d.Relay = f.Get("relay") == "1"
	if p := f.Get("platform"); p != "" {
		d.Platform = p
	}
	kinds := []onbehalf.TokenKind{onbehalf.KindOBF}
	if d.UseZAK {
		kinds = append(kinds, onbehalf.KindZAK)
	}
	if d.UseJoin {
		kinds = append(kinds, onbehalf.KindJoin)
	}
	var cands []string // the person first, then the teammates ticked
	if picked := f["teammate"]; len(picked) > 0 {
		d.Teammates, _ = s.teammateOptions(c, conn, picked)
		cands = append([]string{conn.ID}, picked...)
	}
	release, retryAt, err := s.bots.reserve(c.Request.Context(), conn.ID)
	if err != nil {
		if onbehalf.ErrorCode(err) == onbehalf.ETOOMANY {
			s.log.InfoContext(c.Request.Context(), "bot refused: BOTS_PER_HOUR reached", "conn", conn.ID, "limit", s.opts.BotsPerHour)
			c.Header("Retry-After", strconv.Itoa(max(1, int(retryAt.Sub(s.now()).Seconds()+0.999))))
		} else {
			s.logError(c, "counting the bots of the last hour failed", err)
		}
		d.Error, d.Step = onbehalf.ErrorMessage(err), 2
		s.render(c, onbehalf.HTTPStatus(err), s.pages.launch, d)
		return
	}
	defer release()
	b, err := s.opts.Bots.Launch(c.Request.Context(), bots.LaunchRequest{
		Platform: d.Platform, ConnectionID: conn.ID, MeetingURL: d.MeetingURL, BotName: d.BotName, Kinds: kinds,
		ConnectionIDs: cands, Teammates: len(cands) > 1, Relay: d.Relay && len(cands) > 1,
	})
	if err != nil {
		if onbehalf.HTTPStatus(err) >= 500 {
			s.logError(c, "creating bot failed", err)
		}
		d.Error, d.ErrorField, d.Step = onbehalf.ErrorMessage(err), formField(err, d), 2
		s.render(c, onbehalf.HTTPStatus(err), s.pages.launch, d)
		return
	}
	c.Redirect(http.StatusSeeOther, "/launch?created="+url.QueryEscape(b.ID))
}

// handleLaunchEvents handles "GET /launch/events": the live status of the
// session's bots, as Server-Sent Events.
func (s *Server) handleLaunchEvents(c *gin.Context) {
	id, _ := sessions.Default(c).Get(sessConn).(string)
	if id == "" || s.opts.Stream == nil {
		plain(c, http.StatusNotFound, "no live status for this session")
		return
	}
	// A session's key is its connection: the cookie holds no server-side
	// ID, so copies of one cookie (or sessions of one person) share it.
	// The Stream bounds the streams per key and in all (STREAMS_PER_SESSION,
	// STREAMS_MAX: the event broker's bounds) and answers 429 beyond them.
	s.opts.Stream.Serve(c.Writer, c.Request, "session:"+id, id)
}

// handleLaunchBots handles "GET /launch/bots": the session's bots as an
// HTML fragment, which the launch page's script swaps in when an event
// arrives (the page itself shows the same when reloaded).
func (s *Server) handleLaunchBots(c *gin.Context) {
	conn, err := s.sessionConnection(c)
	if err != nil {
		plain(c, http.StatusNotFound, "not connected")
		return
	}
	var buf bytes.Buffer
	if err := s.pages.launch.ExecuteTemplate(&buf, "bots", s.botViews(c, conn)); err != nil {
		s.log.ErrorContext(c.Request.Context(), "rendering bots", "err", err)
		plain(c, http.StatusInternalServerError, "internal error rendering the page")
		return
	}
	c.Data(http.StatusOK, "text/html; charset=utf-8", buf.Bytes())
}

// formField names the launch form's field an error is about, "" when
// none: the page shows the error at that field.
func formField(err error, d launchData) string {
	switch f := onbehalf.ErrorField(err); f {
	case "meeting_url", "bot_name":
		return f
	case "platform":
		if len(d.Platforms) > 1 {
			return f
		}
	case "kinds":
		// A missing scope: the box that asked for it (the join token's
		// scope names it when both were ticked).
		if d.UseJoin && (!d.UseZAK || strings.Contains(onbehalf.ErrorMessage(err), onbehalf.KindJoin.Scope())) {
			return "use_join"
		}
		if d.UseZAK {
			return "use_zak"
		}
	}
	return ""
}

// publicWarning says why bot platforms cannot reach baseURL, or "" when
// nothing shows that they cannot (publicurl: the rule doctor checks too).
func publicWarning(baseURL string) string {
	why := publicurl.Problem(baseURL)
	if why == "" {
		return ""
	}
	port := "<port>"
	if u, err := url.Parse(baseURL); err == nil && u.Port() != "" {
		port = u.Port()
	}
	return "BASE_URL (" + baseURL + ") is " + why + ": bot platforms cannot fetch tokens from it, so the bot will not get in. Run `ngrok http " + port + "` and set BASE_URL to the https URL it prints."
}
