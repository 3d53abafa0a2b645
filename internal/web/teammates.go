package web

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Teammates on the pages: on their own page a person says yes (or no) to
// "let my teammates' bots join on my behalf" and sees which of their
// teammates' bots got their token; the launch form offers the teammates
// who said yes as further candidates of a bot (bots/teammates.go).

// teamData is the teammates card of the person's page.
type teamData struct {
	// Consent is the person's yes.
	Consent bool
	// Account says whether the connection's Zoom account is known (no
	// account, no teammates).
	Account bool
	// Mates counts the teammates connected here, Consenting those who
	// said yes.
	Mates, Consenting int
	// UsedBy are teammates' bots that got the person's token.
	UsedBy []botView
}

// teammateOption is a teammate the launch form offers.
type teammateOption struct {
	ID, Name, Email string
	Checked         bool
}

// handleTeamConsent handles "POST /teammates": the person's yes or no.
func (s *Server) handleTeamConsent(c *gin.Context) {
	conn, err := s.sessionConnection(c)
	if err != nil || s.opts.Bots == nil {
		c.Redirect(http.StatusSeeOther, "/")
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxFormBytes)
	yes := c.PostForm("team_consent") == "1"
	if _, err := s.opts.Bots.SetTeamConsent(c.Request.Context(), conn.ID, yes); err != nil {
		s.logError(c, "saving the teammate consent failed", err)
		s.render(c, onbehalf.HTTPStatus(err), s.pages.errorPage, errorData{page: s.page(0), Title: "Not saved", Message: onbehalf.ErrorMessage(err)})
		return
	}
	c.Redirect(http.StatusSeeOther, "/#teammates")
}

// team returns the teammates card of conn's page and the names of the
// people it knows.
func (s *Server) team(c *gin.Context, conn *onbehalf.Connection) (*teamData, map[string]string) {
	names := map[string]string{conn.ID: "your"}
	if s.opts.Bots == nil { // no launch service: no teammates either
		return nil, names
	}
	d := &teamData{Consent: conn.TeamConsent, Account: conn.AccountID != ""}
	mates, err := s.opts.Bots.Teammates(c.Request.Context(), conn)
	if err != nil {
		s.logError(c, "listing teammates failed", err)
		return d, names
	}
	for _, m := range mates {
		names[m.ID] = personName(m) + "'s"
		d.Mates++
		if m.TeamConsent {
			d.Consenting++
		}
	}
	used, err := s.opts.Bots.BotsUsing(c.Request.Context(), conn, botsShown)
	if err != nil {
		s.logError(c, "listing the bots that used a token failed", err)
		return d, names
	}
	vc := s.viewContext()
	vc.names = names
	for _, b := range used {
		d.UsedBy = append(d.UsedBy, newBotView(b, vc))
	}
	return d, names
}

// teammateOptions are the teammates who said yes, for the launch form;
// checked are those ticked.
func (s *Server) teammateOptions(c *gin.Context, conn *onbehalf.Connection, checked []string) ([]teammateOption, map[string]string) {
	names := map[string]string{conn.ID: "your"}
	if s.opts.Bots == nil {
		return nil, names
	}
	mates, err := s.opts.Bots.Teammates(c.Request.Context(), conn)
	if err != nil {
		s.logError(c, "listing teammates failed", err)
		return nil, names
	}
	var out []teammateOption
	for _, m := range mates {
		names[m.ID] = personName(m) + "'s"
		if !m.TeamConsent || len(out) >= onbehalf.MaxCandidates-1 {
			continue
		}
		o := teammateOption{ID: m.ID, Name: personName(m), Email: m.Email}
		for _, id := range checked {
			o.Checked = o.Checked || id == m.ID
		}
		out = append(out, o)
	}
	return out, names
}

// personName is how a page names a connected person.
func personName(c *onbehalf.Connection) string {
	if n := strings.TrimSpace(c.DisplayName); n != "" {
		return n
	}
	if c.Email != "" {
		return c.Email
	}
	return "a teammate"
}

// candidateNames names the candidates of bots (the person's own bots of
// several connections) by connection ID, possessive ("your", "Ann's").
func (s *Server) candidateNames(c *gin.Context, conn *onbehalf.Connection, list []*onbehalf.Bot) map[string]string {
	names := map[string]string{conn.ID: "your"}
	for _, b := range list {
		for _, id := range b.ConnectionIDs {
			if _, ok := names[id]; ok {
				continue
			}
			if m, err := s.opts.Store.Connection(c.Request.Context(), id); err == nil {
				names[id] = personName(m) + "'s"
			} else {
				names[id] = "a teammate's"
			}
		}
	}
	return names
}

// inWith names the teammate whose token a bot of several candidates got
// last, "" when it was the person's own (the page's "your"), or when the fetch
// brought a list (Attendee: entries of one time), which says nothing of
// the token that let the bot in.
func inWith(b *onbehalf.Bot, names map[string]string) string {
	for i := len(b.Timeline) - 1; i >= 0; i-- {
		e := b.Timeline[i]
		if e.Type != onbehalf.BotEventToken || e.Kind != onbehalf.KindOBF || e.ConnectionID == "" || e.HTTPStatus/100 != 2 {
			continue
		}
		if (e.ConnectionID == b.ConnectionID && names[e.ConnectionID] == "your") || (i > 0 && b.Timeline[i-1].Type == onbehalf.BotEventToken && b.Timeline[i-1].At.Equal(e.At)) {
			return ""
		}
		if n := strings.TrimSuffix(names[e.ConnectionID], "'s"); n != "" {
			return n
		}
		return "a teammate"
	}
	return ""
}

// whose adds to a token fetch of several candidates whose token it was
// and why, in people's names where the page knows them.
func whose(tv *timelineView, e onbehalf.BotEvent, names map[string]string) {
	if e.Type != onbehalf.BotEventToken || e.ConnectionID == "" {
		return
	}
	who := names[e.ConnectionID]
	if who == "" {
		who = "a teammate's"
	}
	why := e.Why
	for id, n := range names { // "next after <ID>": the person's name
		plain := strings.TrimSuffix(n, "'s")
		if n == "your" {
			plain = "you"
		}
		why = strings.ReplaceAll(why, id, plain)
	}
	tv.Rest += " (" + who + " token: " + why + ")"
	if tv.LastAt.IsZero() {
		tv.Text, tv.Rest = tv.Text+tv.Rest, ""
	}
}
