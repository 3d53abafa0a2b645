package zoom_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/zoom"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

const (
	acctID     = "acct_1"
	s2sID      = "s2s-client"
	s2sSecret  = "s2s-secret-0123456789"
	meetingOne = "85012345678"
)

// accountClient returns a client of both apps; the S2S credentials may be
// replaced.
func accountClient(f *zoomdemo.Server, id, secret string) *zoom.Client {
	return zoom.New(zoom.Options{ClientID: "cid", ClientSecret: "cs", OAuthURL: f.URL, APIURL: f.APIURL(),
		Timeout: 5 * time.Second, AccountID: acctID, S2SClientID: id, S2SClientSecret: secret})
}

func TestJoinToken(t *testing.T) {
	f := zoomdemo.New("cid", "cs")
	defer f.Close()
	f.AddUser(zoomdemo.User{ID: "zu_guest", AccountID: "acct_2", Email: "guest@example.com"})
	f.SetScopes("zu_guest", "user:read:user user:read:token")
	f.SetHost(meetingOne, zoomdemo.DefaultUserID)
	ctx := context.Background()
	c := client(f, "cs", 5*time.Second)
	at, _ := f.IssueGrant(zoomdemo.DefaultUserID)
	guest, _ := f.IssueGrant("zu_guest")

	tok, err := c.MintToken(ctx, at, onbehalf.KindJoin, meetingOne)
	if err != nil || !strings.HasPrefix(tok, zoomdemo.JoinTokenPrefix) {
		t.Fatalf("host: %q %v (the waiting room must be bypassed)", tok, err)
	}
	for _, tc := range []struct {
		name, access, meeting, code, zoomCode string
	}{
		{"missing scope", guest, meetingOne, onbehalf.EUPSTREAM, "4711"},
		{"no such meeting", at, "85099999999", onbehalf.EUPSTREAM, "3001"},
		{"escaped id", at, "850/../123", onbehalf.EUPSTREAM, "300"},
		{"no meeting", at, "", onbehalf.EINVALID, ""},
		{"bad token", "bogus", meetingOne, onbehalf.EUNAUTHORIZED, "124"},
	} {
		_, err := c.MintToken(ctx, tc.access, onbehalf.KindJoin, tc.meeting)
		if onbehalf.ErrorCode(err) != tc.code || !strings.Contains(onbehalf.ErrorMessage(err), tc.zoomCode) {
			t.Errorf("%s: %v", tc.name, err)
		}
		noLeak(t, err, at, guest)
	}
	// Not the host: Zoom's code and message, relayed.
	f.SetScopes("zu_guest", zoomdemo.Scope)
	guest, _ = f.IssueGrant("zu_guest")
	_, err = c.MintToken(ctx, guest, onbehalf.KindJoin, meetingOne)
	if onbehalf.ErrorCode(err) != onbehalf.EUPSTREAM || onbehalf.HTTPStatus(err) != 502 ||
		!strings.Contains(onbehalf.ErrorMessage(err), "Zoom error 3000 while minting the host join token: Cannot access meeting info.") {
		t.Fatalf("not the host: %v", err)
	}
	if code, status, ok := zoom.APIErrorCode(err); !ok || code != 3000 || status != 400 {
		t.Fatalf("APIErrorCode: %d %d %v", code, status, ok)
	}
	if _, err := c.MintToken(ctx, at, "bogus", meetingOne); onbehalf.ErrorCode(err) != onbehalf.EINVALID {
		t.Fatalf("unknown kind: %v", err)
	}
}

func TestAccountMode(t *testing.T) {
	f := zoomdemo.New("cid", "cs")
	defer f.Close()
	f.EnableAccount(acctID, s2sID, s2sSecret)
	f.AddUser(zoomdemo.User{ID: "zu_plus", AccountID: acctID, Email: "Ann+bots@Example.com"})
	f.AddUser(zoomdemo.User{ID: "zu_other", AccountID: "acct_2", Email: "other@example.com"})
	f.SetHost(meetingOne, "zu_plus")
	f.SetHost("85077777777", "zu_other")
	ctx := context.Background()
	c := accountClient(f, s2sID, s2sSecret)
	if !c.AccountMode() || client(f, "cs", time.Second).AccountMode() {
		t.Fatal("AccountMode")
	}

	tok, err := c.AccountToken(ctx)
	if err != nil || tok.AccessToken == "" || tok.RefreshToken != "" || tok.Scope != zoomdemo.AccountScope ||
		time.Until(tok.Expiry) < 50*time.Minute || time.Until(tok.Expiry) > time.Hour {
		t.Fatalf("account token: %+v %v", tok, err)
	}
	at := tok.AccessToken
	for _, who := range []string{"zu_plus", "ann+bots@example.com", zoomdemo.DefaultUserID, "default@example.com"} {
		if z, err := c.MintTokenFor(ctx, at, who, onbehalf.KindZAK, ""); err != nil || !strings.HasPrefix(z, "zak_") {
			t.Fatalf("zak for %s: %q %v", who, z, err)
		}
	}
	if j, err := c.MintTokenFor(ctx, at, "zu_plus", onbehalf.KindJoin, meetingOne); err != nil || !strings.HasPrefix(j, zoomdemo.JoinTokenPrefix) {
		t.Fatalf("join: %q %v", j, err)
	}
	for _, tc := range []struct {
		name, who, meeting, code, zoomCode string
		kind                               onbehalf.TokenKind
	}{
		{"other account", "other@example.com", "", onbehalf.ENOTFOUND, "1001", onbehalf.KindZAK},
		{"unknown", "nobody@example.com", "", onbehalf.ENOTFOUND, "1001", onbehalf.KindZAK},
		{"escaped", "zu_plus/../me", "", onbehalf.ENOTFOUND, "1001", onbehalf.KindZAK},
		{"obf", "zu_plus", meetingOne, onbehalf.EUPSTREAM, "300", onbehalf.KindOBF},
		{"join, other account's meeting", "zu_plus", "85077777777", onbehalf.EUPSTREAM, "3001", onbehalf.KindJoin},
		{"no user", "", "", onbehalf.EINVALID, "", onbehalf.KindZAK},
		{"bad kind", "zu_plus", "", onbehalf.EINVALID, "", "bogus"},
	} {
		_, err := c.MintTokenFor(ctx, at, tc.who, tc.kind, tc.meeting)
		if onbehalf.ErrorCode(err) != tc.code || !strings.Contains(onbehalf.ErrorMessage(err), tc.zoomCode) {
			t.Errorf("%s: %v", tc.name, err)
		}
		noLeak(t, err, at, s2sSecret)
	}
	f.AllowAccountOBF(true)
	if o, err := c.MintTokenFor(ctx, at, "zu_plus", onbehalf.KindOBF, meetingOne); err != nil || !strings.HasPrefix(o, "obf_") {
		t.Fatalf("obf when allowed: %q %v", o, err)
	}
	// A revoked account token is EUNAUTHORIZED: get a new one.
	f.RevokeAccountTokens()
	if _, err := c.MintTokenFor(ctx, at, "zu_plus", onbehalf.KindZAK, ""); onbehalf.ErrorCode(err) != onbehalf.EUNAUTHORIZED {
		t.Fatalf("revoked account token: %v", err)
	}
	if f.AccountTokenGrants() != 1 {
		t.Fatalf("AccountTokenGrants = %d", f.AccountTokenGrants())
	}
}

func TestAccountTokenErrors(t *testing.T) {
	f := zoomdemo.New("cid", "cs")
	defer f.Close()
	f.EnableAccount(acctID, s2sID, s2sSecret)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		c      *zoom.Client
		code   string
		answer string
	}{
		{"not configured", client(f, "cs", time.Second), onbehalf.EUNAVAILABLE, "ZOOM_ACCOUNT_ID"},
		{"wrong secret", accountClient(f, s2sID, "wrong-secret"), onbehalf.EUPSTREAM, "invalid_client"},
		{"general app", accountClient(f, "cid", "cs"), onbehalf.EUPSTREAM, "unsupported_grant_type"},
		{"wrong account", zoom.New(zoom.Options{OAuthURL: f.URL, APIURL: f.APIURL(), AccountID: "acct_9",
			S2SClientID: s2sID, S2SClientSecret: s2sSecret}), onbehalf.EUPSTREAM, "invalid_request"},
	} {
		_, err := tc.c.AccountToken(ctx)
		if onbehalf.ErrorCode(err) != tc.code || !strings.Contains(onbehalf.ErrorMessage(err), tc.answer) {
			t.Errorf("%s: %v", tc.name, err)
		}
		noLeak(t, err, s2sSecret, "wrong-secret", "cs")
	}
	// The S2S app has no user grants.
	_, rt := f.IssueGrant(zoomdemo.DefaultUserID)
	s2sAsGeneral := zoom.New(zoom.Options{ClientID: s2sID, ClientSecret: s2sSecret, OAuthURL: f.URL, APIURL: f.APIURL()})
	if _, err := s2sAsGeneral.Refresh(ctx, rt); onbehalf.ErrorCode(err) != onbehalf.EUPSTREAM {
		t.Fatalf("refresh with S2S credentials: %v", err)
	}
}

// TestAccountTokensConcurrent mints with one account token from many
// goroutines, for the race detector.
func TestAccountTokensConcurrent(t *testing.T) {
	f := zoomdemo.New("cid", "cs")
	defer f.Close()
	f.EnableAccount(acctID, s2sID, s2sSecret)
	c := accountClient(f, s2sID, s2sSecret)
	tok, err := c.AccountToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := c.MintTokenFor(context.Background(), tok.AccessToken, "default@example.com", onbehalf.KindZAK, ""); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if f.MintCalls() != 20 || len(f.Minted()) != 20 {
		t.Fatalf("MintCalls %d, Minted %d", f.MintCalls(), len(f.Minted()))
	}
}
