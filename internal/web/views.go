package web

import (
	"html/template"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// funcs are the template functions.
var funcs = template.FuncMap{
	"ago":      ago,
	"clock":    clock,
	"local":    localTime,
	"hints":    groupHints,
	"code":     codeText,
	"spaced":   spacedID,
	"sentence": sentenceCase,
}

// botView is a bot as a person reads it.
type botView struct {
	ID, Platform, PlatformTitle, MeetingID, Name string
	// PlatformBotID is the platform's own ID of the bot, the one its
	// support asks for.
	PlatformBotID string
	Status        onbehalf.BotStatus
	// Label names the status in a word or two ("Waiting for you").
	Label string
	// Headline says in one sentence where the bot is.
	Headline string
	// Detail is the platform's or Zoom's words, when they say more.
	Detail string
	// Next says what the person should do now ("" when nothing).
	Next string
	// JoinURL opens the meeting in Zoom, shown until the bot is in ("" when
	// unknown).
	JoinURL string
	// AtRisk says why the bot, still to join, may get no token from its
	// connection ("" when nothing is known to be wrong).
	AtRisk string
	// Refused says Zoom refused the bot's newest token request.
	Refused   bool
	CreatedAt time.Time
	// Timeline is newest first.
	Timeline []timelineView
	// RelayedFrom and RelayedTo are the IDs of the bots this one took over
	// from and was relayed to ("" when none; relayview.go).
	RelayedFrom, RelayedTo string
	// Watch asks the page to reload the bots every few seconds: the bot's
	// news does not reach the page's live stream (a relay sent it for
	// another connection), or a relay may be on its way (relayview.go).
	Watch bool
	// SentBy names the person whose bot a relay replaced with this one,
	// when that is not the page's person ("": none; relayview.go).
	SentBy string
}

// timelineView is one timeline entry as a person reads it.
type timelineView struct {
	At    time.Time
	Label string
	// Text is the entry's words; for repeated fetches, up to the time of
	// the last one (LastAt), and Rest after it.
	Text   string
	LastAt time.Time
	Rest   string
	Bad    bool
	// Link is the ID of another bot the entry is about (a relay), shown
	// as a link to its card with LinkText.
	Link, LinkText string
}

// connHealth is a connection's health on the home page.
type connHealth struct {
	LastRefresh, LastMint time.Time
	// Refresh is what this instance knows of the recent refreshes.
	Refresh onbehalf.RefreshState
	// Granted are the scopes Zoom granted; Needed the scopes onbehalf
	// uses, each with whether it was granted; Missing those not granted.
	Granted, Missing []string
	Needed           []scopeView
}

// scopeView is a scope onbehalf uses and whether the grant holds it.
type scopeView struct {
	Scope   string
	Granted bool
}

// viewContext is what rendering bots needs beyond the bots.
type viewContext struct {
	// titles names the platforms.
	titles map[string]string
	// zoomWeb is Zoom's web origin (https://zoom.us, or the demo's fake),
	// where a meeting is <zoomWeb>/j/<id>; "" when unknown.
	zoomWeb string
	// connDead says the bots' connection stopped working.
	connDead bool
	// failing is why the connection's Zoom refreshes are failing ("" when
	// they are not, or not known here).
	failing string
	// conn is the bots' connection and now the time, to tell a bot still
	// to join at risk (nil: not told).
	conn *onbehalf.Connection
	now  time.Time
	// names are the people a page knows by connection ID (the person and
	// their teammates): whose token a fetch of several candidates got.
	names map[string]string
}

// labels name the statuses in a word or two.
var labels = map[onbehalf.BotStatus]string{
	onbehalf.BotCreated: "Sent",
	onbehalf.BotJoining: "Joining",
	onbehalf.BotWaiting: "Waiting for you",
	onbehalf.BotInCall:  "In the call",
	onbehalf.BotDone:    "Left",
	onbehalf.BotFailed:  "Failed",
}

// label names a status.
func label(s onbehalf.BotStatus) string {
	if l, ok := labels[s]; ok {
		return l
	}
	return string(s)
}

// headline says in one sentence where a bot is.
func headline(b *onbehalf.Bot) string {
	switch b.Status {
	case onbehalf.BotCreated:
		return "Sent: the bot is on its way to the meeting."
	case onbehalf.BotJoining:
		return "The bot is joining the meeting."
	case onbehalf.BotWaiting:
		return "Your bot is waiting for you: join the meeting now."
	case onbehalf.BotInCall:
		return "Your bot is in the call, with you."
	case onbehalf.BotDone:
		if leftWithYou(b) {
			return "The bot left when you left."
		}
		return "The bot left the meeting."
	case onbehalf.BotFailed:
		return "The bot could not join the meeting."
	}
	return string(b.Status)
}

// leftMarkers are words of the platforms' reasons for a bot that left
// because its person (or everyone) left: with On-Behalf-Of, Zoom takes
// the bot out when its person leaves.
var leftMarkers = []string{"everyone_left", "everyone left", "everyone else", "only_participant", "you left", "user_left", "authorized_user_left", "person you joined for left", "person the bot joined for left"}

// leftWithYou reports whether a bot that is done left because you left,
// as its latest status report says.
func leftWithYou(b *onbehalf.Bot) bool {
	for i := len(b.Timeline) - 1; i >= 0; i-- {
		e := b.Timeline[i]
		if e.Type != onbehalf.BotEventStatus || e.Status != onbehalf.BotDone {
			continue
		}
		words := strings.ToLower(e.Code + " " + e.SubCode + " " + e.Message)
		for _, m := range leftMarkers {
			if strings.Contains(words, m) {
				return true
			}
		}
	}
	return false
}

// newBotView renders a bot for a person.
func newBotView(b *onbehalf.Bot, vc viewContext) botView {
	v := botView{
		ID: b.ID, Platform: b.Platform, PlatformTitle: vc.titles[b.Platform], MeetingID: b.MeetingID, Name: b.BotName, PlatformBotID: b.PlatformBotID,
		Status: b.Status, Label: label(b.Status), Headline: headline(b), Detail: sentenceCase(b.StatusReason), CreatedAt: b.CreatedAt,
	}
	if v.PlatformTitle == "" {
		v.PlatformTitle = b.Platform
	}
	for i := len(b.Timeline) - 1; i >= 0; i-- {
		if b.Timeline[i].Type == onbehalf.BotEventRelay {
			v.Timeline = append(v.Timeline, relayEntry(b.Timeline[i], b, vc.names))
			continue
		}
		tv := timelineEntry(b.Timeline[i], v.PlatformTitle)
		whose(&tv, b.Timeline[i], vc.names)
		v.Timeline = append(v.Timeline, tv)
	}
	switch who := inWith(b, vc.names); {
	case who != "" && b.Status == onbehalf.BotInCall:
		v.Headline = "Your bot is in the call, with " + who + "'s token."
	case who != "" && b.Status == onbehalf.BotDone && b.Failure == onbehalf.JoinUserLeft:
		// The platform's words ("the person the bot joined for left") speak
		// to the platform's customer; the headline says it to the person.
		v.Headline, v.Detail = "The bot left when "+who+" left: Zoom removes the bot when the person whose token let it in leaves.", ""
	}
	relayLinks(&v, b, vc)
	refused := refusedToken(b)
	if refused != nil {
		v.Refused = true
		if b.Status != onbehalf.BotFailed {
			v.Label = "Token refused"
		}
		if refused.HTTPStatus == 409 {
			// The token server's words are for the platform ("the user
			// must reconnect at …"); the card says it to the person.
			v.Headline, v.Detail = "Zoom refused the token: your Zoom connection stopped working.", ""
		} else {
			first, rest := firstSentence(refused.Message)
			v.Headline, v.Detail = "Zoom refused the token: "+first, rest
		}
	}
	switch {
	case refused != nil && refused.HTTPStatus == 409 && vc.connDead:
		v.Next = "Reconnect Zoom, then send a new bot."
	case refused != nil && refused.HTTPStatus == 409:
		v.Next = "You have reconnected since: send a new bot."
	case refused != nil:
		v.Next = "Send a new bot in a minute; if Zoom refuses again, reconnect Zoom."
	case b.Status == onbehalf.BotWaiting && v.Detail == "":
		v.Next = "With On-Behalf-Of, the bot gets in only while you are in the meeting."
	case b.Status == onbehalf.BotFailed:
		v.Next = "Send a new bot, then join the meeting yourself when it says it is waiting for you."
	}
	if vc.conn != nil && refused == nil && b.StillToJoin() && b.DueAt().After(vc.now) {
		_, v.AtRisk = onbehalf.BotRisk(b, vc.conn, vc.failing)
	}
	switch b.Status {
	case onbehalf.BotCreated, onbehalf.BotJoining, onbehalf.BotWaiting:
		if vc.zoomWeb != "" && b.MeetingID != "" && refused == nil {
			v.JoinURL = vc.zoomWeb + "/j/" + b.MeetingID
		}
	}
	return v
}

// refusedToken returns the token fetch that explains the bot's state: its
// newest timeline entry when that is a refused token, or, for a failed
// bot, the last token fetch before the failure when it was refused.
func refusedToken(b *onbehalf.Bot) *onbehalf.BotEvent {
	for i := len(b.Timeline) - 1; i >= 0; i-- {
		e := &b.Timeline[i]
		if e.Type == onbehalf.BotEventToken {
			if e.HTTPStatus/100 != 2 {
				return e
			}
			return nil
		}
		if b.Status != onbehalf.BotFailed {
			return nil
		}
	}
	return nil
}

// timelineEntry renders one timeline entry; platform names the platform.
func timelineEntry(e onbehalf.BotEvent, platform string) timelineView {
	tv := timelineView{At: e.At}
	if e.Type == onbehalf.BotEventToken {
		times := ""
		if e.Count > 1 {
			times = " " + plural(e.Count, "time") + ", the last at "
			tv.LastAt = e.LastAt
		}
		if e.HTTPStatus/100 == 2 {
			tv.Label, tv.Text, tv.Rest = "Token", platform+" fetched "+tokenName(e.Kind)+" from this server"+times, "."
		} else {
			tv.Label, tv.Text, tv.Rest, tv.Bad = "Token refused", "Zoom refused the token"+times, ": "+e.Message, true
		}
		if times == "" {
			tv.Text, tv.Rest = tv.Text+tv.Rest, ""
		}
		return tv
	}
	tv.Label, tv.Bad = label(e.Status), e.Status == onbehalf.BotFailed
	switch {
	case e.Message != "":
		tv.Text = platform + ": " + e.Message
	case e.Code != "":
		tv.Text = platform + ": " + e.Code
		if e.SubCode != "" {
			tv.Text += " (" + e.SubCode + ")"
		}
	default:
		tv.Text = strings.TrimSuffix(headline(&onbehalf.Bot{Status: e.Status}), ".")
	}
	return tv
}

// tokenName names a token kind in a sentence.
func tokenName(k onbehalf.TokenKind) string {
	switch k {
	case onbehalf.KindZAK:
		return "its ZAK (to sign in as you)"
	case onbehalf.KindJoin:
		return "its host join token (to skip the waiting room)"
	}
	return "its On-Behalf-Of token"
}

// profileScope lets onbehalf read who connected (GET /users/me).
const profileScope = "user:read:user"

// health computes a connection's health for the home page.
func health(c *onbehalf.Connection, kinds []onbehalf.TokenKind) *connHealth {
	h := &connHealth{LastRefresh: c.RefreshedAt, LastMint: c.MintedAt, Granted: c.Scopes()}
	seen := map[string]bool{}
	scopes := []string{profileScope}
	for _, k := range kinds {
		scopes = append(scopes, k.Scope())
	}
	for _, sc := range scopes {
		if sc == "" || seen[sc] {
			continue
		}
		seen[sc] = true
		ok := c.HasScope(sc)
		h.Needed = append(h.Needed, scopeView{Scope: sc, Granted: ok})
		if !ok {
			h.Missing = append(h.Missing, sc)
		}
	}
	return h
}

// hintGroups are the configuration hints of a page, as it shows them:
// Zoom's first (the one thing a server needs), then the server's other
// settings, then the bot platforms as optional choices.
type hintGroups struct {
	Zoom, Server, Platforms []onbehalf.Hint
}

// groupHints sorts hints into their groups, each in its given order.
func groupHints(hints []onbehalf.Hint) hintGroups {
	var g hintGroups
	for _, h := range hints {
		switch {
		case h.Platform != "":
			g.Platforms = append(g.Platforms, h)
		case strings.HasPrefix(h.Var, "ZOOM_"):
			g.Zoom = append(g.Zoom, h)
		default:
			g.Server = append(g.Server, h)
		}
	}
	return g
}
