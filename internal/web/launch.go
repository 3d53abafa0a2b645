package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/meetingurl"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
)

// defaultBotName is the bot name when the form leaves it empty.
const defaultBotName = "Meeting notetaker"

// maxFormBytes bounds a form post.
const maxFormBytes = 64 << 10

// handleLaunchForm handles "GET /launch".
func (s *Server) handleLaunchForm(c *gin.Context) {
	conn, err := s.sessionConnection(c)
	if err != nil {
		c.Redirect(http.StatusSeeOther, "/")
		return
	}
	s.render(c, http.StatusOK, s.pages.launch, launchData{
		Conn:             conn,
		RecallConfigured: s.opts.Bots != nil,
		BotName:          defaultBotName,
	})
}

// handleLaunch handles "POST /launch": it parses the meeting URL, creates a
// bot on Recall.ai with a token URL for this connection and meeting, and
// shows the bot ID. A bad URL is a 400 and no call to Recall.
func (s *Server) handleLaunch(c *gin.Context) {
	conn, err := s.sessionConnection(c)
	if err != nil {
		c.Redirect(http.StatusSeeOther, "/")
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxFormBytes)
	data := launchData{Conn: conn, RecallConfigured: s.opts.Bots != nil}
	if err := c.Request.ParseForm(); err != nil {
		data.Error = "The form could not be read (too large or malformed)."
		s.render(c, http.StatusBadRequest, s.pages.launch, data)
		return
	}
	data.MeetingURL = clip(strings.TrimSpace(c.Request.PostForm.Get("meeting_url")), 2048)
	data.BotName = strings.TrimSpace(c.Request.PostForm.Get("bot_name"))
	data.UseZAK = c.Request.PostForm.Get("use_zak") == "1"
	fail := func(err error) {
		data.Error = onbehalf.ErrorMessage(err)
		s.render(c, statusOf(err), s.pages.launch, data)
	}
	if len([]rune(data.BotName)) > 100 {
		fail(onbehalf.Errorf(onbehalf.EINVALID, "The bot name is too long (100 characters at most)."))
		return
	}
	if data.BotName == "" {
		data.BotName = defaultBotName
	}
	meetingID, err := meetingurl.Parse(data.MeetingURL)
	if err != nil {
		fail(err)
		return
	}
	if s.opts.Bots == nil {
		fail(onbehalf.Errorf(onbehalf.EUNAVAILABLE, "No bot platform is configured: set RECALL_API_KEY (Recall.ai dashboard → API Keys) and RECALL_REGION, then restart."))
		return
	}
	if !conn.Connected() {
		fail(onbehalf.Errorf(onbehalf.ECONFLICT, "Your Zoom connection stopped working: reconnect Zoom first."))
		return
	}
	if data.UseZAK && conn.Token.Scope != "" && !strings.Contains(strings.ToLower(conn.Token.Scope), "zak") {
		fail(onbehalf.Errorf(onbehalf.EINVALID, "Your Zoom connection cannot mint a ZAK: add the user:read:zak scope to the Zoom app, reconnect Zoom, then try again (or leave the ZAK box unchecked)."))
		return
	}
	req := onbehalf.BotRequest{
		MeetingURL:  data.MeetingURL,
		BotName:     data.BotName,
		OBFTokenURL: s.tokenURL("/obf-callback", conn.ID, meetingID),
	}
	if data.UseZAK {
		req.ZAKURL = s.tokenURL("/zak-callback", conn.ID, "")
	}
	bot, err := s.opts.Bots.CreateBot(c.Request.Context(), req)
	if err != nil {
		s.logError(c, "creating bot failed", err)
		fail(err)
		return
	}
	s.log.Info("bot created", "conn", conn.ID, "bot", bot.ID, "zak", data.UseZAK)
	data.BotID, data.MeetingID = bot.ID, meetingID
	s.render(c, http.StatusOK, s.pages.launch, data)
}

// tokenURL builds the signed token URL handed to a bot platform for the
// callback at path (its route gives the token kind) and a connection and
// meeting (none for ZAK): BASE_URL/path?user_id=…&meeting_id=…&exp=…&sig=….
// It never carries the secret itself.
func (s *Server) tokenURL(path, connID, meetingID string) string {
	kind, ok := callbackKind(path)
	if !ok {
		panic("web: tokenURL for a path that is not a token callback: " + path)
	}
	q := s.sec.signer.Sign(kind, connID, meetingID)
	var b strings.Builder
	b.WriteString(s.opts.BaseURL + path)
	sep := "?"
	for _, k := range []string{tokenurl.ParamConnID, tokenurl.ParamMeetingID, tokenurl.ParamExp, tokenurl.ParamSig} {
		if v, ok := q[k]; ok {
			b.WriteString(sep + k + "=" + url.QueryEscape(v[0]))
			sep = "&"
		}
	}
	return b.String()
}
