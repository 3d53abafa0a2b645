package tokenserve_test

// TestJoinRate measures what several candidates buy against a fake Zoom
// that enforces Zoom's rule (a bot joins on an OBF token only while the
// token's user is in the meeting, and is removed when that user leaves):
// the share of meetings a bot gets into, and its minutes in them, with one
// candidate and with three, for people who join late, never come, or
// leave early. Run it with -v to see the table:
//
//	go test -run TestJoinRate -v ./internal/tokenserve
//
// The platforms are modelled on what their docs and source say: a bot
// retries every 30 s while Zoom answers "user not in meeting" and gives up
// after 10 minutes (Attendee's default authorized-user timeout); a
// fetching platform (Recall, MeetStream, Meeting BaaS) fetches a token
// for each try, a list platform (Attendee) fetches once and tries the
// tokens of its comma-separated list in turn, wrapping around. Time is
// simulated in 30 s steps; nothing sleeps.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/clocktest"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
	"github.com/onbehalf/onbehalf/internal/tokens"
	"github.com/onbehalf/onbehalf/internal/tokenserve"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
	"github.com/onbehalf/onbehalf/internal/zoom"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// Simulation parameters.
const (
	simStep     = 30 * time.Second
	simMeeting  = 45 * time.Minute // every meeting lasts this long
	simGiveUp   = 10 * time.Minute // a bot gives up after this long refused
	simMeetings = 30               // meetings per scenario
)

// person is an invitee: when they join (never: -1) and leave.
type person struct {
	arrive, leave time.Duration
}

// scenarios draw the three invitees of a meeting; the first is the bot's
// first candidate (the person who sent it).
var scenarios = []struct {
	name string
	draw func(r *rand.Rand) [3]person
}{
	{"first joins late", func(r *rand.Rand) [3]person {
		return [3]person{
			{arrive: mins(r, 5, 30), leave: simMeeting},
			{arrive: mins(r, 0, 5), leave: simMeeting},
			{arrive: mins(r, 0, 5), leave: simMeeting},
		}
	}},
	{"first never comes", func(r *rand.Rand) [3]person {
		c := person{arrive: -1}
		if r.IntN(2) == 0 {
			c = person{arrive: mins(r, 0, 15), leave: simMeeting}
		}
		return [3]person{{arrive: -1}, {arrive: mins(r, 0, 8), leave: simMeeting}, c}
	}},
	{"mixed (late, never, leave early)", func(r *rand.Rand) [3]person {
		var ps [3]person
		for i := range ps {
			if r.IntN(4) == 0 {
				ps[i] = person{arrive: -1}
				continue
			}
			a := mins(r, 0, 20)
			ps[i] = person{arrive: a, leave: simMeeting}
			if r.IntN(10) < 3 {
				ps[i].leave = a + 5*time.Minute + time.Duration(r.Int64N(int64(simMeeting-a-5*time.Minute)))
			}
		}
		return ps
	}},
}

func mins(r *rand.Rand, lo, hi int) time.Duration {
	return time.Duration(lo)*time.Minute + time.Duration(r.Int64N(int64(hi-lo)*int64(time.Minute)))
}

// simResult sums a variant's meetings.
type simResult struct {
	joined  int
	minutes float64
	fetches int
}

func TestJoinRate(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	fake := zoomdemo.New("cid", "csecret")
	defer fake.Close()
	fake.TrackMeetings()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "sim.db"), bolt.Options{ReserveBytes: bolt.NoReserve})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clock := clocktest.New(time.Now().UTC()) // the simulation's clock
	base := clock.Now()
	zc := zoom.New(zoom.Options{ClientID: "cid", ClientSecret: "csecret", OAuthURL: fake.URL, APIURL: fake.APIURL(), Timeout: 10 * time.Second})
	mgr := &tokens.Manager{Store: st, Zoom: zc, Now: clock.Now}
	defer mgr.Close()
	ctx := context.Background()

	type variant struct {
		name     string
		cands    int
		presence bool
	}
	variants := []variant{{"1 candidate", 1, false}, {"3 candidates", 3, false}, {"3 + presence", 3, true}}
	platforms := []struct {
		name string
		p    onbehalf.Platform
		list bool
	}{{"fetching (Recall-like)", jsonPlatform{}, false}, {"list (Attendee)", listPlatform{}, true}}

	var report strings.Builder
	fmt.Fprintf(&report, "\n%-34s %-24s %-14s %8s %12s %8s\n", "scenario", "platform", "candidates", "joined", "min in call", "fetches")
	results := map[string]simResult{}
	meetingN := 0
	for si, sc := range scenarios {
		for _, pl := range platforms {
			for _, v := range variants {
				r := rand.New(rand.NewPCG(uint64(si)+1, 7)) // the same people for every variant
				var res simResult
				for range simMeetings {
					meetingN++
					meetingID := fmt.Sprintf("850%08d", meetingN)
					people := sc.draw(r)
					var ids, users [3]string
					for i := range people {
						u := fmt.Sprintf("zu_%d_%d", meetingN, i)
						fake.AddUser(zoomdemo.User{ID: u, AccountID: "acct_sim", Email: u + "@example.com"})
						scope := zoomdemo.Scope
						if v.presence {
							scope += " " + onbehalf.PresenceScope
						}
						fake.SetScopes(u, scope)
						at, rt := fake.IssueGrant(u)
						c, _, err := st.Connect(ctx, onbehalf.Authorization{User: onbehalf.ZoomUser{ID: u, Email: u + "@example.com"},
							Token: onbehalf.Token{AccessToken: at, RefreshToken: rt, Expiry: base.Add(3 * time.Hour), Scope: scope}})
						if err != nil {
							t.Fatal(err)
						}
						ids[i], users[i] = c.ID, u
					}
					o := tokenserve.Options{Signer: signer, Minter: mgr, Now: clock.Now}
					if v.presence {
						o.Presence = mgr
					}
					srv := tokenserve.New(o)
					url := signer.URL("", route.Path, tokenurl.Params{Platform: "json", Kinds: []onbehalf.TokenKind{onbehalf.KindOBF},
						ConnID: ids[0], MeetingID: meetingID, BotID: "bot_" + meetingID, Candidates: ids[:v.cands]})
					m := simulate(t, fake, srv, pl.p, pl.list, url, meetingID, people, users, clock, base)
					res.fetches += m.fetches
					if m.joined {
						res.joined++
						res.minutes += m.minutes
					}
				}
				results[sc.name+"|"+pl.name+"|"+v.name] = res
				fmt.Fprintf(&report, "%-34s %-24s %-14s %7.0f%% %12.1f %8d\n", sc.name, pl.name, v.name,
					100*float64(res.joined)/simMeetings, res.minutes/simMeetings, res.fetches)
			}
		}
	}
	t.Log(report.String())
	// Several candidates never do worse, and do better when the first
	// never comes (the second always does in that scenario).
	for _, sc := range scenarios {
		for _, pl := range platforms {
			one, three := results[sc.name+"|"+pl.name+"|1 candidate"], results[sc.name+"|"+pl.name+"|3 candidates"]
			if three.joined < one.joined {
				t.Errorf("%s, %s: 3 candidates joined %d meetings, 1 candidate %d", sc.name, pl.name, three.joined, one.joined)
			}
		}
	}
	if r := results["first never comes|fetching (Recall-like)|3 candidates"]; r.joined != simMeetings {
		t.Errorf("first never comes: 3 candidates joined %d of %d meetings (the second always comes within the bot's patience)", r.joined, simMeetings)
	}
}

// meetingResult is one bot's fate.
type meetingResult struct {
	joined  bool
	minutes float64
	fetches int
}

// simulate runs one meeting in simStep steps: people come and go, the bot
// fetches (or tries its list) and Zoom admits it or not.
func simulate(t *testing.T, fake *zoomdemo.Server, srv *tokenserve.Server, p onbehalf.Platform, list bool, url, meetingID string,
	people [3]person, users [3]string, clock *clocktest.Clock, base time.Time) meetingResult {
	t.Helper()
	var res meetingResult
	var tokens []string // a list platform's tokens, fetched once
	var refusedSince time.Duration = -1
	retries := 0
	inWith := "" // the user whose token let the bot in
	for el := time.Duration(0); el < simMeeting; el += simStep {
		clock.Set(base.Add(el))
		for i, pp := range people {
			if pp.arrive >= 0 && el >= pp.arrive && el < pp.leave {
				fake.JoinMeeting(meetingID, users[i])
			} else {
				fake.LeaveMeeting(meetingID, users[i])
			}
		}
		if inWith != "" {
			if !fake.InMeeting(meetingID, inWith) {
				break // Zoom removes the bot when its token's user leaves
			}
			res.minutes += simStep.Minutes()
			continue
		}
		if refusedSince >= 0 && el-refusedSince > simGiveUp {
			break // the platform gave up
		}
		var tok string
		if list {
			if tokens == nil {
				tokens = strings.Split(fetchToken(t, srv, p, url), ",")
				res.fetches++
			}
			tok = tokens[retries%len(tokens)]
		} else {
			tok = fetchToken(t, srv, p, url)
			res.fetches++
		}
		who, err := fake.AdmitBot(meetingID, tok)
		if err == nil {
			inWith, res.joined = who, true
			res.minutes += simStep.Minutes()
			continue
		}
		retries++
		if refusedSince < 0 {
			refusedSince = el
		}
	}
	return res
}

// fetchToken fetches the URL's OBF token (or comma-separated list).
func fetchToken(t *testing.T, srv *tokenserve.Server, p onbehalf.Platform, url string) string {
	t.Helper()
	code, tok := fetchOBF(t, srv, p, url)
	if code != http.StatusOK || tok == "" {
		t.Fatalf("token fetch: %d", code)
	}
	return tok
}
