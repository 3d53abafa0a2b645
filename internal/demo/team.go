package demo

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// The demo's teammates: three fake people of the demo user's Zoom account,
// connected at start and saying yes to their teammates' bots, so that the
// launch form offers them as further candidates. Ada never joins a
// meeting; Ben and Cleo join every meeting a bot of several candidates
// waits in, a few moments after it starts waiting. A bot sent for you, Ada
// and Ben while you stay away is refused with your token, then Ada's, and
// gets in with Ben's: Zoom's rule, which the fake Zoom applies (AdmitBot),
// and the token server's rounds (each fetch moves on to the next
// candidate). Ben leaves when the meeting page's "Ben leaves" is pressed;
// Cleo stays: a bot sent with relay for you, Ada, Ben and Cleo is removed
// by Zoom when Ben leaves, and the server sends a bot for Cleo, which gets
// in with her token.
var teammates = []zoomdemo.User{
	{ID: "zu_demo_ada", AccountID: demoAccount, Email: "ada@example.com", FirstName: "Ada", LastName: "Never", DisplayName: "Ada (never joins)"},
	{ID: "zu_demo_ben", AccountID: demoAccount, Email: "ben@example.com", FirstName: "Ben", LastName: "Joins", DisplayName: "Ben (joins)"},
	{ID: "zu_demo_cleo", AccountID: demoAccount, Email: "cleo@example.com", FirstName: "Cleo", LastName: "Stays", DisplayName: "Cleo (stays)"},
}

// demoAccount is the fake Zoom account of the demo user and teammates.
const demoAccount = "acct_demo"

// joiners are the teammates who join the meetings: Ben, then Cleo.
var joiners = []string{teammates[1].ID, teammates[2].ID}

// seedTeammates connects the teammates through the server's own routes
// (the OAuth flow, auto-approved by the fake Zoom, then their "yes" on
// their page), as two people would in their browsers.
func (d *Demo) seedTeammates(ctx context.Context) error {
	for _, u := range teammates {
		d.zoom.AddUser(u)
		if err := d.connectTeammate(ctx, u.ID); err != nil {
			return fmt.Errorf("demo: connecting teammate %s: %w", u.DisplayName, err)
		}
	}
	return nil
}

// connectTeammate walks the OAuth flow for a fake user in a fresh cookie
// jar, then says yes on the person page.
func (d *Demo) connectTeammate(ctx context.Context, user string) error {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := get(ctx, c, d.URL+"/zoom/oauth")
	if err != nil {
		return err
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		return fmt.Errorf("starting OAuth: %d", resp.StatusCode)
	}
	// The fake Zoom behind the demo's consent page approves at once for
	// the user named.
	inner, _ := url.Parse(d.zoom.URL)
	loc.Scheme, loc.Host = inner.Scheme, inner.Host
	q := loc.Query()
	q.Set("fake_user", user)
	loc.RawQuery = q.Encode()
	for u := loc.String(); ; {
		resp, err := get(ctx, c, u)
		if err != nil {
			return err
		}
		if resp.StatusCode/100 != 3 {
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("OAuth flow ended with %d at %s", resp.StatusCode, u)
			}
			break
		}
		next, err := resp.Location()
		if err != nil {
			return err
		}
		u = next.String()
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, d.URL+"/teammates", strings.NewReader("team_consent=1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("saying yes: %d", resp.StatusCode)
	}
	return nil
}

func get(ctx context.Context, c *http.Client, u string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return resp, nil
}

// severalCandidates reports whether a bot's OBF token URL names several
// connections (the fake Zoom's rule then decides who lets it in).
func severalCandidates(b platformdemo.FakeBot) bool {
	u, err := url.Parse(b.TokenURLs[onbehalf.KindOBF])
	return err == nil && u.Query().Has(tokenurl.ParamAlso)
}

// driveCandidates plays a bot of several candidates: it fetches a token,
// tries to join with it under Zoom's rule (the token's user must be in the
// meeting), and while refused tries again every pace with a fresh fetch
// (the token server moves to the next candidate) or, for a platform that
// got a list (Attendee), with the next token of the list. In, it stays
// while the user whose token let it in stays.
func (d *driver) driveCandidates(ctx context.Context, f *platformFake, b platformdemo.FakeBot, id string, mb *meetingBot,
	send func(onbehalf.BotStatus, string, botState) bool) {
	d.zoom.TrackMeetings()
	var list []string
	tries := 0
	start := time.Now()
	for {
		d.syncYou(id)
		if len(list) < 2 { // a list (Attendee) is fetched once, a token per try otherwise
			if list = tokenList(f.Fake.Fetch(ctx, b.ID, onbehalf.KindOBF, platformdemo.Tamper{})); list == nil {
				send(onbehalf.BotFailed, f.Refused, stateFailed)
				return
			}
		}
		who, err := d.zoom.AdmitBot(id, list[tries%len(list)])
		if err == nil {
			d.stayWith(ctx, id, who, send, f)
			return
		}
		var refusal *zoomdemo.JoinRefusal
		if !errors.As(err, &refusal) || refusal.Code != zoomdemo.SDKUserNotInMeeting {
			send(onbehalf.BotFailed, f.Refused, stateFailed)
			return
		}
		tries++
		if tries == 1 {
			d.meetings.setState(mb, stateWaiting)
		}
		if tries == 2 && !d.joined(id) { // Ben and Cleo come in, a few moments after the first bot started waiting
			for _, u := range joiners {
				d.zoom.JoinMeeting(id, u)
			}
		}
		if time.Since(start) > waitLimit {
			send(onbehalf.BotFailed, f.Absent, stateFailed)
			return
		}
		if !sleep(ctx, d.pace) {
			return
		}
	}
}

// tokenList is the OBF tokens a fetch brought: Attendee's reply may list
// several in onbehalf_token, comma-separated, which its bot tries in turn
// (the fake keeps the first in Tokens, so the list is read from the
// reply); the other platforms bring one.
func tokenList(got platformdemo.Fetched) []string {
	var m map[string]any
	if json.Unmarshal([]byte(got.Body), &m) == nil {
		if s, ok := m["onbehalf_token"].(string); ok && strings.TrimSpace(s) != "" {
			return strings.Split(s, ",")
		}
	}
	if t := got.Tokens[onbehalf.KindOBF]; t != "" {
		return []string{t}
	}
	return nil
}

// stayWith keeps a bot in the meeting while the user whose token let it in
// stays: you (the meeting page's Join and Leave) or a teammate. When that
// user leaves, Zoom removes the bot, and the platform says so in its own
// words where it tells that apart (UserLeft: the server then relays a bot
// sent with relay), else as a plain end.
func (d *driver) stayWith(ctx context.Context, id, who string, send func(onbehalf.BotStatus, string, botState) bool, f *platformFake) {
	if !send(onbehalf.BotInCall, "", stateIn) {
		return
	}
	for {
		d.syncYou(id)
		if !d.zoom.InMeeting(id, who) {
			send(onbehalf.BotDone, cmp.Or(f.UserLeft, f.Left), stateLeft)
			return
		}
		if !sleep(ctx, d.pace) {
			return
		}
	}
}

// syncYou tells the fake Zoom whether you are in meeting id, as the
// meeting page says.
func (d *driver) syncYou(id string) {
	in, _ := d.meetings.snapshot(id)
	if in {
		d.zoom.JoinMeeting(id, zoomdemo.DefaultUserID)
	} else {
		d.zoom.LeaveMeeting(id, zoomdemo.DefaultUserID)
	}
}

// joined reports whether the joiners came to meeting id already, and
// notes that they did: they come once per meeting, so that a teammate
// who left (the meeting page's button) stays away.
func (d *driver) joined(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.came == nil {
		d.came = map[string]bool{}
	}
	was := d.came[id]
	d.came[id] = true
	return was
}
