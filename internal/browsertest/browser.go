// Package browsertest drives a real Chromium (Debian's chromium package)
// with chromedp through `onbehalf demo`, as a person would: connect Zoom,
// approve on the fake consent page, send a bot, join the fake meeting and
// leave it, while the launch page updates live, with no Content Security
// Policy violation, and usable 375 px wide. Its test saves a screenshot of
// every step under screenshots/browsertest/ at the module root (covered
// by .gitignore; SCREENSHOTS_DIR moves it) and says where.
//
// This file holds what the test needs around chromedp: finding Chromium,
// starting it with flags that work on CI machines, and tabs that record
// every console error and CSP violation of their pages.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// EnvChromium names the variable that points at a Chromium binary when it
// is not on PATH under one of Candidates.
const EnvChromium = "CHROMIUM_BIN"

// Candidates are the names FindChromium looks for on PATH, Debian's first.
var Candidates = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "headless-shell"}

// FindChromium returns the Chromium binary to drive: $CHROMIUM_BIN when
// set, else the first of Candidates on PATH; "" when there is none.
func FindChromium() string {
	if p := strings.TrimSpace(os.Getenv(EnvChromium)); p != "" {
		return p
	}
	for _, name := range Candidates {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// NewBrowser prepares a headless Chromium at bin with a fresh profile in
// profileDir and the flags that work on CI machines, which run as root
// with no GPU and no outside network: --no-sandbox, --disable-gpu,
// --disable-quic, --disable-background-networking,
// --disable-component-update, --disable-sync, --no-first-run. It starts
// the browser (tabs opened on the returned context share it) and stops it
// when cancel is called.
func NewBrowser(parent context.Context, bin, profileDir string) (context.Context, context.CancelFunc, error) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(profileDir),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	cancel := func() {
		cancelBrowser()
		cancelAlloc()
	}
	if err := chromedp.Do(bctx); err != nil {
		cancel()
		return nil, nil, err
	}
	return bctx, cancel, nil
}

// cspRecorder runs in every page before the page's own scripts: it keeps
// each Content Security Policy violation the page reports in
// window.__cspViolations. It comes through the DevTools protocol, which
// the page's policy does not govern.
const cspRecorder = `window.__cspViolations=[];document.addEventListener("securitypolicyviolation",function(e){window.__cspViolations.push(e.violatedDirective+" blocked "+(e.blockedURI||"an inline element")+" on "+e.documentURI+(e.sample?" ("+e.sample+")":""))});`

// Console is what the pages of a tab reported that a person would call
// broken: console errors, uncaught exceptions, and browser log entries of
// level error or from the security source (where Chromium reports CSP
// violations). Safe for concurrent use.
type Console struct {
	mu   sync.Mutex
	msgs []string
}

// add records a message when it is a problem.
func (c *Console) add(m chromedp.ConsoleMessage) {
	if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException && m.Source != "security" {
		return
	}
	c.mu.Lock()
	c.msgs = append(c.msgs, m.String()+" ["+m.URL+"]")
	c.mu.Unlock()
}

// Problems returns the problems recorded so far.
func (c *Console) Problems() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.msgs...)
}

// Reset forgets the problems recorded so far.
func (c *Console) Reset() {
	c.mu.Lock()
	c.msgs = nil
	c.mu.Unlock()
}

// OpenTab opens a tab (in a window of its own, so that it is never
// hidden) in the browser of parent, with the CSP recorder installed for
// every page it loads and its console watched until ctx ends.
func OpenTab(parent context.Context) (context.Context, context.CancelFunc, *Console, error) {
	ctx, cancel := chromedp.NewContext(parent)
	con := &Console{}
	messages := chromedp.Console(ctx) // starts the tab
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			con.add(m)
		}
	}()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspRecorder}); err != nil {
		cancel()
		return nil, nil, nil, err
	}
	return ctx, cancel, con, nil
}

// ScreenshotDir returns the folder for the screenshots of a test named
// name: $SCREENSHOTS_DIR/name when set, else screenshots/name at the root
// of the module holding the working directory (.gitignore covers it).
func ScreenshotDir(name string) (string, error) {
	if d := strings.TrimSpace(os.Getenv("SCREENSHOTS_DIR")); d != "" {
		return filepath.Abs(filepath.Join(d, name))
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "screenshots", name), nil
		}
		if filepath.Dir(d) == d {
			return filepath.Join(dir, "screenshots", name), nil
		}
	}
}
