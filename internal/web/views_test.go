package web

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// bot builds a bot with a timeline, oldest first.
func bot(status onbehalf.BotStatus, reason string, timeline ...onbehalf.BotEvent) *onbehalf.Bot {
	for i := range timeline {
		timeline[i].At = t0.Add(time.Duration(i) * time.Second)
	}
	return &onbehalf.Bot{ID: "bot_1", Platform: "recall", MeetingID: "85012345678", BotName: "Notes",
		Status: status, StatusReason: reason, CreatedAt: t0, Timeline: timeline}
}

func status(s onbehalf.BotStatus, code, sub, msg string) onbehalf.BotEvent {
	return onbehalf.BotEvent{Type: onbehalf.BotEventStatus, Status: s, Code: code, SubCode: sub, Message: msg}
}

func token(httpStatus int, msg string) onbehalf.BotEvent {
	return onbehalf.BotEvent{Type: onbehalf.BotEventToken, Kind: onbehalf.KindOBF, HTTPStatus: httpStatus, Message: msg}
}

var vc = viewContext{titles: map[string]string{"recall": "Recall.ai"}, zoomWeb: "https://zoom.us"}

// TestBotWording: what a person reads at each step, in the words the
// issue asks for.
func TestBotWording(t *testing.T) {
	for _, c := range []struct {
		name       string
		b          *onbehalf.Bot
		vc         viewContext
		label      string
		headline   string
		join, next bool
	}{
		{"created", bot(onbehalf.BotCreated, ""), vc, "Sent", "on its way", true, false},
		{"joining", bot(onbehalf.BotJoining, "joining the meeting", status(onbehalf.BotJoining, "joining_call", "", "joining the meeting")), vc, "Joining", "joining the meeting", true, false},
		{"token fetched", bot(onbehalf.BotWaiting, onbehalf.WaitingForYou, token(200, "")), vc, "Waiting for you", "Your bot is waiting for you: join the meeting now.", true, false},
		{"waiting room", bot(onbehalf.BotWaiting, "", status(onbehalf.BotWaiting, "in_waiting_room", "", "")), vc, "Waiting for you", "Your bot is waiting for you: join the meeting now.", true, true},
		{"in call", bot(onbehalf.BotInCall, "in the call, recording", status(onbehalf.BotInCall, "in_call_recording", "", "in the call, recording")), vc, "In the call", "in the call", false, false},
		{"left with you", bot(onbehalf.BotDone, "everyone left the meeting", status(onbehalf.BotDone, "call_ended", "timeout_exceeded_everyone_left", "everyone left the meeting")), vc, "Left", "The bot left when you left.", false, false},
		{"host ended", bot(onbehalf.BotDone, "the host ended the meeting", status(onbehalf.BotDone, "call_ended", "call_ended_by_host", "the host ended the meeting")), vc, "Left", "The bot left the meeting.", false, false},
		{"refused", bot(onbehalf.BotJoining, "", status(onbehalf.BotJoining, "joining_call", "", ""), token(502, "Zoom error 300: Invalid meeting. Check the meeting ID.")), vc, "Token refused", "Zoom refused the token: Zoom error 300: Invalid meeting.", false, true},
		{"failed after refusal", bot(onbehalf.BotFailed, "obf", token(502, "Zoom error 300: Invalid meeting."), status(onbehalf.BotFailed, "fatal", "zoom_obf", "obf")), vc, "Failed", "Zoom refused the token: Zoom error 300: Invalid meeting.", false, true},
		{"connection dead", bot(onbehalf.BotJoining, "", token(409, "This Zoom connection no longer works (x). The user must reconnect at https://h/zoom/oauth.")), viewContext{titles: vc.titles, zoomWeb: vc.zoomWeb, connDead: true}, "Token refused", "Zoom refused the token: your Zoom connection stopped working.", false, true},
		{"failed", bot(onbehalf.BotFailed, "nobody joined", status(onbehalf.BotFailed, "fatal", "x", "nobody joined")), vc, "Failed", "could not join", false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := newBotView(c.b, c.vc)
			if v.Label != c.label || !strings.Contains(v.Headline, c.headline) {
				t.Errorf("label %q, headline %q; want %q, %q", v.Label, v.Headline, c.label, c.headline)
			}
			if (v.JoinURL != "") != c.join || (c.join && v.JoinURL != "https://zoom.us/j/85012345678") {
				t.Errorf("join URL %q, want one: %v", v.JoinURL, c.join)
			}
			if (v.Next != "") != c.next {
				t.Errorf("next %q, want one: %v", v.Next, c.next)
			}
			if strings.Contains(v.Headline+v.Detail+v.Next, "must reconnect at") {
				t.Errorf("the platform's words reached the card: %+v", v)
			}
		})
	}
}

// TestDeadConnectionNext: a bot refused because the connection died says
// to reconnect while it is dead, and to send a new bot once reconnected.
func TestDeadConnectionNext(t *testing.T) {
	b := bot(onbehalf.BotFailed, "", token(409, "This Zoom connection no longer works."))
	dead := vc
	dead.connDead = true
	if v := newBotView(b, dead); !strings.Contains(v.Next, "Reconnect Zoom") {
		t.Errorf("dead: %q", v.Next)
	}
	if v := newBotView(b, vc); !strings.Contains(v.Next, "reconnected") {
		t.Errorf("reconnected: %q", v.Next)
	}
}

// TestTimeline: newest first, each entry attributed to the platform or to
// Zoom.
func TestTimeline(t *testing.T) {
	b := bot(onbehalf.BotInCall, "", status(onbehalf.BotJoining, "joining_call", "", "joining the meeting"), token(200, ""),
		status(onbehalf.BotInCall, "in_call_recording", "", ""))
	v := newBotView(b, vc)
	var got []string
	for _, e := range v.Timeline {
		got = append(got, e.Label+" · "+e.Text)
	}
	want := []string{
		"In the call · Recall.ai: in_call_recording",
		"Token · Recall.ai fetched its On-Behalf-Of token from this server.",
		"Joining · Recall.ai: joining the meeting",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("timeline:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTimelineRepeats: an entry standing for repeated fetches says how
// many and when the last came.
func TestTimelineRepeats(t *testing.T) {
	last := time.Date(2026, 12, 1, 10, 4, 5, 0, time.UTC)
	served, refused := token(200, ""), token(502, "Zoom said 124: Invalid access token.")
	served.Count, served.LastAt = 3, last
	refused.Count, refused.LastAt = 2, last
	for e, want := range map[*onbehalf.BotEvent]string{
		&served:  "Recall.ai fetched its On-Behalf-Of token from this server 3 times, the last at 10:04:05.",
		&refused: "Zoom refused the token 2 times, the last at 10:04:05: Zoom said 124: Invalid access token.",
	} {
		tv := timelineEntry(*e, "Recall.ai")
		if got := tv.Text + clock(tv.LastAt) + tv.Rest; got != want {
			t.Errorf("entry %q, want %q", got, want)
		}
	}
}

func TestFormat(t *testing.T) {
	for in, want := range map[string]string{"85012345678": "850 1234 5678", "8501234567": "850 123 4567", "850123456": "850 123 456", "12": "12"} {
		if got := spacedID(in); got != want {
			t.Errorf("spacedID(%q) = %q", in, got)
		}
	}
	if got := sentenceCase("everyone left the meeting"); got != "Everyone left the meeting." {
		t.Errorf("sentenceCase: %q", got)
	}
	first, rest := firstSentence("This connection no longer works (Zoom said: invalid_grant (Invalid Token!).). The user must reconnect.")
	if first != "This connection no longer works (Zoom said: invalid_grant (Invalid Token!).)." || rest != "The user must reconnect." {
		t.Errorf("firstSentence: %q | %q", first, rest)
	}
	if got := webOrigin("https://zoom.us/oauth/authorize?x=1"); got != "https://zoom.us" {
		t.Errorf("webOrigin: %q", got)
	}
}

// TestHealth: the scopes onbehalf uses, each granted or not.
func TestHealth(t *testing.T) {
	c := &onbehalf.Connection{Token: onbehalf.Token{Scope: "user:read:user user:read:token"}}
	h := health(c, onbehalf.Kinds)
	if len(h.Missing) != 1 || h.Missing[0] != "meeting:read:local_recording_token" {
		t.Errorf("missing %v", h.Missing)
	}
	if len(h.Needed) != 3 || !h.Needed[0].Granted || h.Needed[2].Granted {
		t.Errorf("needed %+v", h.Needed)
	}
}

// TestPagesRender: every page renders, every demo page says DEMO, the
// bots fragment renders alone, and the policy allows the live script by
// its hash.
func TestPagesRender(t *testing.T) {
	p, err := parsePages()
	if err != nil {
		t.Fatal(err)
	}
	conn := &onbehalf.Connection{ID: "c1", DisplayName: "Dana", Email: "d@example.com", State: onbehalf.StateConnected,
		Token: onbehalf.Token{RefreshToken: "r", Scope: "user:read:user"}}
	bots := []botView{newBotView(bot(onbehalf.BotWaiting, onbehalf.WaitingForYou, token(200, "")), vc)}
	s := &Server{opts: Options{Demo: true}}
	for name, c := range map[string]struct {
		page any
		want []string
	}{
		"home":       {homeData{Conn: conn, Health: health(conn, onbehalf.Kinds), Bots: bots}, []string{"DEMO", "Connected to Zoom as", "Your bot is waiting for you: join the meeting now."}},
		"home alone": {homeData{ZoomConfigured: true}, []string{"DEMO", `id="connect"`}},
		"launch":     {launchData{page: page{Step: 3}, Conn: conn, Bots: bots, Platforms: []platformOption{{"recall", "Recall.ai"}}}, []string{"DEMO", `id="send"`, "Watch your bot join", `id="live"`}},
		"error":      {errorData{Title: "Oops", Message: "Broken.", RetryURL: "/zoom/oauth"}, []string{"DEMO", `href="/zoom/oauth"`, "What you can do"}},
	} {
		t.Run(name, func(t *testing.T) {
			tpl := map[string]bool{"home": true, "home alone": true}
			tp := p.launch
			if tpl[name] {
				tp = p.home
			} else if name == "error" {
				tp = p.errorPage
			}
			var buf bytes.Buffer
			if err := tp.Execute(&buf, s.markDemo(c.page)); err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("no %q in:\n%s", w, buf.String())
				}
			}
		})
	}
	var buf bytes.Buffer
	if err := p.launch.ExecuteTemplate(&buf, "bots", bots); err != nil || !strings.Contains(buf.String(), `class="button join"`) {
		t.Fatalf("bots fragment: %v\n%s", err, buf.String())
	}
	csp, err := contentSecurityPolicy()
	if err != nil || !strings.Contains(csp, "script-src 'sha256-") || !strings.Contains(csp, "connect-src 'self'") {
		t.Fatalf("policy %q, %v", csp, err)
	}
}

// TestBotCardShowsPlatformIDAndLocalTimes: a bot card names the
// platform's bot ID (selectable, with a Copy button the script reveals),
// and its times are <time> elements in UTC that the browser localizes.
func TestBotCardShowsPlatformIDAndLocalTimes(t *testing.T) {
	p, err := parsePages()
	if err != nil {
		t.Fatal(err)
	}
	b := &onbehalf.Bot{ID: "b1", Platform: "recall", PlatformBotID: "rb-123", MeetingID: "85012345678", Status: onbehalf.BotJoining, CreatedAt: t0,
		Timeline: []onbehalf.BotEvent{{Type: onbehalf.BotEventStatus, Status: onbehalf.BotJoining, At: t0}}}
	var buf strings.Builder
	if err := p.launch.ExecuteTemplate(&buf, "bots", []botView{newBotView(b, viewContext{titles: map[string]string{"recall": "Recall.ai"}})}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{
		`Recall.ai bot ID</span> <code class="copyable" id="botid-b1">rb-123</code>`,
		`data-copy="botid-b1" hidden>Copy</button>`,
		`<time datetime="2026-12-01T10:00:00Z" data-local="clock" title="1 Dec 2026 10:00:00 UTC">10:00:00 UTC</time>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("bot card lacks %s:\n%s", want, page)
		}
	}
}
