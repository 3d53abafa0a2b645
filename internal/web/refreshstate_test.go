package web_test

import (
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/web"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// refreshStates answers RefreshState with what the test sets.
type refreshStates struct {
	mu sync.Mutex
	s  onbehalf.RefreshState
}

func (r *refreshStates) RefreshState(string) onbehalf.RefreshState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.s
}

func (r *refreshStates) set(s onbehalf.RefreshState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.s = s
}

// TestRefreshStateOnPage: the person's page says when Zoom refreshes of
// their connection are failing (the reason, until when bots get a quick
// "try again") and when they work again; nothing when all is well.
func TestRefreshStateOnPage(t *testing.T) {
	states := &refreshStates{}
	e := newEnv(t, envOpts{opts: func(o *web.Options) { o.Refreshes = states }})
	e.zoom.AddUser(zoomdemo.User{ID: "zu_ann", AccountID: "acct_1", Email: "ann@example.com", DisplayName: "Ann"})
	ann := browser(t)
	e.connectAs(t, ann, "zu_ann")
	page := func() string { return body(get(t, ann, e.srv.URL+"/")) }

	if p := page(); strings.Contains(p, `id="refresh-failing"`) || strings.Contains(p, `id="refresh-recovered"`) {
		t.Fatalf("a healthy connection shows a refresh line:\n%s", p)
	}
	until := time.Date(2026, 12, 7, 10, 0, 30, 0, time.UTC)
	states.set(onbehalf.RefreshState{Failing: true, Fails: 2, Reason: "Zoom answered HTTP 502", Until: until})
	if p := page(); !strings.Contains(p, `id="refresh-failing"`) || !strings.Contains(p, "Zoom answered HTTP 502 (2 in a row).") ||
		!strings.Contains(p, `datetime="2026-12-07T10:00:30Z"`) {
		t.Fatalf("failing refreshes not shown:\n%s", p)
	}
	// A bot still to join is at risk while they fail.
	if resp, p := e.launchForm(t, ann, url.Values{"meeting_url": {"https://zoom.us/j/" + meeting}}, nil); resp.StatusCode != 200 {
		t.Fatalf("launch: %d %s", resp.StatusCode, p)
	}
	if p := body(get(t, ann, e.srv.URL+"/launch/bots")); !strings.Contains(p, "At risk: Zoom token refreshes of this connection are failing (Zoom answered HTTP 502)") {
		t.Fatalf("the bot is not at risk:\n%s", p)
	}
	states.set(onbehalf.RefreshState{RecoveredAt: time.Now().Add(-time.Minute), RecoveredAfter: 2})
	if p := page(); !strings.Contains(p, `id="refresh-recovered"`) || !strings.Contains(p, "after 2 failed") {
		t.Fatalf("the recovery not shown:\n%s", p)
	}
}
