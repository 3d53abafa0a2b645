package tokens_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/clocktest"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/tokens"
	"github.com/onbehalf/onbehalf/internal/zoom"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

const (
	acctID    = "acct_1"
	s2sID     = "s2s-client"
	s2sSecret = "s2s-secret-0123456789"
)

// accountEnv is a fake Zoom with a Server-to-Server app and an Account
// minter on a settable clock.
type accountEnv struct {
	fake *zoomdemo.Server
	acct *tokens.Account
	clk  *clocktest.Clock
}

func newAccountEnv(t *testing.T) *accountEnv {
	t.Helper()
	e := &accountEnv{fake: zoomdemo.New("cid", "cs"), clk: clocktest.New(time.Now())}
	t.Cleanup(e.fake.Close)
	e.fake.EnableAccount(acctID, s2sID, s2sSecret)
	e.fake.AddUser(zoomdemo.User{ID: "zu_ann", AccountID: acctID, Email: "Ann@Example.com"})
	e.fake.AddUser(zoomdemo.User{ID: "zu_other", AccountID: "acct_2", Email: "other@example.com"})
	zc := zoom.New(zoom.Options{ClientID: "cid", ClientSecret: "cs", OAuthURL: e.fake.URL, APIURL: e.fake.APIURL(),
		Timeout: 5 * time.Second, AccountID: acctID, S2SClientID: s2sID, S2SClientSecret: s2sSecret})
	e.acct = &tokens.Account{Zoom: zc, Now: e.clk.Now, Logger: logger(t)}
	return e
}

func TestAccountMintCachesOneToken(t *testing.T) {
	e := newAccountEnv(t)
	ctx := context.Background()
	// Many callers at once: one account token for all of them.
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Go(func() {
			user := "zu_ann"
			if i%2 == 1 {
				user = "ann@example.com" // by email, in any case
			}
			tok, err := e.acct.Mint(ctx, user, onbehalf.KindZAK, "")
			if err == nil && !strings.HasPrefix(tok, "zak_") {
				err = onbehalf.Errorf(onbehalf.EINTERNAL, "unexpected token %q", tok)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := e.fake.AccountTokenGrants(); n != 1 {
		t.Fatalf("account token fetched %d times for 50 concurrent callers, want 1", n)
	}

	// Still cached 54 minutes later; replaced within 5 minutes of expiry.
	e.clk.Advance(54 * time.Minute)
	if _, err := e.acct.Mint(ctx, "zu_ann", onbehalf.KindZAK, ""); err != nil || e.fake.AccountTokenGrants() != 1 {
		t.Fatalf("54 min: %v, %d grants", err, e.fake.AccountTokenGrants())
	}
	e.clk.Advance(2 * time.Minute)
	if _, err := e.acct.Mint(ctx, "zu_ann", onbehalf.KindZAK, ""); err != nil || e.fake.AccountTokenGrants() != 2 {
		t.Fatalf("56 min: %v, %d grants", err, e.fake.AccountTokenGrants())
	}
	if e.acct.AccountFetches() != 2 {
		t.Fatalf("AccountFetches = %d", e.acct.AccountFetches())
	}
}

func TestAccountRejectedTokenFetchedOnce(t *testing.T) {
	e := newAccountEnv(t)
	ctx := context.Background()
	if _, err := e.acct.Mint(ctx, "zu_ann", onbehalf.KindZAK, ""); err != nil {
		t.Fatal(err)
	}
	e.fake.RevokeAccountTokens()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := e.acct.Mint(ctx, "zu_ann", onbehalf.KindZAK, ""); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := e.fake.AccountTokenGrants(); n != 2 {
		t.Fatalf("%d account token grants after one rejection, want 2", n)
	}
}

func TestAccountRelaysZoom(t *testing.T) {
	e := newAccountEnv(t)
	ctx := context.Background()
	const meeting = "85012345678"

	// OBF: refused by Zoom (the fake, as Zoom documents it), relayed with
	// what to do.
	_, err := e.acct.Mint(ctx, "zu_ann", onbehalf.KindOBF, meeting)
	msg := onbehalf.ErrorMessage(err)
	if onbehalf.ErrorCode(err) != onbehalf.EUPSTREAM || !strings.Contains(msg, "user's own OAuth access token") || !strings.Contains(msg, "connect this user") {
		t.Fatalf("OBF refused: %v", err)
	}
	e.fake.AllowAccountOBF(true)
	if tok, err := e.acct.Mint(ctx, "zu_ann", onbehalf.KindOBF, meeting); err != nil || !strings.HasPrefix(tok, "obf_") {
		t.Fatalf("OBF allowed: %q %v", tok, err)
	}

	for name, tc := range map[string]struct {
		user    string
		kind    onbehalf.TokenKind
		meeting string
		code    string
		field   string
	}{
		"other account": {"zu_other", onbehalf.KindZAK, "", onbehalf.ENOTFOUND, ""},
		"unknown email": {"nobody@example.com", onbehalf.KindZAK, "", onbehalf.ENOTFOUND, ""},
		"no user":       {"", onbehalf.KindZAK, "", onbehalf.EINVALID, "zoom_user_id"},
		"blank in user": {"a b", onbehalf.KindZAK, "", onbehalf.EINVALID, "zoom_user_id"},
		"bad kind":      {"zu_ann", "bogus", "", onbehalf.EINVALID, "kind"},
		"no meeting":    {"zu_ann", onbehalf.KindOBF, "", onbehalf.EINVALID, "meeting_id"},
		"bad meeting":   {"zu_ann", onbehalf.KindJoin, "12ab", onbehalf.EINVALID, "meeting_id"},
	} {
		_, err := e.acct.Mint(ctx, tc.user, tc.kind, tc.meeting)
		if onbehalf.ErrorCode(err) != tc.code || onbehalf.ErrorField(err) != tc.field {
			t.Errorf("%s: %v (field %q)", name, err, onbehalf.ErrorField(err))
		}
		if strings.Contains(onbehalf.ErrorMessage(err), "zacc_") {
			t.Errorf("%s: the message holds an account token", name)
		}
	}
}

func TestAccountNotConfigured(t *testing.T) {
	f := zoomdemo.New("cid", "cs")
	defer f.Close()
	zc := zoom.New(zoom.Options{ClientID: "cid", ClientSecret: "cs", OAuthURL: f.URL, APIURL: f.APIURL()})
	a := &tokens.Account{Zoom: zc}
	_, err := a.Mint(context.Background(), "zu_ann", onbehalf.KindZAK, "")
	if onbehalf.ErrorCode(err) != onbehalf.EUNAVAILABLE || !strings.Contains(onbehalf.ErrorMessage(err), "ZOOM_ACCOUNT_ID") {
		t.Fatalf("not configured: %v", err)
	}
	// Wrong credentials: Zoom's words.
	zc = zoom.New(zoom.Options{ClientID: "cid", ClientSecret: "cs", OAuthURL: f.URL, APIURL: f.APIURL(),
		AccountID: acctID, S2SClientID: s2sID, S2SClientSecret: "wrong"})
	f.EnableAccount(acctID, s2sID, s2sSecret)
	a = &tokens.Account{Zoom: zc}
	if _, err := a.Mint(context.Background(), "zu_ann", onbehalf.KindZAK, ""); onbehalf.ErrorCode(err) != onbehalf.EUPSTREAM ||
		!strings.Contains(onbehalf.ErrorMessage(err), "invalid_client") {
		t.Fatalf("wrong secret: %v", err)
	}
}

func TestAccountCallerGivesUp(t *testing.T) {
	e := newAccountEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.acct.Mint(ctx, "zu_ann", onbehalf.KindZAK, ""); onbehalf.ErrorCode(err) != onbehalf.ETIMEOUT {
		t.Fatalf("cancelled caller: %v", err)
	}
	// The fetch went on for the others: the next caller gets its token
	// (and the test waits for that fetch to end).
	if _, err := e.acct.Mint(context.Background(), "zu_ann", onbehalf.KindZAK, ""); err != nil || e.fake.AccountTokenGrants() != 1 {
		t.Fatalf("after a caller gave up: %v, %d grants", err, e.fake.AccountTokenGrants())
	}
}
