package keepalive_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/keepalive"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
	"github.com/onbehalf/onbehalf/internal/tokens"
	"github.com/onbehalf/onbehalf/internal/zoom"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// watchEnv is a store, a fake Zoom and the token managers of a number of
// instances sharing them, all on one fake clock.
type watchEnv struct {
	clk  *clock
	fake *zoomdemo.Server
	st   *bolt.Store
	zc   *zoom.Client
	mgrs []*tokens.Manager
	bots int
}

func newWatchEnv(t *testing.T, instances int) *watchEnv {
	t.Helper()
	e := &watchEnv{clk: newClock(time.Now().UTC().Truncate(time.Second)), fake: zoomdemo.New("cid", "csecret")}
	t.Cleanup(e.fake.Close)
	e.fake.SetClock(e.clk.Now)
	st, err := bolt.Open(filepath.Join(t.TempDir(), "w.db"), bolt.Options{Now: e.clk.Now, ReserveBytes: bolt.NoReserve})
	if err != nil {
		t.Fatal(err)
	}
	e.st = st
	t.Cleanup(func() { st.Close() })
	e.zc = zoom.New(zoom.Options{ClientID: "cid", ClientSecret: "csecret", OAuthURL: e.fake.URL, APIURL: e.fake.APIURL(), Timeout: 5 * time.Second})
	for i := range instances {
		m := &tokens.Manager{Store: st, Zoom: clockedZoom{e.zc, e.clk.Now}, Now: e.clk.Now, Owner: fmt.Sprintf("instance-%d", i), Logger: discard()}
		t.Cleanup(m.Close)
		e.mgrs = append(e.mgrs, m)
	}
	return e
}

// connect stores a fresh grant of a new Zoom user with the given scopes.
func (e *watchEnv) connect(t *testing.T, user, scope string) *onbehalf.Connection {
	t.Helper()
	e.fake.AddUser(zoomdemo.User{ID: user, Email: user + "@example.com"})
	at, rt := e.fake.IssueGrant(user)
	c, _, err := e.st.Connect(context.Background(), onbehalf.Authorization{User: onbehalf.ZoomUser{ID: user, Email: user + "@example.com"},
		Token: onbehalf.Token{AccessToken: at, RefreshToken: rt, Expiry: e.clk.Now().Add(zoomdemo.DefaultAccessTTL), Scope: scope}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// bot stores a bot of c scheduled to join in joinIn (0: an ad-hoc bot).
func (e *watchEnv) bot(t *testing.T, c *onbehalf.Connection, joinIn time.Duration, kinds ...onbehalf.TokenKind) *onbehalf.Bot {
	t.Helper()
	if len(kinds) == 0 {
		kinds = []onbehalf.TokenKind{onbehalf.KindOBF}
	}
	now := e.clk.Now()
	e.bots++
	b := &onbehalf.Bot{ID: fmt.Sprint("bot_", e.bots), Platform: "recall", PlatformBotID: fmt.Sprint("p", e.bots),
		ConnectionID: c.ID, MeetingID: "85012345678", Kinds: kinds, CreatedAt: now}
	if joinIn > 0 {
		b.JoinAt = now.Add(joinIn)
	}
	if err := e.st.CreateBot(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	return b
}

// watchers returns one watcher per instance.
func (e *watchEnv) watchers() []*keepalive.Watcher {
	var out []*keepalive.Watcher
	for _, m := range e.mgrs {
		out = append(out, &keepalive.Watcher{Store: e.st, Refresher: m, Now: e.clk.Now, Logger: discard()})
	}
	return out
}

// run makes every watcher look once a minute for d of fake time, calling
// each after every minute when not nil.
func (e *watchEnv) run(t *testing.T, ws []*keepalive.Watcher, d time.Duration, each func()) {
	t.Helper()
	for end := e.clk.Now().Add(d); e.clk.Now().Before(end); e.clk.Advance(time.Minute) {
		for _, w := range ws {
			if _, err := w.Check(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if each != nil {
			each()
		}
	}
}

// atRisk returns the connection.at_risk events written.
func (e *watchEnv) atRisk(t *testing.T) []onbehalf.AtRiskEventData {
	t.Helper()
	evs, err := e.st.EventsAfter(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []onbehalf.AtRiskEventData
	for _, ev := range evs {
		if ev.Type != onbehalf.EventConnectionAtRisk {
			continue
		}
		var d onbehalf.AtRiskEventData
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// TestWatcherRefreshesAheadOfScheduledBot: a bot scheduled two days ahead
// costs no refresh for two days; its connection is refreshed once, at most
// AheadLead before it joins, by one of two instances; its token request
// then needs no refresh. Zoom calls counted.
func TestWatcherRefreshesAheadOfScheduledBot(t *testing.T) {
	e := newWatchEnv(t, 2)
	c := e.connect(t, "zu_sched", zoomdemo.Scope)
	b := e.bot(t, c, 48*time.Hour)
	var refreshedAt time.Time
	e.run(t, e.watchers(), 48*time.Hour+10*time.Minute, func() {
		if refreshedAt.IsZero() && e.fake.RefreshCalls() > 0 {
			refreshedAt = e.clk.Now()
		}
	})
	if n := e.fake.RefreshCalls(); n != 1 {
		t.Fatalf("Zoom refresh calls over two days: %d, want 1", n)
	}
	if early := b.JoinAt.Sub(refreshedAt); early < 0 || early > tokens.AheadLead+time.Minute {
		t.Fatalf("refreshed %s before the join, want within %s", early, tokens.AheadLead)
	}
	if got := e.atRisk(t); len(got) != 0 {
		t.Fatalf("at-risk events for a healthy connection: %+v", got)
	}
}

// TestWatcherAtRiskOnce: a disconnected connection with a bot due in three
// hours is reported once the bot is within AT_RISK_WINDOW, once, though
// two instances look every minute; a bot not due within the window is
// not reported.
func TestWatcherAtRiskOnce(t *testing.T) {
	ctx := context.Background()
	e := newWatchEnv(t, 2)
	c := e.connect(t, "zu_dead", zoomdemo.Scope)
	if _, err := e.st.MarkDisconnected(ctx, c.ID, c.Token.RefreshToken, "Zoom refused the refresh token (invalid_grant)."); err != nil {
		t.Fatal(err)
	}
	b := e.bot(t, c, 3*time.Hour)
	later := e.bot(t, c, 30*time.Hour)
	ws := e.watchers()
	e.run(t, ws, time.Hour-time.Minute, nil)
	if got := e.atRisk(t); len(got) != 0 {
		t.Fatalf("reported before the window: %+v", got)
	}
	e.run(t, ws, 2*time.Hour+5*time.Minute, nil)
	got := e.atRisk(t)
	if len(got) != 1 {
		t.Fatalf("at-risk events: %d (%+v), want 1", len(got), got)
	}
	d := got[0]
	if d.BotID != b.ID || d.ConnectionID != c.ID || d.Code != onbehalf.AtRiskDisconnected || !d.DueAt.Equal(b.JoinAt) || d.ZoomUserID != "zu_dead" {
		t.Fatalf("event %+v: want bot %s, connection %s, code disconnected, due %s", d, b.ID, c.ID, b.JoinAt)
	}
	for _, ev := range got {
		if ev.BotID == later.ID {
			t.Fatal("the bot due in 30 hours was reported")
		}
	}
	if n := e.fake.RefreshCalls(); n != 0 {
		t.Fatalf("Zoom refresh calls for a disconnected connection: %d", n)
	}
}

// TestWatcherAtRiskMissingScope: a bot whose kinds need a scope the grant
// lacks is reported at the first look.
func TestWatcherAtRiskMissingScope(t *testing.T) {
	e := newWatchEnv(t, 1)
	c := e.connect(t, "zu_scope", "user:read:user user:read:token")
	b := e.bot(t, c, time.Hour, onbehalf.KindOBF, onbehalf.KindJoin)
	e.run(t, e.watchers(), 2*time.Minute, nil)
	got := e.atRisk(t)
	if len(got) != 1 || got[0].BotID != b.ID || got[0].Code != onbehalf.AtRiskMissingScope {
		t.Fatalf("at-risk events %+v: want one missing_scope for %s", got, b.ID)
	}
}

// TestWatcherAtRiskRefreshFailing: Zoom fails the refresh made ahead of a
// bot: the bot is reported once, and Zoom is asked at most once a minute
// (the cool-down) until the bot is due.
func TestWatcherAtRiskRefreshFailing(t *testing.T) {
	e := newWatchEnv(t, 1)
	c := e.connect(t, "zu_fail", zoomdemo.Scope)
	e.clk.Advance(2 * time.Hour) // the token expired
	b := e.bot(t, c, 40*time.Minute)
	e.fake.FailRefreshes(1000, http.StatusServiceUnavailable, "")
	e.run(t, e.watchers(), 45*time.Minute, nil)
	got := e.atRisk(t)
	if len(got) != 1 || got[0].BotID != b.ID || got[0].Code != onbehalf.AtRiskRefreshFailing {
		t.Fatalf("at-risk events %+v: want one refresh_failing for %s", got, b.ID)
	}
	if n := e.fake.RefreshCalls(); n < 1 || n > int(tokens.AheadLead/time.Minute)+1 {
		t.Fatalf("Zoom refresh calls: %d, want 1 to one a minute for %s", n, tokens.AheadLead)
	}
}

// TestWatcherSkipsBotsOver: a bot that is over before it is due needs no
// refresh and no report.
func TestWatcherSkipsBotsOver(t *testing.T) {
	ctx := context.Background()
	e := newWatchEnv(t, 1)
	c := e.connect(t, "zu_over", "user:read:user")
	b := e.bot(t, c, 20*time.Minute)
	if _, _, err := e.st.ApplyStatus(ctx, onbehalf.StatusReport{Platform: b.Platform, PlatformBotID: b.PlatformBotID, Status: onbehalf.BotDone}); err != nil {
		t.Fatal(err)
	}
	e.run(t, e.watchers(), 30*time.Minute, nil)
	if got := e.atRisk(t); len(got) != 0 {
		t.Fatalf("at-risk events for a bot that is over: %+v", got)
	}
}
