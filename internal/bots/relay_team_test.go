package bots_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// teamRelayEnv is relayEnv whose three people share a Zoom account and
// whose bot was sent by the first with the other two as teammates.
func teamRelayEnv(t *testing.T, consent ...bool) *relayEnv {
	t.Helper()
	e := newRelayEnv(t)
	ctx := context.Background()
	for i, id := range e.conns {
		c, err := e.st.Connection(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		// A grant of the same account (Connect keeps the profile's
		// account), with each teammate's answer.
		_, _, err = e.st.Connect(ctx, onbehalf.Authorization{
			User:  onbehalf.ZoomUser{ID: c.ZoomUserID, Email: c.ZoomUserID + "@example.com", AccountID: "acct_team"},
			Token: onbehalf.Token{AccessToken: "zat", RefreshToken: "zrt2_" + c.ZoomUserID, Expiry: time.Now().Add(time.Hour)},
		})
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			yes := consent[i-1]
			if _, err := e.st.UpdateConnection(ctx, id, onbehalf.ConnectionPatch{TeamConsent: &yes}); err != nil {
				t.Fatal(err)
			}
		}
	}
	b, err := e.st.Bot(ctx, e.bot.ID)
	if err != nil {
		t.Fatal(err)
	}
	b.TeamOf = e.conns[0]
	// Stored again as the launch of a bot with teammates stores it.
	e.bot = e.storeTeamBot(t, b)
	return e
}

// storeTeamBot stores a copy of b under a new ID with TeamOf set.
func (e *relayEnv) storeTeamBot(t *testing.T, b *onbehalf.Bot) *onbehalf.Bot {
	t.Helper()
	nb := &onbehalf.Bot{ID: "bot_team", Platform: b.Platform, PlatformBotID: "recall-team", ConnectionID: b.ConnectionID,
		ConnectionIDs: b.ConnectionIDs, MeetingID: b.MeetingID, MeetingURL: b.MeetingURL, BotName: b.BotName, Kinds: b.Kinds,
		Relay: true, Status: onbehalf.BotInCall, TeamOf: b.TeamOf}
	if err := e.st.CreateBot(context.Background(), nb); err != nil {
		t.Fatal(err)
	}
	return nb
}

// A relay of a bot that borrowed teammates' tokens keeps borrowing as
// such: the new bot names the sender (TeamOf) and its token URL is a
// teammates URL even for one candidate, so that the token server checks
// each teammate's yes at every fetch; a teammate who withdrew is skipped.
func TestRelayOfTeammatesBot(t *testing.T) {
	e := teamRelayEnv(t, false, true) // the second withdrew; the third says yes
	ctx := context.Background()
	if _, err := e.svc.ReceiveStatus(ctx, "recall", []onbehalf.StatusReport{userLeft(e.bot, "evt_team_left")}, ""); err != nil {
		t.Fatal(err)
	}
	old, _ := e.st.Bot(ctx, e.bot.ID)
	if old.RelayedTo == "" {
		t.Fatalf("not relayed: %+v", old.Timeline)
	}
	nb, err := e.st.Bot(ctx, old.RelayedTo)
	if err != nil {
		t.Fatal(err)
	}
	if nb.ConnectionID != e.conns[2] || nb.TeamOf != e.conns[0] {
		t.Fatalf("relayed to %s (team of %q), want the third, team of the sender", nb.ConnectionID, nb.TeamOf)
	}
	created := e.fake.Created()
	for _, raw := range created[len(created)-1].TokenURLs {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if q := u.Query(); q.Get("team") != "1" || q.Get("user_id") != e.conns[2] {
			t.Fatalf("token URL %s is not a teammates URL of the third", raw)
		}
	}
}
