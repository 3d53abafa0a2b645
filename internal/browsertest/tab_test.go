package browsertest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/onbehalf/onbehalf/internal/browsertest"
)

// stepTimeout bounds one step: a page load, a click, a status to arrive.
const stepTimeout = 20 * time.Second

// tab is a browser tab under test: each failure names the tab and the
// step, and every step can be checked for CSP violations and console
// errors and saved as a screenshot.
type tab struct {
	t       *testing.T
	name    string
	ctx     context.Context
	console *browsertest.Console
	shots   string
}

// open opens a tab in the browser of parent, width×height CSS pixels
// (mobile: a phone's viewport, honouring the page's meta viewport).
func open(t *testing.T, parent context.Context, name, shots string, width, height int64, mobile bool) *tab {
	t.Helper()
	ctx, cancel, con, err := browsertest.OpenTab(parent)
	if err != nil {
		t.Fatalf("%s: opening a tab: %v", name, err)
	}
	t.Cleanup(cancel)
	tb := &tab{t: t, name: name, ctx: ctx, console: con, shots: shots}
	opts := []chromedp.EmulateViewportOption{}
	if mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2))
	}
	tb.do("set the viewport", chromedp.EmulateViewport(width, height, opts...))
	return tb
}

// do runs actions within stepTimeout, failing the test with what.
func (tb *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.fail("%s: %v", what, err)
	}
}

// fail stops the test with the tab's page as it is.
func (tb *tab) fail(format string, args ...any) {
	tb.t.Helper()
	msg := fmt.Sprintf(format, args...)
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	url, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	tb.t.Fatalf("%s tab: %s\nat %s, the page says:\n%s", tb.name, msg, url, text)
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.fail("evaluating %s: %v", expr, err)
	}
	return v
}

// goTo loads url and waits for sel.
func (tb *tab) goTo(url, sel string) {
	tb.t.Helper()
	tb.do("open "+url, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(sel)))
}

// click clicks sel and waits for next to be visible (on the page it
// leads to).
func (tb *tab) click(sel, next string) {
	tb.t.Helper()
	tb.do("click "+sel, chromedp.Click(chromedp.CSS(sel)), chromedp.WaitVisible(chromedp.CSS(next)))
}

// waitText waits until the text of sel holds want. It never reloads the
// page; it asks again after a navigation the page made itself.
func (tb *tab) waitText(sel, want string) {
	tb.t.Helper()
	expr := fmt.Sprintf(`(function(){var e=document.querySelector(%q);return !!e&&e.innerText.indexOf(%q)>=0})()`, sel, want)
	deadline := time.Now().Add(stepTimeout)
	var err error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(tb.ctx, 2*time.Second)
		var ok bool
		ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.fail("waiting for %q in %s (last error: %v)", want, sel, err)
}

// text returns the visible text of the page.
func (tb *tab) text() string {
	tb.t.Helper()
	return eval[string](tb, `document.body.innerText`)
}

// clean fails the test if a page of the tab reported a CSP violation, a
// console error or an uncaught exception since the last check.
func (tb *tab) clean(step string) {
	tb.t.Helper()
	var problems []string
	if v := eval[[]string](tb, `window.__cspViolations || ["the CSP recorder did not run on this page"]`); len(v) > 0 {
		problems = append(problems, v...)
	}
	problems = append(problems, tb.console.Problems()...)
	if len(problems) > 0 {
		tb.fail("%s: the page reported:\n  %s", step, strings.Join(problems, "\n  "))
	}
}

// shot saves a screenshot of the whole page as <shots>/<name>.png.
func (tb *tab) shot(name string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.fail("screenshot %s: %v", name, err)
	}
	path := filepath.Join(tb.shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// fitsWidth fails the test when the page scrolls sideways, or when sel is
// not entirely on screen once scrolled to.
func (tb *tab) fitsWidth(step, sel string) {
	tb.t.Helper()
	if w := eval[[]int](tb, `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > w[1] {
		tb.fail("%s: the page is %d px wide in a %d px window: it scrolls sideways", step, w[0], w[1])
	}
	if sel == "" {
		return
	}
	tb.do("scroll to "+sel, chromedp.ScrollIntoView(chromedp.CSS(sel)))
	expr := fmt.Sprintf(`(function(){var e=document.querySelector(%q),r=e.getBoundingClientRect();var x=r.left+r.width/2,y=r.top+r.height/2;`+
		`return r.width>0&&r.height>0&&r.left>=0&&r.right<=window.innerWidth&&r.top>=0&&r.bottom<=window.innerHeight&&(e===document.elementFromPoint(x,y)||e.contains(document.elementFromPoint(x,y)))})()`, sel)
	if !eval[bool](tb, expr) {
		tb.fail("%s: %s is not fully visible at %d px wide", step, sel, eval[int](tb, `window.innerWidth`))
	}
}
