package web_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestLaunchNeedsSession(t *testing.T) {
	e := newEnv(t, envOpts{})
	b := noFollow(browser(t))
	if resp := get(t, b, e.srv.URL+"/launch"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("GET /launch without session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ := e.launch(t, b, "https://zoom.us/j/"+meeting, nil)
	if resp.StatusCode != http.StatusSeeOther || e.recall.Calls() != 0 {
		t.Fatalf("POST /launch without session: %d, recall calls %d", resp.StatusCode, e.recall.Calls())
	}
}

func TestLaunchErrors(t *testing.T) {
	e := newEnv(t, envOpts{})
	b := browser(t)
	e.connect(t, b)
	for _, bad := range []string{"", "https://evil.com/j/85012345678", "https://zoom.us/my/alice", "https://zoom.us/j/123"} {
		resp, page := e.launch(t, b, bad, nil)
		if resp.StatusCode != 400 || !strings.Contains(page, `class="box err"`) {
			t.Errorf("%q: %d", bad, resp.StatusCode)
		}
	}
	if e.recall.Calls() != 0 {
		t.Fatal("a bad URL reached Recall")
	}
	// Cross-origin form post: refused before anything happens.
	resp, _ := e.launch(t, b, "https://zoom.us/j/"+meeting, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
	if resp.StatusCode != 403 || e.recall.Calls() != 0 {
		t.Fatalf("cross-origin: %d", resp.StatusCode)
	}
	// Recall errors show Recall's status and message, never the key or URL.
	e.recall.FailNext(401, `{"detail":"Invalid token."}`)
	resp, page := e.launch(t, b, "https://zoom.us/j/"+meeting, nil)
	if resp.StatusCode != 502 || !strings.Contains(page, "401") || !strings.Contains(page, "Invalid token.") ||
		strings.Contains(page, "rkey") || strings.Contains(page, secret) {
		t.Fatalf("recall error: %d\n%s", resp.StatusCode, page)
	}
	// Success shows the bot ID.
	resp, page = e.launch(t, b, "zoommtg://zoom.us/join?confno="+meeting+"&pwd=x", nil)
	bots := e.recall.Bots()
	if resp.StatusCode != 200 || len(bots) != 1 || !strings.Contains(page, bots[0].ID) || strings.Contains(page, secret) {
		t.Fatalf("success: %d\n%s", resp.StatusCode, page)
	}
}

func TestLaunchWithoutRecallSaysWhatToSet(t *testing.T) {
	e := newEnv(t, envOpts{noRecall: true})
	b := browser(t)
	e.connect(t, b)
	page := body(get(t, b, e.srv.URL+"/launch"))
	if !strings.Contains(page, "RECALL_API_KEY") {
		t.Fatalf("launch page:\n%s", page)
	}
	resp, page := e.launch(t, b, "https://zoom.us/j/"+meeting, nil)
	if resp.StatusCode != 503 || !strings.Contains(page, "RECALL_API_KEY") {
		t.Fatalf("%d\n%s", resp.StatusCode, page)
	}
}
