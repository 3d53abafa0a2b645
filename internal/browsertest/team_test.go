package browsertest_test

import (
	"strings"
	"testing"

	"github.com/onbehalf/onbehalf/internal/demotest"
)

// TestDemoTeammatesInBrowser: in the demo, the launch form offers the two
// fake teammates (Ada never joins, Ben does); a bot sent for both while
// the person stays away gets in with Ben's token, live, and the timeline
// says whose token each fetch got. Ben's own page is not the person's: the
// person's page shows the teammates card with their yes or no.
func TestDemoTeammatesInBrowser(t *testing.T) {
	bctx := browser(t)
	shots := screenshots(t)
	d := demotest.Start(t, nil, pace)

	a := open(t, bctx, "person", shots, 1280, 1000, false)
	a.goTo(d.URL+"/", "#connect")
	a.click("#connect", "button.allow")
	a.click("button.allow", "#send")
	a.waitText("#teammates", "Ben (joins)")
	if n := eval[int](a, `(function(){var b=document.querySelectorAll('#teammates input[name="teammate"]');b.forEach(function(e){e.checked=true});return b.length})()`); n != 2 {
		a.fail("%d teammates offered, want Ada and Ben", n)
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
