package bots_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/bots"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// aheadCalls records RefreshAhead calls and answers err.
type aheadCalls struct {
	mu   sync.Mutex
	dues []time.Time
	err  error
}

func (a *aheadCalls) RefreshAhead(_ context.Context, _ string, due time.Time) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.dues = append(a.dues, due)
	return a.err == nil, a.err
}

// TestLaunchRefreshesAheadOfTheJoin: a bot is launched with the time it
// will ask for its token: its platform's join_at when given (recorded on
// the bot), else a few minutes from now.
func TestLaunchRefreshesAheadOfTheJoin(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "user:read:user user:read:token")
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	e.svc.Now = func() time.Time { return now }
	ahead := &aheadCalls{}
	e.svc.Ahead = ahead

	b, err := e.svc.Launch(ctx, bots.LaunchRequest{ConnectionID: e.conn.ID, MeetingURL: "https://zoom.us/j/85012345678"})
	if err != nil {
		t.Fatal(err)
	}
	if !b.JoinAt.IsZero() {
		t.Fatalf("ad-hoc bot has join_at %s", b.JoinAt)
	}
	joinAt := now.Add(48 * time.Hour)
	opts, _ := json.Marshal(map[string]string{"join_at": joinAt.In(time.FixedZone("IST", 19800)).Format(time.RFC3339)})
	s, err := e.svc.Launch(ctx, bots.LaunchRequest{ConnectionID: e.conn.ID, MeetingURL: "https://zoom.us/j/85012345678", Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	if !s.JoinAt.Equal(joinAt) {
		t.Fatalf("scheduled bot's join_at %s, want %s", s.JoinAt, joinAt)
	}
	stored, err := e.st.Bot(ctx, s.ID)
	if err != nil || !stored.JoinAt.Equal(joinAt) {
		t.Fatalf("stored bot: %+v %v, want join_at %s", stored, err, joinAt)
	}
	if len(ahead.dues) != 2 || !ahead.dues[0].Equal(now.Add(onbehalf.AdHocJoinLead)) || !ahead.dues[1].Equal(joinAt) {
		t.Fatalf("refreshed ahead of %v, want %s then %s", ahead.dues, now.Add(onbehalf.AdHocJoinLead), joinAt)
	}
	// The platform got join_at as given.
	if got := e.fake.Created(); len(got) != 2 || !strings.Contains(string(got[1].Raw), `"join_at"`) {
		t.Fatalf("platform got %d bots, the second without join_at", len(got))
	}
}

// TestLaunchRefusals: a join time the platform cannot take, and a grant
// Zoom refuses when refreshed ahead, stop the launch before the platform
// is called; Zoom failing otherwise does not.
func TestLaunchRefusals(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "user:read:user user:read:token")
	ahead := &aheadCalls{}
	e.svc.Ahead = ahead
	req := bots.LaunchRequest{ConnectionID: e.conn.ID, MeetingURL: "https://zoom.us/j/85012345678", Options: json.RawMessage(`{"join_at": "tomorrow at 9"}`)}
	if _, err := e.svc.Launch(ctx, req); onbehalf.ErrorCode(err) != onbehalf.EINVALID || onbehalf.ErrorField(err) != "platform_options" {
		t.Fatalf("bad join_at: %v, want EINVALID on platform_options", err)
	}
	req.Options = nil
	ahead.err = onbehalf.Errorf(onbehalf.EDISCONNECTED, "Zoom refused the refresh token.")
	if _, err := e.svc.Launch(ctx, req); onbehalf.ErrorCode(err) != onbehalf.EDISCONNECTED {
		t.Fatalf("dead grant: %v, want EDISCONNECTED", err)
	}
	if n := len(e.fake.Created()); n != 0 {
		t.Fatalf("platform called %d times for refused launches", n)
	}
	ahead.err = onbehalf.Errorf(onbehalf.EUPSTREAM, "Zoom answered HTTP 503.")
	if _, err := e.svc.Launch(ctx, req); err != nil {
		t.Fatalf("Zoom failing: %v, want the bot created (its request refreshes inline)", err)
	}
}
