package browsertest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/onbehalf/onbehalf/internal/demo"
	"github.com/onbehalf/onbehalf/internal/demotest"
)

// TestDemoTeammatesInBrowser: in the demo, the launch form offers the
// fake teammates (Ada never joins, Ben does, Cleo too); a bot sent for them while
// the person stays away gets in with Ben's token, live, and the timeline
// says whose token each fetch got. Ben's own page is not the person's: the
// person's page shows the teammates card with their yes or no.
func TestDemoTeammatesInBrowser(t *testing.T) {
	_, _, d, a := teamDemo(t)
	if n := eval[int](a, `(function(){var b=document.querySelectorAll('#teammates input[name="teammate"]');b.forEach(function(e){e.checked=true});return b.length})()`); n != 3 {
		a.fail("%d teammates offered, want Ada, Ben and Cleo", n)
	}
	a.clean("launch form with teammates")
	a.shot("01-launch-teammates")

	a.click("#send", "#bots .bot")
	a.waitText("#bots .bot .pill", "In the call")
	a.waitText("#bots .bot", "Ben (joins)'s token")
	eval[int](a, `(function(){document.querySelectorAll("#bots details").forEach(function(d){d.open=true});return 1})()`)
	txt := a.text()
	for _, want := range []string{"your token: first choice", "Ada (never joins)'s token", "Ben (joins)'s token"} {
		if !strings.Contains(txt, want) {
			a.fail("the timeline does not show %q", want)
		}
	}
	a.clean("bot in with Ben")
	a.shot("02-in-with-ben")

	a.goTo(d.URL+"/", "#team-form")
	if !strings.Contains(a.text(), "Let my teammates' bots join on my behalf") {
		a.fail("the person page has no teammates card")
	}
	a.clean("person page")
	a.shot("03-person-page")
}

// TestDemoRelayInBrowser: a bot sent on Recall.ai with relay for the
// person, Ada, Ben and Cleo gets in with Ben's token; on the meeting page
// Ben leaves while Cleo stays; the person's page, never reloaded, then shows the bot Zoom
// removed, linked to the bot sent for Cleo, which is in the call with her
// token, at 1280 and 390 px wide.
func TestDemoRelayInBrowser(t *testing.T) {
	bctx, shots, d, a := teamDemo(t)
	if !strings.Contains(a.text(), "if the person it joined for leaves, send a bot for the next one") {
		a.fail("the launch form does not offer relay")
	}
	eval[int](a, `(function(){document.querySelectorAll('#teammates input[name="teammate"]').forEach(function(e){e.checked=true});document.getElementById("relay").checked=true;document.getElementById("platform").value="recall";return 1})()`)
	a.clean("launch form with relay")
	a.shot("01-launch-relay")

	a.click("#send", "#bots .bot")
	a.waitText("#bots .bot", "Ben (joins)'s token")
	z := open(t, bctx, "meeting", shots, 1280, 900, false)
	z.goTo(d.ZoomURL+"/j/"+demoMeeting, ".tile.mate")
	for _, who := range []string{"Ben (joins)", "Cleo (stays)"} {
		if !strings.Contains(z.text(), who) {
			z.fail("the meeting page does not show %s in the meeting", who)
		}
	}
	z.clean("meeting with Ben and Cleo")
	z.shot("02-meeting-ben-and-cleo")
	if !eval[bool](z, `(function(){var b=Array.prototype.find.call(document.querySelectorAll(".tile.mate button"),function(b){return b.textContent==="Ben leaves"});if(!b)return false;b.click();return true})()`) {
		z.fail("no Ben leaves button")
	}
	z.waitGone(".tile.mate", "Ben (joins)")

	// The person's page, never reloaded, shows the relay: the bot sent for
	// Cleo is Cleo's connection's, whose events go to her stream, so the
	// page polls while such a bot is on its way.
	a.waitText("#bots", "Your bot is in the call, with Cleo (stays)'s token.")
	eval[int](a, `(function(){document.querySelectorAll("#bots details").forEach(function(d){d.open=true});return 1})()`)
	txt := a.text()
	for _, want := range []string{"Relayed to the new bot", "Sent when an earlier bot was removed", "Ben (joins), whose token let the bot in, left, so a new bot took over for Cleo (stays)", "See the earlier bot", "See the new bot", "Ben (joins)'s token"} {
		if !strings.Contains(txt, want) {
			a.fail("the person's page does not show %q", want)
		}
	}
	a.clean("relayed bot")
	a.shot("03-relayed-1280")

	m := open(t, bctx, "phone", shots, 390, 800, true)
	m.goTo(d.URL+"/launch", "#bots .bot")
	eval[int](m, `(function(){document.querySelectorAll("#bots details").forEach(function(d){d.open=true});return 1})()`)
	m.fitsWidth("relayed bot at 390 px", "")
	m.clean("relayed bot at 390 px")
	m.shot("04-relayed-390")
}

// demoMeeting is the meeting the demo's launch form starts with.
const demoMeeting = "85012345678"

// waitGone waits until no sel holds want.
func (tb *tab) waitGone(sel, want string) {
	tb.t.Helper()
	expr := fmt.Sprintf(`(function(){return !Array.prototype.some.call(document.querySelectorAll(%q),function(e){return e.innerText.indexOf(%q)>=0})})()`, sel, want)
	tb.poll(fmt.Sprintf("%q to leave %s", want, sel), expr)
}

// poll evaluates expr until it is true, for at most stepTimeout.
func (tb *tab) poll(what, expr string) {
	tb.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(tb.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	tb.fail("waiting for %s", what)
}

// teamDemo starts the demo and a browser, and connects the person in a
// 1280 px tab, which ends on the launch form offering the teammates.
func teamDemo(t *testing.T) (bctx context.Context, shots string, d *demo.Demo, a *tab) {
	t.Helper()
	bctx = browser(t)
	shots = screenshots(t)
	d = demotest.Start(t, nil, pace)
	a = open(t, bctx, "person", shots, 1280, 1000, false)
	a.goTo(d.URL+"/", "#connect")
	a.click("#connect", "button.allow")
	a.click("button.allow", "#send")
	a.waitText("#teammates", "Cleo (stays)")
	return bctx, shots, d, a
}
