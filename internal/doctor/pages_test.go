package doctor

import (
	"testing"
)

// TestPagesOpenToAnyZoomUser: doctor warns when the pages let any Zoom user
// send bots on the operator's platform accounts, says how to limit it, and
// is quiet once one of the limits is set.
func TestPagesOpenToAnyZoomUser(t *testing.T) {
	w := newWorld(t)
	open := w.env.with("ALLOWED_ZOOM_ACCOUNTS", "")
	out, code := w.run(t, open, true)
	if code != 0 {
		t.Fatalf("exit %d (a warning must not fail the run):\n%s", code, out)
	}
	mustContain(t, out,
		"⚠ The pages are open to any Zoom user: anyone who can sign in to Zoom and authorize your Zoom app can connect at https://"+publicHost+"/zoom/oauth",
		"send bots from /launch on your Recall.ai account(s), at most BOTS_PER_HOUR=20 bots per person per hour",
		"set ALLOWED_ZOOM_ACCOUNTS (your Zoom account ID) or ALLOWED_EMAIL_DOMAINS (e.g. example.com), or PAGES=false",
		"✓ PAGES = true (default)", "✓ BOTS_PER_HOUR = 20 (default)", "✓ STREAMS_PER_SESSION = 5 (default)", "✓ STREAMS_MAX = 1000 (default)",
	)
	out, _ = w.run(t, open.with("BOTS_PER_HOUR", "0"), true)
	mustContain(t, out, "on your Recall.ai account(s), with no limit (BOTS_PER_HOUR=0)")

	for name, e := range map[string]env{
		"accounts": w.env,
		"domains":  open.with("ALLOWED_EMAIL_DOMAINS", "example.com"),
		"no pages": open.with("PAGES", "false"),
		// Nobody can send bots without a platform.
		"no platform": open.with("RECALL_API_KEY", "", "RECALL_API_URL", ""),
	} {
		out, _ := w.run(t, e, true)
		mustNotContain(t, out, "The pages are open to any Zoom user: anyone")
		if name == "domains" {
			mustContain(t, out, "✓ The pages connect only Zoom users of emails at example.com; each may send bots from /launch, at most BOTS_PER_HOUR=20")
		}
		if name == "no pages" {
			mustContain(t, out, "✓ PAGES=false: no home, launch or person page")
		}
	}
	out, _ = w.run(t, w.env.with("STREAMS_MAX", "1000000"), true)
	if n, ok := openFileLimit(); ok && n < 1000000+fdHeadroom {
		mustContain(t, out, "⚠ STREAMS_MAX=1000000 live-status streams (one file descriptor each) leave less than 256 of this shell's open-file limit")
	}
}
