package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/recall"
	"github.com/onbehalf/onbehalf/internal/web"
)

func TestLaunchNeedsSession(t *testing.T) {
	e := newEnv(t, envOpts{})
	b := noFollow(browser(t))
	if resp := get(t, b, e.srv.URL+"/launch"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("GET /launch without session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ := e.launch(t, b, "https://zoom.us/j/"+meeting, nil)
	if resp.StatusCode != http.StatusSeeOther || len(e.recall.Created()) != 0 {
		t.Fatalf("POST /launch without session: %d, recall calls %d", resp.StatusCode, len(e.recall.Created()))
	}
}

func TestLaunchErrors(t *testing.T) {
	e := newEnv(t, envOpts{})
	b := browser(t)
	e.connect(t, b)
	for _, bad := range []string{"", "https://evil.com/j/85012345678", "https://zoom.us/my/alice", "https://zoom.us/j/123",
		"https://www.google.com/url?q=https%3A%2F%2Fevil.example%2Fj%2F85012345678"} {
		resp, page := e.launch(t, b, bad, nil)
		// The error sits at its field, which is marked and focused.
		if resp.StatusCode != 400 || !strings.Contains(page, `id="meeting_url-error"`) ||
			!strings.Contains(page, `aria-describedby="meeting_url-error meeting_url-hint" aria-invalid="true" autofocus`) || strings.Contains(page, `class="card err"`) {
			t.Errorf("%q: %d %s", bad, resp.StatusCode, clip(page))
		}
	}
	if len(e.recall.Created()) != 0 {
		t.Fatal("a bad URL reached Recall")
	}
	// Cross-origin form post: refused before anything happens.
	resp, _ := e.launch(t, b, "https://zoom.us/j/"+meeting, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
	if resp.StatusCode != 403 || len(e.recall.Created()) != 0 {
		t.Fatalf("cross-origin: %d", resp.StatusCode)
	}
	// Recall errors show Recall's status and message, never the key or URL.
	e.recall.FailCreate(401, `{"detail":"Invalid token."}`)
	resp, page := e.launch(t, b, "https://zoom.us/j/"+meeting, nil)
	if resp.StatusCode != 502 || !strings.Contains(page, "401") || !strings.Contains(page, "Invalid token.") ||
		strings.Contains(page, "rkey") || strings.Contains(page, secret) || strings.Contains(page, "sig=") {
		t.Fatalf("recall error: %d\n%s", resp.StatusCode, page)
	}
}

// TestLaunchPostRedirectGet: a bot is sent once; the browser lands on
// GET /launch, so a reload sends nothing. The platform got the canonical
// meeting URL, never the raw input.
func TestLaunchPostRedirectGet(t *testing.T) {
	e := newEnv(t, envOpts{})
	b := browser(t)
	e.connect(t, b)
	paste := "Join Zoom Meeting\nhttps://us02web.zoom.us/j/" + meeting + "?pwd=abc.1\n\nMeeting ID: 850 1234 5678\nPasscode: 123456"
	resp, page := e.launch(t, b, paste, nil)
	if resp.StatusCode != 200 || resp.Request.Method != http.MethodGet || resp.Request.URL.Path != "/launch" {
		t.Fatalf("after POST: %d %s %s", resp.StatusCode, resp.Request.Method, resp.Request.URL)
	}
	created := e.recall.Created()
	if len(created) != 1 || created[0].MeetingURL != "https://us02web.zoom.us/j/"+meeting+"?pwd=abc.1" {
		t.Fatalf("recall got %+v", created)
	}
	if !strings.Contains(page, "Bot sent on Recall.ai") || strings.Contains(page, secret) || strings.Contains(page, "sig=") {
		t.Fatalf("launch page:\n%s", page)
	}
	// Reloading the page sends no second bot.
	get(t, b, resp.Request.URL.String())
	if n := len(e.recall.Created()); n != 1 {
		t.Fatalf("a reload sent %d bots", n)
	}
	// The bot is listed, and the fragment the live script loads shows it.
	frag := body(get(t, b, e.srv.URL+"/launch/bots"))
	if !strings.Contains(frag, "Recall.ai") || !strings.Contains(frag, meeting) {
		t.Fatalf("bots fragment:\n%s", frag)
	}
}

// TestLaunchHostJoinToken: "I host this meeting" gives Recall a join token
// URL, which serves the host's join token.
func TestLaunchHostJoinToken(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.zoom.SetHost(meeting, "zu_default")
	b := browser(t)
	e.connect(t, b)
	resp, page := e.launchForm(t, b, url.Values{"meeting_url": {"https://zoom.us/j/" + meeting}, "use_join": {"1"}}, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("%d\n%s", resp.StatusCode, page)
	}
	bots := e.recall.Bots()
	join := bots[len(bots)-1].TokenURLs[onbehalf.KindJoin]
	if !strings.Contains(join, recall.PathJoin+"?") {
		t.Fatalf("join token URL %q", join)
	}
	r := get(t, http.DefaultClient, join)
	if got := body(r); r.StatusCode != 200 || !strings.HasPrefix(got, "join") {
		t.Fatalf("join token: %d %q", r.StatusCode, got)
	}
}

func TestLaunchWithoutPlatformSaysWhatToSet(t *testing.T) {
	e := newEnv(t, envOpts{noRecall: true, opts: func(o *web.Options) { o.Hints = []onbehalf.Hint{recall.Spec.Hint} }})
	b := browser(t)
	e.connect(t, b)
	page := body(get(t, b, e.srv.URL+"/launch"))
	if !strings.Contains(page, "RECALL_API_KEY") || !strings.Contains(page, "disabled") {
		t.Fatalf("launch page:\n%s", page)
	}
	resp, page := e.launch(t, b, "https://zoom.us/j/"+meeting, nil)
	if resp.StatusCode != 503 || !strings.Contains(page, "RECALL_API_KEY") {
		t.Fatalf("%d\n%s", resp.StatusCode, page)
	}
}
