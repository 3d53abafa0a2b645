package tokens_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/clocktest"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
	"github.com/onbehalf/onbehalf/internal/tokens"
	"github.com/onbehalf/onbehalf/internal/zoom"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// TestPresence: Zoom's presence is asked only of a grant that holds the
// presence scope, read through the real client from the fake Zoom, and
// kept for PresenceTTL.
func TestPresence(t *testing.T) {
	fake := zoomdemo.New("cid", "csecret")
	defer fake.Close()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "p.db"), bolt.Options{ReserveBytes: bolt.NoReserve})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clock := clocktest.New(time.Now())
	zc := zoom.New(zoom.Options{ClientID: "cid", ClientSecret: "csecret", OAuthURL: fake.URL, APIURL: fake.APIURL(), Timeout: 5 * time.Second})
	m := &tokens.Manager{Store: st, Zoom: zc, Now: clock.Now}
	defer m.Close()
	ctx := context.Background()
	connect := func(user, scope string) string {
		fake.AddUser(zoomdemo.User{ID: user, AccountID: "acct_1"})
		fake.SetScopes(user, scope)
		at, rt := fake.IssueGrant(user)
		c, _, err := st.Connect(ctx, onbehalf.Authorization{User: onbehalf.ZoomUser{ID: user}, Token: onbehalf.Token{AccessToken: at, RefreshToken: rt, Expiry: clock.Now().Add(time.Hour), Scope: scope}})
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	with := connect("zu_with", zoomdemo.Scope+" "+onbehalf.PresenceScope)
	without := connect("zu_without", zoomdemo.Scope)

	if p := m.Presence(ctx, with); !p.Known || p.InMeeting || p.Status != "Available" {
		t.Fatalf("before the meeting: %+v", p)
	}
	fake.JoinMeeting("85012345678", "zu_with")
	fake.JoinMeeting("85012345678", "zu_without")
	if p := m.Presence(ctx, with); p.InMeeting {
		t.Fatalf("cached answer expected, got %+v", p)
	}
	clock.Advance(tokens.PresenceTTL)
	if in, known := m.InMeeting(ctx, with); !in || !known {
		t.Fatalf("in the meeting: %v %v", in, known)
	}
	calls := fake.PresenceCalls()
	if in, known := m.InMeeting(ctx, without); in || known || fake.PresenceCalls() != calls {
		t.Fatalf("no scope: %v %v, %d calls", in, known, fake.PresenceCalls()-calls)
	}
	if _, known := m.InMeeting(ctx, "nope"); known {
		t.Fatal("unknown connection known")
	}
}
