package browsertest_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/onbehalf/onbehalf/internal/browsertest"
	"github.com/onbehalf/onbehalf/internal/demo"
	"github.com/onbehalf/onbehalf/internal/demotest"
)

// pace is the fake bots' pace: slow enough that the launch page shows
// each status as it comes, fast enough for CI.
const pace = 700 * time.Millisecond

// browser starts Chromium, or skips the test when there is none.
func browser(t *testing.T) context.Context {
	t.Helper()
	bin := browsertest.FindChromium()
	if bin == "" {
		t.Skipf("no Chromium binary found (looked for $%s, then %s on PATH): install Debian's chromium (apt-get install -y chromium) to run the browser test",
			browsertest.EnvChromium, strings.Join(browsertest.Candidates, ", "))
	}
	ctx, cancel, err := browsertest.NewBrowser(context.Background(), bin, t.TempDir())
	if err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	t.Cleanup(cancel)
	return ctx
}

// screenshots returns the test's screenshot folder, emptied.
func screenshots(t *testing.T) string {
	t.Helper()
	dir, err := browsertest.ScreenshotDir(t.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots of every step: %s", dir)
	return dir
}

// TestDemoInBrowser clicks through `onbehalf demo` in Chromium as a
// person would and checks what they see at each step, with a screenshot
// of each: the demo marks, the consent page, the live status of the bot
// changing without a reload (through the event stream), the meeting
// joined and left, a dead connection and reconnecting, errors, and the
// pages at 375 px wide. No page may report a CSP violation or a console
// error; the test first proves that it sees one.
func TestDemoInBrowser(t *testing.T) {
	bctx := browser(t)
	shots := screenshots(t)
	d := demotest.Start(t, nil, pace)
	start := time.Now()

	a := open(t, bctx, "person", shots, 1280, 900, false)
	a.goTo(d.URL+"/", "#connect")
	proveDetector(a)
	a.goTo(d.URL+"/", "#connect")
	if txt := a.text(); !strings.Contains(txt, "DEMO") || !strings.Contains(txt, "Connect Zoom") {
		a.fail("the home page is not marked DEMO or has no Connect button")
	}
	a.clean("home")
	a.shot("01-home")

	// Connect: the fake Zoom's consent page, then back to the launch form.
	a.click("#connect", "button.allow")
	if txt := a.text(); !strings.Contains(txt, "DEMO") || !strings.Contains(txt, "onbehalf (demo) wants to access your Zoom account") {
		a.fail("the consent page is not the fake Zoom's, marked DEMO")
	}
	a.clean("consent")
	a.shot("02-consent")
	a.click("button.allow", "#send")
	liveStream(a)
	a.clean("launch form")
	a.shot("03-launch-form")

	// Send a bot; from here the page must change by itself.
	a.click("#send", "#bots .bot")
	if s := eval[string](a, `document.querySelector("#bots .bot").dataset.status`); s != "created" && s != "joining" {
		t.Logf("the bot was already %q when the page loaded", s)
	}
	eval[int](a, `window.__sameLoad = 1`)
	a.waitText("#bots .bot .headline", "Your bot is waiting for you: join the meeting now")
	a.waitText("#bots .bot .pill", "Waiting for you")
	a.clean("bot waiting")
	a.shot("04-bot-waiting")

	// Join the fake meeting in another window.
	meeting := eval[string](a, `document.querySelector("#bots .bot a.join").href`)
	if !strings.HasPrefix(meeting, d.ZoomURL+"/j/") {
		a.fail("the Join link goes to %s, not to the fake Zoom's meeting", meeting)
	}
	m := open(t, bctx, "meeting", shots, 1024, 800, false)
	m.goTo(meeting, "#join")
	m.clean("meeting")
	m.shot("05-meeting-before-join")
	m.click("#join", "#leave")

	a.waitText("#bots .bot .headline", "in the call")
	a.waitText("#bots .bot .pill", "In the call")
	sameLoad(a)
	a.clean("in the call")
	a.shot("06-bot-in-call")
	m.goTo(meeting, "#leave")
	m.clean("meeting joined")
	m.shot("07-meeting-with-bot")

	m.click("#leave", "#join")
	a.waitText("#bots .bot .headline", "left when you left")
	sameLoad(a)
	a.clean("left")
	a.shot("08-bot-left")

	a.goTo(d.URL+"/", "#send")
	for _, want := range []string{"Connected to Zoom as Demo User", "Last token refresh", "Zoom scopes", "left when you left"} {
		if !strings.Contains(a.text(), want) {
			a.fail("the home page does not show %q", want)
		}
	}
	a.clean("home connected")
	a.shot("09-home-connected")

	// 375 px wide: nothing scrolls sideways, the Send button is on screen.
	p := open(t, bctx, "phone", shots, 375, 812, true)
	p.goTo(d.URL+"/launch", "#send")
	p.fitsWidth("launch at 375 px", "#send")
	p.clean("launch at 375 px")
	p.shot("10-phone-launch")
	p.goTo(d.URL+"/", "#send")
	p.fitsWidth("home at 375 px", "#send")
	p.shot("11-phone-home")
	p.goTo(meeting, "#join")
	p.fitsWidth("meeting at 375 px", "#join")
	p.shot("12-phone-meeting")

	// A link that is not Zoom's: a readable error, the form kept.
	a.goTo(d.URL+"/launch", "#send")
	a.do("fill in a bad link", chromedp.SetValue(chromedp.CSS("#meeting_url"), "https://example.com/j/85012345678"))
	a.click("#send", "#meeting_url-error")
	if !strings.Contains(a.text(), "The bot was not sent") || !eval[bool](a, `document.activeElement.id === "meeting_url" && document.activeElement.getAttribute("aria-invalid") === "true"`) {
		a.fail("no readable error at the link's field, or the field is not focused")
	}
	a.shot("13-bad-link")
	a.console.Reset() // the 400 page itself is logged as a failed load

	deadConnection(a, m, d, meeting)
	withoutJavaScript(t, bctx, a, d, shots)
	declined(a, d)
	t.Logf("the browser flow took %s", time.Since(start).Round(time.Millisecond))
}

// deadConnection: the app's access is removed in (fake) Zoom; the next
// bot's token is refused, the page says so and offers Reconnect, never a
// Send button under "Connected as"; reconnecting brings it all back.
func deadConnection(a, m *tab, d *demo.Demo, meeting string) {
	m.goTo(meeting, "#revoke")
	m.click("#revoke", ".flash")
	m.shot("14-meeting-access-removed")

	a.goTo(d.URL+"/launch", "#send")
	a.click("#send", "#bots")
	// The connection is marked dead a moment before the refused fetch is
	// written to the bot's timeline: wait for the bot card, not the banner.
	a.waitText("#bots", "Zoom refused the token")
	a.goTo(d.URL+"/launch", "#reconnect")
	txt := a.text()
	if strings.Contains(txt, "Connected to Zoom as") || eval[bool](a, `!!document.querySelector("#send")`) {
		a.fail("a dead connection still shows Connected as… or a Send button")
	}
	if !strings.Contains(txt, "Your Zoom connection stopped working") || !strings.Contains(txt, "Zoom refused the token") {
		a.fail("the dead connection is not explained")
	}
	a.clean("dead connection")
	a.shot("15-dead-connection")

	a.click("#reconnect", "button.allow")
	a.click("button.allow", "#send")
	if !strings.Contains(a.text(), "Connected to Zoom as Demo User") {
		a.fail("reconnecting did not bring the connection back")
	}
	a.clean("reconnected")
	a.shot("16-reconnected")
}

// withoutJavaScript: with JavaScript off, the launch page shows the same
// bots as a live page reloaded, and says to reload.
func withoutJavaScript(t *testing.T, bctx context.Context, a *tab, d *demo.Demo, shots string) {
	n := open(t, bctx, "no-javascript", shots, 1024, 800, false)
	n.do("turn JavaScript off", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	n.goTo(d.URL+"/launch", "#send")
	a.goTo(d.URL+"/launch", "#send")
	// Times read in UTC without JavaScript and in local time with it, and
	// the Copy buttons need it: the two are compared without them.
	const botsText = `(function(){var c=document.querySelector("#bots").cloneNode(true);c.querySelectorAll("time[datetime]").forEach(function(t){t.textContent=t.getAttribute("datetime")});c.querySelectorAll("button[data-copy]").forEach(function(b){b.remove()});document.body.appendChild(c);var s=c.innerText;c.remove();return s})()`
	off, on := eval[string](n, botsText), eval[string](a, botsText)
	if off != on || !strings.Contains(n.text(), "JavaScript is off: reload the page for the latest status") {
		n.fail("without JavaScript the bots differ from a reloaded live page:\n%s\n---\n%s", off, on)
	}
	n.shot("17-no-javascript")
}

// declined: declining on the consent page is a calm page (not an error)
// with what to do next.
func declined(a *tab, d *demo.Demo) {
	a.goTo(d.URL+"/zoom/oauth", "button.allow")
	a.click(`button[value="decline"]`, `.card[role="status"]`)
	txt := a.text()
	if !strings.Contains(txt, "DEMO") || !strings.Contains(txt, "Try again") || !strings.Contains(txt, "You declined") {
		a.fail("the page after Decline is not marked DEMO, does not say you declined, or offers no Try again")
	}
	a.shot("18-declined")
	a.console.Reset()
}

// liveStream waits until the launch page's script has opened the event
// stream (GET /launch/events); a page that fell back to polling fails.
func liveStream(a *tab) {
	deadline := time.Now().Add(stepTimeout)
	for {
		switch mode := eval[string](a, `document.querySelector("#bots").getAttribute("data-live") || ""`); mode {
		case "sse":
			return
		case "poll":
			a.fail("the launch page could not open its event stream and polls instead: GET /launch/events must answer text/event-stream (the app sets web.Options.Stream)")
		}
		if time.Now().After(deadline) {
			a.fail("the launch page's script never started: blocked, or broken")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sameLoad fails the test when the page was reloaded since the bot was
// sent: the status must have changed live.
func sameLoad(a *tab) {
	if !eval[bool](a, `window.__sameLoad === 1`) {
		a.fail("the page was reloaded: the status did not change live")
	}
}

// proveDetector makes sure the test sees a CSP violation: a page that
// adds an inline script of its own is blocked by the policy, and both the
// page's violation report and the browser console must show it.
func proveDetector(a *tab) {
	eval[int](a, `(function(){var s=document.createElement("script");s.textContent="window.__injected=1";document.body.appendChild(s);return 1})()`)
	deadline := time.Now().Add(5 * time.Second)
	for {
		page := eval[[]string](a, `window.__cspViolations`)
		logged := a.console.Problems()
		if len(page) > 0 && len(logged) > 0 {
			break
		}
		if time.Now().After(deadline) {
			a.fail("an inline script added by the page went unnoticed (violations %q, console %q): the CSP check would miss a blocked script", page, logged)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if eval[bool](a, `window.__injected === 1`) {
		a.fail("the policy let an inline script without a hash run")
	}
	a.console.Reset()
}
