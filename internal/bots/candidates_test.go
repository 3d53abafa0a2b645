package bots_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/bots"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// addConn connects another Zoom user of an account.
func (e *env) addConn(t *testing.T, zu, account string) *onbehalf.Connection {
	t.Helper()
	c, _, err := e.st.Connect(context.Background(), onbehalf.Authorization{
		User:  onbehalf.ZoomUser{ID: zu, AccountID: account},
		Token: onbehalf.Token{AccessToken: "zat_" + zu, RefreshToken: "zrt_" + zu, Expiry: time.Now().Add(time.Hour)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLaunchTeammates: a bot sent with teammates names only teammates of
// the sender's account who said yes; the bot keeps its candidates and its
// token URL signs them with team=1.
func TestLaunchTeammates(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	me := e.addConn(t, "zu_me", "acct_a")
	mate := e.addConn(t, "zu_mate", "acct_a")
	other := e.addConn(t, "zu_other", "acct_b")
	yes := true
	for _, c := range []*onbehalf.Connection{mate, other} {
		if _, err := e.svc.SetTeamConsent(ctx, c.ID, true); err != nil {
			t.Fatal(err)
		}
	}
	req := func(ids ...string) bots.LaunchRequest {
		return bots.LaunchRequest{ConnectionIDs: ids, MeetingURL: "https://zoom.us/j/85012345678", Teammates: true}
	}
	if _, err := e.svc.Launch(ctx, req(me.ID, other.ID)); onbehalf.ErrorCode(err) != onbehalf.EFORBIDDEN || onbehalf.ErrorField(err) != "connection_ids[1]" {
		t.Fatalf("another account's person: %v", err)
	}
	mates, err := e.svc.Teammates(ctx, me)
	if err != nil || len(mates) != 1 || mates[0].ID != mate.ID {
		t.Fatalf("teammates %v %v", mates, err)
	}
	b, err := e.svc.Launch(ctx, req(me.ID, mate.ID))
	if err != nil || len(b.ConnectionIDs) != 2 || b.ConnectionID != me.ID {
		t.Fatalf("launch %+v %v", b, err)
	}
	created := e.fake.Created()
	u, _ := url.Parse(created[len(created)-1].TokenURLs[onbehalf.KindOBF])
	if q := u.Query(); q.Get("user_id") != me.ID || q.Get("also") != mate.ID || q.Get("team") != "1" {
		t.Fatalf("token URL %s", u)
	}
	if err := e.svc.CheckTeammate(ctx, me.ID, mate.ID); err != nil {
		t.Fatal(err)
	}
	yes = false
	if _, err := e.st.UpdateConnection(ctx, mate.ID, onbehalf.ConnectionPatch{TeamConsent: &yes}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.CheckTeammate(ctx, me.ID, mate.ID); onbehalf.ErrorCode(err) != onbehalf.EFORBIDDEN {
		t.Fatalf("withdrawn: %v", err)
	}
	if _, err := e.svc.Launch(ctx, req(me.ID, mate.ID)); onbehalf.ErrorCode(err) != onbehalf.EFORBIDDEN {
		t.Fatalf("launch after withdrawal: %v", err)
	}
}
