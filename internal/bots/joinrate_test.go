package bots_test

// TestRelayJoinRate measures what several candidates and relay buy, with
// the launch service and the token server both real (bots.Service,
// tokenserve.Server, a bbolt store, the token manager) against the fake
// Zoom, which enforces Zoom's rule (a bot joins on an OBF token only while
// the token's user is in the meeting; it is out when that user leaves),
// and Recall.ai's adapter and fake: the share of meetings a bot gets
// into, and the minutes a bot is in them, for people who join late, leave
// early or never come, with one candidate, three, and three with relay.
// Run it with -v to see the table:
//
//	go test -run TestRelayJoinRate -v ./internal/bots
//
// The bots are modelled on a fetching platform: a bot fetches a token for
// each try, tries every 30 s while Zoom answers "user not in meeting",
// and gives up after 10 minutes. When the user whose token let it in
// leaves, Zoom removes it and the platform reports so (Recall.ai's
// call_ended webhook with an OBF user-left sub code, parsed by the real
// adapter); the server relays a bot sent with relay, and the new bot
// starts fetching at the next step. Time is simulated in 30 s steps on a
// fake clock; nothing sleeps.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/bots"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/recall"
	"github.com/onbehalf/onbehalf/internal/platform/recall/recalldemo"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
	"github.com/onbehalf/onbehalf/internal/tokens"
	"github.com/onbehalf/onbehalf/internal/tokenserve"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
	"github.com/onbehalf/onbehalf/internal/zoom"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// Simulation parameters.
const (
	relayStep     = 30 * time.Second
	relayMeeting  = 45 * time.Minute
	relayGiveUp   = 10 * time.Minute
	relayMeetings = 20 // meetings per scenario and variant
)

// invitee is when a person comes (never: -1) and goes.
type invitee struct{ arrive, leave time.Duration }

// relayScenarios draw a meeting's three invitees; the first sent the bot.
var relayScenarios = []struct {
	name string
	draw func(r *rand.Rand) [3]invitee
}{
	{"first joins late", func(r *rand.Rand) [3]invitee {
		return [3]invitee{{between(r, 5, 30), relayMeeting}, {between(r, 0, 5), relayMeeting}, {between(r, 0, 5), relayMeeting}}
	}},
	{"first never comes", func(r *rand.Rand) [3]invitee {
		return [3]invitee{{-1, 0}, {between(r, 0, 8), relayMeeting}, {between(r, 0, 15), relayMeeting}}
	}},
	{"first leaves early, others stay", func(r *rand.Rand) [3]invitee {
		return [3]invitee{{0, between(r, 10, 25)}, {between(r, 0, 5), relayMeeting}, {between(r, 0, 5), relayMeeting}}
	}},
	{"mixed (late, never, leave early)", func(r *rand.Rand) [3]invitee {
		var ps [3]invitee
		for i := range ps {
			if r.IntN(4) == 0 {
				ps[i] = invitee{-1, 0}
				continue
			}
			a := between(r, 0, 20)
			ps[i] = invitee{a, relayMeeting}
			if r.IntN(10) < 4 {
				ps[i].leave = a + 5*time.Minute + time.Duration(r.Int64N(int64(relayMeeting-a-5*time.Minute)))
			}
		}
		return ps
	}},
}

func between(r *rand.Rand, lo, hi int) time.Duration {
	return time.Duration(lo)*time.Minute + time.Duration(r.Int64N(int64(hi-lo)*int64(time.Minute)))
}

// simClock is the simulation's clock.
type simClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *simClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *simClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// syncRecorder puts each token fetch on its bot's timeline at once (the
// service batches them every fraction of a second; the simulation's
// steps are 30 s apart, so nothing is lost by writing at once).
type syncRecorder struct{ st *bolt.Store }

func (r syncRecorder) Record(f onbehalf.TokenFetch) {
	_ = r.st.RecordTokenFetches(context.Background(), []onbehalf.TokenFetch{f})
}

// relaySim is the wiring of one run.
type relaySim struct {
	t     *testing.T
	zoom  *zoomdemo.Server
	st    *bolt.Store
	svc   *bots.Service
	srv   *tokenserve.Server
	p     onbehalf.Platform
	fake  *recalldemo.Fake
	clock *simClock
	base  time.Time
	users int
}

func newRelaySim(t *testing.T) *relaySim {
	t.Helper()
	s := &relaySim{t: t, clock: &simClock{t: time.Now().UTC()}}
	s.base = s.clock.now()
	s.zoom = zoomdemo.New("cid", "csecret")
	t.Cleanup(s.zoom.Close)
	s.zoom.TrackMeetings()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "sim.db"), bolt.Options{ReserveBytes: bolt.NoReserve})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s.st = st
	s.fake = recalldemo.New(recalldemo.Options{APIKey: "rkey"})
	t.Cleanup(s.fake.Close)
	if s.p, err = recall.New(recall.Config{APIKey: "rkey", BaseURL: s.fake.URL(), Timeout: 5 * time.Second}, platform.Deps{HTTP: http.DefaultClient, Now: s.clock.now}); err != nil {
		t.Fatal(err)
	}
	zc := zoom.New(zoom.Options{ClientID: "cid", ClientSecret: "csecret", OAuthURL: s.zoom.URL, APIURL: s.zoom.APIURL(), Timeout: 10 * time.Second})
	mgr := &tokens.Manager{Store: st, Zoom: zc, Now: s.clock.now}
	t.Cleanup(mgr.Close)
	signer := &tokenurl.Signer{Key: tokenurl.NewKey(), TTL: 24 * time.Hour, Now: s.clock.now}
	quiet := slog.New(slog.DiscardHandler)
	s.svc = &bots.Service{Store: st, Platforms: []onbehalf.Platform{s.p}, BaseURL: "https://onbehalf.example", Signer: signer, Now: s.clock.now, Logger: quiet}
	s.srv = tokenserve.New(tokenserve.Options{Signer: signer, Minter: mgr, Bots: st, Recorder: syncRecorder{st}, Teammates: s.svc, Now: s.clock.now, Logger: quiet})
	return s
}

// connect connects a new fake Zoom user.
func (s *relaySim) connect() (connID, userID string) {
	s.t.Helper()
	s.users++
	u := fmt.Sprintf("zu_sim_%d", s.users)
	s.zoom.AddUser(zoomdemo.User{ID: u, AccountID: "acct_sim", Email: u + "@example.com"})
	at, rt := s.zoom.IssueGrant(u)
	c, _, err := s.st.Connect(context.Background(), onbehalf.Authorization{User: onbehalf.ZoomUser{ID: u, Email: u + "@example.com"},
		Token: onbehalf.Token{AccessToken: at, RefreshToken: rt, Expiry: s.base.Add(3 * time.Hour), Scope: zoomdemo.Scope}})
	if err != nil {
		s.t.Fatal(err)
	}
	return c.ID, u
}

// fetch is a fetch of the bot's OBF token URL, as Recall.ai's bot makes
// it: the token, or "" when refused.
func (s *relaySim) fetch(tokenURL string) string {
	s.t.Helper()
	u, err := url.Parse(tokenURL)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, rt := range s.p.TokenRoutes() {
		if rt.Path == u.Path {
			w := httptest.NewRecorder()
			s.srv.Serve(w, httptest.NewRequest(http.MethodGet, tokenURL, nil), s.p, rt, "203.0.113.7")
			if w.Code != http.StatusOK {
				return ""
			}
			return w.Body.String()
		}
	}
	s.t.Fatalf("no Recall.ai token route for %s", u.Path)
	return ""
}

// report sends Recall.ai's status webhook for a bot, parsed by the real
// adapter, to the service (which relays).
func (s *relaySim) report(platformBotID, code, subCode string) {
	s.t.Helper()
	body, _ := json.Marshal(map[string]any{"event": "bot." + code, "data": map[string]any{
		"data": map[string]any{"code": code, "sub_code": subCode, "updated_at": s.clock.now().Format(time.RFC3339Nano)},
		"bot":  map[string]any{"id": platformBotID}}})
	reps, err := s.p.(onbehalf.StatusReceiver).ParseStatusWebhook(httptest.NewRequest(http.MethodPost, "/webhooks/recall", nil), body)
	if err != nil || len(reps) != 1 {
		s.t.Fatalf("parsing %s: %v %v", body, reps, err)
	}
	if _, err := s.svc.ReceiveStatus(context.Background(), "recall", reps, ""); err != nil {
		s.t.Fatalf("status %s: %v", body, err)
	}
}

// tokenURL returns the OBF token URL Recall.ai's fake got for a bot.
func (s *relaySim) tokenURL(b *onbehalf.Bot) string {
	for _, fb := range s.fake.Bots() {
		if fb.ID == b.PlatformBotID {
			return fb.TokenURLs[onbehalf.KindOBF]
		}
	}
	s.t.Fatalf("the fake has no bot %s", b.PlatformBotID)
	return ""
}

// simBot is one bot of a meeting as the platform runs it.
type simBot struct {
	b            *onbehalf.Bot
	url          string
	inWith       string // the user whose token let it in
	refusedSince time.Duration
}

// meetingOutcome is one meeting's result.
type meetingOutcome struct {
	joined        bool
	minutes       float64
	fetches, bots int
}

// run plays one meeting: people come and go, the bots fetch and Zoom
// admits them or not; removed bots are reported, relays followed.
func (s *relaySim) run(meetingID string, people [3]invitee, cands int, relay bool) meetingOutcome {
	s.t.Helper()
	var conns, users [3]string
	for i := range conns {
		conns[i], users[i] = s.connect()
	}
	s.clock.set(s.base)
	req := bots.LaunchRequest{Platform: "recall", ConnectionID: conns[0], MeetingURL: "https://zoom.us/j/" + meetingID, Relay: relay}
	if cands > 1 {
		req.ConnectionIDs = conns[:cands]
	}
	b, err := s.svc.Launch(context.Background(), req)
	if err != nil {
		s.t.Fatal(err)
	}
	out := meetingOutcome{bots: 1}
	cur := &simBot{b: b, url: s.tokenURL(b), refusedSince: -1}
	for el := time.Duration(0); el < relayMeeting && cur != nil; el += relayStep {
		s.clock.set(s.base.Add(el))
		for i, p := range people {
			if p.arrive >= 0 && el >= p.arrive && el < p.leave {
				s.zoom.JoinMeeting(meetingID, users[i])
			} else {
				s.zoom.LeaveMeeting(meetingID, users[i])
			}
		}
		switch {
		case cur.inWith != "" && s.zoom.InMeeting(meetingID, cur.inWith):
			out.minutes += relayStep.Minutes()
		case cur.inWith != "": // Zoom removed it: its user left
			s.report(cur.b.PlatformBotID, "call_ended", "zoom_obf_user_left")
			cur = s.next(cur.b, &out)
		case cur.refusedSince >= 0 && el-cur.refusedSince > relayGiveUp:
			s.report(cur.b.PlatformBotID, "fatal", "zoom_obf_user_not_in_meeting")
			cur = nil
		default:
			out.fetches++
			tok := s.fetch(cur.url)
			who, err := s.zoom.AdmitBot(meetingID, tok)
			if err == nil {
				cur.inWith, out.joined = who, true
				s.report(cur.b.PlatformBotID, "in_call_recording", "")
				out.minutes += relayStep.Minutes()
			} else if cur.refusedSince < 0 {
				cur.refusedSince = el
			}
		}
	}
	for _, u := range users {
		s.zoom.LeaveMeeting(meetingID, u)
	}
	return out
}

// next returns the bot b was relayed to, if any.
func (s *relaySim) next(b *onbehalf.Bot, out *meetingOutcome) *simBot {
	s.t.Helper()
	old, err := s.st.Bot(context.Background(), b.ID)
	if err != nil {
		s.t.Fatal(err)
	}
	if old.RelayedTo == "" {
		return nil
	}
	nb, err := s.st.Bot(context.Background(), old.RelayedTo)
	if err != nil {
		s.t.Fatal(err)
	}
	out.bots++
	return &simBot{b: nb, url: s.tokenURL(nb), refusedSince: -1}
}

func TestRelayJoinRate(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	s := newRelaySim(t)
	variants := []struct {
		name  string
		cands int
		relay bool
	}{{"1 candidate", 1, false}, {"3 candidates", 3, false}, {"3 + relay", 3, true}}
	var report strings.Builder
	fmt.Fprintf(&report, "\n%-34s %-14s %7s %12s %8s %6s\n", "scenario", "candidates", "joined", "min in call", "fetches", "bots")
	results := map[string]meetingOutcome{}
	n := 0
	for si, sc := range relayScenarios {
		for _, v := range variants {
			r := rand.New(rand.NewPCG(uint64(si)+1, 11)) // the same people for every variant
			var sum meetingOutcome
			joined := 0
			for range relayMeetings {
				n++
				m := s.run(fmt.Sprintf("851%08d", n), sc.draw(r), v.cands, v.relay)
				if m.joined {
					joined++
				}
				sum.minutes += m.minutes
				sum.fetches += m.fetches
				sum.bots += m.bots
			}
			sum.joined = joined == relayMeetings
			results[sc.name+"|"+v.name] = sum
			fmt.Fprintf(&report, "%-34s %-14s %6.0f%% %12.1f %8d %6d\n", sc.name, v.name,
				100*float64(joined)/relayMeetings, sum.minutes/relayMeetings, sum.fetches, sum.bots)
		}
	}
	t.Log(report.String())
	for _, sc := range relayScenarios {
		three, relayed := results[sc.name+"|3 candidates"], results[sc.name+"|3 + relay"]
		if relayed.minutes < three.minutes {
			t.Errorf("%s: relay kept bots in for %.0f min in all, without it %.0f", sc.name, relayed.minutes, three.minutes)
		}
	}
	// When the first leaves early and the others stay, the relayed bot
	// stays to the end: more minutes than without relay in every meeting.
	sc := "first leaves early, others stay"
	if three, relayed := results[sc+"|3 candidates"], results[sc+"|3 + relay"]; relayed.minutes <= three.minutes || relayed.bots <= three.bots {
		t.Errorf("%s: relay %.0f min with %d bots, without %.0f min with %d bots", sc, relayed.minutes, relayed.bots, three.minutes, three.bots)
	}
}
