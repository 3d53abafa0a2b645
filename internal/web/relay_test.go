package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/tokenserve"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// TestLaunchRelay: the launch form offers "relay" with the teammates and
// passes it on only for a bot of several candidates; the sender's page
// shows the bot relayed (Bob, whose token let it in, left) next to the
// bot that took over for Bob's teammate, linked both ways, in people's
// names.
func TestLaunchRelay(t *testing.T) {
	var env *testEnv
	e := newEnv(t, envOpts{tokens: func(o *tokenserve.Options) { o.Teammates = lazyTeammates{&env} }})
	env = e
	for _, u := range []zoomdemo.User{
		{ID: "zu_ann", AccountID: "acct_team", Email: "ann@example.com", DisplayName: "Ann"},
		{ID: "zu_bob", AccountID: "acct_team", Email: "bob@example.com", DisplayName: "Bob"},
		{ID: "zu_cat", AccountID: "acct_team", Email: "cat@example.com", DisplayName: "Cat"},
	} {
		e.zoom.AddUser(u)
	}
	ann, bob, cat := browser(t), browser(t), browser(t)
	annID := e.connectAs(t, ann, "zu_ann")
	bobID := e.connectAs(t, bob, "zu_bob")
	catID := e.connectAs(t, cat, "zu_cat")
	if page := body(get(t, ann, e.srv.URL+"/launch")); strings.Contains(page, `name="relay"`) {
		t.Fatal("relay offered with no teammate")
	}
	for _, b := range []*http.Client{bob, cat} {
		postValues(t, b, e.srv.URL+"/teammates", url.Values{"team_consent": {"1"}})
	}
	if page := body(get(t, ann, e.srv.URL+"/launch")); !strings.Contains(page, `name="relay" value="1"`) {
		t.Fatal("relay not offered with teammates")
	}
	ctx := context.Background()
	launch := func(form url.Values) *onbehalf.Bot {
		t.Helper()
		resp, page := e.launchForm(t, ann, form, nil)
		id := resp.Request.URL.Query().Get("created")
		if resp.StatusCode != 200 || id == "" {
			t.Fatalf("launch: %d %s", resp.StatusCode, page)
		}
		b, err := e.store.Bot(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if b := launch(url.Values{"meeting_url": {"https://zoom.us/j/" + meeting}, "relay": {"1"}}); b.Relay {
		t.Fatal("relay set on a bot of one candidate: it has no one to relay to")
	}
	a := launch(url.Values{"meeting_url": {"https://zoom.us/j/" + meeting}, "relay": {"1"}, "teammate": {bobID, catID}})
	if !a.Relay || len(a.ConnectionIDs) != 3 {
		t.Fatalf("bot %+v: want relay and 3 candidates", a)
	}

	// The relay as the bots service writes it: the new bot for Cat, and
	// the link on the old one.
	now := time.Now().UTC()
	if err := e.store.RecordTokenFetches(ctx, []onbehalf.TokenFetch{{BotID: a.ID, ConnectionID: bobID, At: now, Kind: onbehalf.KindOBF, HTTPStatus: 200, Why: "next after " + annID}}); err != nil {
		t.Fatal(err)
	}
	nb := &onbehalf.Bot{ID: "bot_relayed_to_cat", Platform: a.Platform, PlatformBotID: "pb_relayed", ConnectionID: catID, ConnectionIDs: []string{catID, annID},
		MeetingID: a.MeetingID, BotName: a.BotName, Status: onbehalf.BotInCall, CreatedAt: now, UpdatedAt: now, StatusAt: now, Relay: true, RelayedFrom: a.ID,
		Timeline: []onbehalf.BotEvent{
			{At: now, Type: onbehalf.BotEventRelay, RelayBotID: a.ID, ConnectionID: catID, Message: "Relayed from bot " + a.ID},
			{At: now, Type: onbehalf.BotEventToken, Kind: onbehalf.KindOBF, HTTPStatus: 200, ConnectionID: catID, Why: "first choice"},
		}}
	if err := e.store.CreateBot(ctx, nb); err != nil {
		t.Fatal(err)
	}
	for _, r := range []onbehalf.StatusReport{
		{Platform: a.Platform, PlatformBotID: a.PlatformBotID, Status: onbehalf.BotInCall, Code: "in_call_recording", At: now},
		{Platform: a.Platform, PlatformBotID: a.PlatformBotID, Status: onbehalf.BotDone, Code: "call_ended", SubCode: "zoom_obf_user_left",
			Message: "the person the bot joined for left the meeting", Failure: onbehalf.JoinUserLeft, At: now.Add(time.Second)},
		{Platform: a.Platform, PlatformBotID: a.PlatformBotID, RelayTo: nb.ID, RelayConnectionID: catID, EventID: "relay:" + nb.ID,
			Message: "Relayed to bot " + nb.ID + ", on behalf of connection " + catID, At: now.Add(2 * time.Second)},
	} {
		if _, _, err := e.store.ApplyStatus(ctx, r); err != nil {
			t.Fatal(err)
		}
	}

	// A bot without relay, in with Bob's token, removed when he left.
	c := launch(url.Values{"meeting_url": {"https://zoom.us/j/" + meeting}, "teammate": {bobID}})
	if err := e.store.RecordTokenFetches(ctx, []onbehalf.TokenFetch{{BotID: c.ID, ConnectionID: bobID, At: now, Kind: onbehalf.KindOBF, HTTPStatus: 200, Why: "next after " + annID}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.store.ApplyStatus(ctx, onbehalf.StatusReport{Platform: c.Platform, PlatformBotID: c.PlatformBotID, Status: onbehalf.BotDone, Code: "call_ended",
		SubCode: "zoom_obf_user_left", Message: "the person the bot joined for left the meeting", Failure: onbehalf.JoinUserLeft, At: now}); err != nil {
		t.Fatal(err)
	}

	frag := body(get(t, ann, e.srv.URL+"/launch/bots"))
	card := frag[strings.Index(frag, `id="bot-`+c.ID+`"`):]
	card = card[:strings.Index(card, "</li>\n<li")]
	if !strings.Contains(card, "The bot left when Bob left: Zoom removes the bot when the person whose token let it in leaves.") || strings.Contains(card, `class="detail"`) {
		t.Errorf("the card of a bot removed when Bob left:\n%s", card)
	}
	iNew, iOld := strings.Index(frag, `id="bot-`+nb.ID+`"`), strings.Index(frag, `id="bot-`+a.ID+`"`)
	if iNew < 0 || iOld < 0 || iNew > iOld {
		t.Fatalf("Ann's page does not list the new bot before the relayed one (%d, %d):\n%s", iNew, iOld, frag)
	}
	// The new bot's news goes to Cat's stream: Ann's page polls while it
	// is in the call; the old one, relayed, needs no polling.
	if !strings.Contains(frag, `id="bot-`+nb.ID+`" data-status="in_call" data-watch="1"`) || strings.Contains(frag, `id="bot-`+a.ID+`" data-status="done" data-watch`) {
		t.Errorf("Ann's page does not poll for the relayed bot alone:\n%s", frag)
	}
	for _, want := range []string{
		`Relayed to <a href="#bot-` + nb.ID + `">the new bot</a>`,
		`Sent when <a href="#bot-` + a.ID + `">an earlier bot</a> was removed`,
		"Your bot is in the call, with Cat&#39;s token.",
		"Bob, whose token let the bot in, left, so a new bot took over for Cat.",
		"a new one was sent for Cat. <a href=\"#bot-" + nb.ID + `">See the new bot</a>`,
		"This bot took over from an earlier bot for Cat",
	} {
		if !strings.Contains(frag, want) {
			t.Errorf("Ann's page lacks %q", want)
		}
	}
	// Cat's page lists the bot as Cat's connection's, saying who sent it.
	frag = body(get(t, cat, e.srv.URL+"/launch/bots"))
	for _, want := range []string{"A bot of Ann&#39;s is in the call with your token.", "A relay sent this bot with your token: Ann sent the bot it replaced"} {
		if !strings.Contains(frag, want) {
			t.Errorf("Cat's page lacks %q:\n%s", want, frag)
		}
	}
	frag = body(get(t, ann, e.srv.URL+"/launch/bots"))
	visible := regexp.MustCompile(`<[^>]*>`).ReplaceAllString(frag, " ")
	for _, raw := range []string{catID, "Relayed to bot", "zoom_obf_user_left"} {
		if strings.Contains(visible, raw) {
			t.Errorf("Ann's page shows %q as text:\n%s", raw, visible)
		}
	}
}
