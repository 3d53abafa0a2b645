package tokens_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/clocktest"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
	"github.com/onbehalf/onbehalf/internal/tokens"
	"github.com/onbehalf/onbehalf/internal/zoom"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

const meeting = "85012345678"

type env struct {
	wait   time.Duration
	fake   *zoomdemo.Server
	zoom   *zoom.Client
	store  *bolt.Store
	path   string
	mgr    *tokens.Manager
	connID string
	clk    *clocktest.Clock
}

// newEnv starts a fake Zoom, a store on a temp file and a manager, with one
// connection for the fake's default user.
func newEnv(t *testing.T, timeout time.Duration) *env {
	t.Helper()
	e := &env{fake: zoomdemo.New("cid", "csecret"), path: filepath.Join(t.TempDir(), "t.db"), clk: clocktest.New(time.Now()), wait: timeout}
	t.Cleanup(e.fake.Close)
	e.zoom = zoom.New(zoom.Options{ClientID: "cid", ClientSecret: "csecret", OAuthURL: e.fake.URL, APIURL: e.fake.APIURL(), Timeout: timeout})
	e.open(t)
	e.connID = e.connect(t).ID
	return e
}

// connect gives the fake's default user a fresh grant and stores it, as
// the OAuth callback does (through the manager, which serializes it with
// refreshes).
func (e *env) connect(t *testing.T) *onbehalf.Connection {
	t.Helper()
	at, rt := e.fake.IssueGrant(zoomdemo.DefaultUserID)
	c, _, err := e.mgr.Connect(context.Background(), onbehalf.Authorization{
		User:  onbehalf.ZoomUser{ID: zoomdemo.DefaultUserID, Email: "d@example.com"},
		Token: onbehalf.Token{AccessToken: at, RefreshToken: rt, Expiry: e.clk.Now().Add(zoomdemo.DefaultAccessTTL), Scope: zoomdemo.Scope},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) open(t *testing.T) {
	t.Helper()
	st, err := bolt.Open(e.path, bolt.Options{ReserveBytes: bolt.NoReserve, ProbeInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.store = st
	e.mgr = &tokens.Manager{Store: st, Zoom: e.zoom, Revoker: e.zoom, Now: e.clk.Now, Wait: e.wait, Logger: logger(t)}
	mgr := e.mgr
	t.Cleanup(func() { mgr.Close(); st.Close() })
}

func TestMintWarmTokenNoRefresh(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	tok, err := e.mgr.Mint(context.Background(), e.connID, onbehalf.KindOBF, meeting)
	if err != nil {
		t.Fatal(err)
	}
	if minted := e.fake.Minted(); len(minted) != 1 || minted[0] != tok {
		t.Fatalf("got %q, fake minted %v", tok, minted)
	}
	if e.fake.RefreshCalls() != 0 {
		t.Fatal("refreshed a fresh token")
	}
}

func TestRefreshWhenExpiringWithinMargin(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	e.clk.Advance(54 * time.Minute) // ~6 min left: no refresh yet
	if _, err := e.mgr.Mint(context.Background(), e.connID, onbehalf.KindOBF, meeting); err != nil {
		t.Fatal(err)
	}
	if n := e.fake.RefreshCalls(); n != 0 {
		t.Fatalf("refresh calls = %d with 6 minutes left", n)
	}
	e.clk.Advance(2 * time.Minute) // ~4 min left: refresh first
	if _, err := e.mgr.Mint(context.Background(), e.connID, onbehalf.KindOBF, meeting); err != nil {
		t.Fatal(err)
	}
	if n := e.fake.RefreshCalls(); n != 1 {
		t.Fatalf("refresh calls = %d, want 1", n)
	}
	c, _ := e.store.Connection(context.Background(), e.connID)
	if c.Token.RefreshToken != e.fake.CurrentRefreshToken(zoomdemo.DefaultUserID) {
		t.Fatal("stored refresh token is not Zoom's current one")
	}
}

func TestUnauthorizedRefreshesOnceAndRetries(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	e.fake.InvalidateAccess(zoomdemo.DefaultUserID)
	tok, err := e.mgr.Mint(context.Background(), e.connID, onbehalf.KindOBF, meeting)
	if err != nil {
		t.Fatal(err)
	}
	if e.fake.RefreshCalls() != 1 || e.fake.MintCalls() != 2 {
		t.Fatalf("refreshes=%d mints=%d, want 1 and 2", e.fake.RefreshCalls(), e.fake.MintCalls())
	}
	if m := e.fake.Minted(); m[len(m)-1] != tok {
		t.Fatal("returned token is not the one minted")
	}
}

func TestConcurrentMintsAfterInvalidationShareOneRefresh(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	e.fake.InvalidateAccess(zoomdemo.DefaultUserID)
	const n = 50
	got := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			got[i], errs[i] = e.mgr.Mint(context.Background(), e.connID, onbehalf.KindOBF, meeting)
		}(i)
	}
	close(start)
	wg.Wait()
	seen := map[string]bool{}
	for i := range got {
		if errs[i] != nil {
			t.Fatalf("mint %d: %v", i, errs[i])
		}
		if got[i] == "" || seen[got[i]] {
			t.Fatalf("mint %d: empty or duplicate token %q", i, got[i])
		}
		seen[got[i]] = true
	}
	if r := e.fake.RefreshCalls(); r != 1 {
		t.Fatalf("refresh calls = %d, want exactly 1", r)
	}
	if r := e.fake.ReusedRefreshTokens(); r != 0 {
		t.Fatalf("a rotated refresh token was reused %d times", r)
	}
}

func TestRotatedRefreshTokenSurvivesReopen(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	e.fake.InvalidateAccess(zoomdemo.DefaultUserID)
	if _, err := e.mgr.Mint(context.Background(), e.connID, onbehalf.KindOBF, meeting); err != nil {
		t.Fatal(err)
	}
	e.mgr.Close()
	e.store.Close()
	e.open(t)
	// Force another refresh: it must use the rotated token from disk.
	e.fake.InvalidateAccess(zoomdemo.DefaultUserID)
	if _, err := e.mgr.Mint(context.Background(), e.connID, onbehalf.KindOBF, meeting); err != nil {
		t.Fatal(err)
	}
	if e.fake.RefreshCalls() != 2 || e.fake.ReusedRefreshTokens() != 0 {
		t.Fatalf("refreshes=%d reused=%d", e.fake.RefreshCalls(), e.fake.ReusedRefreshTokens())
	}
}

func TestRevokedGrantDisconnects(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	e.fake.RevokeGrant(zoomdemo.DefaultUserID)
	_, err := e.mgr.Mint(context.Background(), e.connID, onbehalf.KindOBF, meeting)
	if onbehalf.ErrorCode(err) != onbehalf.EDISCONNECTED {
		t.Fatalf("got %v, want EDISCONNECTED", err)
	}
	c, _ := e.store.Connection(context.Background(), e.connID)
	if c.Connected() || c.Token != (onbehalf.Token{}) || c.DisconnectedReason == "" {
		t.Fatalf("connection not marked disconnected with tokens wiped: %+v", c)
	}
	calls := e.fake.RefreshCalls() + e.fake.MintCalls()
	if _, err := e.mgr.Mint(context.Background(), e.connID, onbehalf.KindOBF, meeting); onbehalf.ErrorCode(err) != onbehalf.EDISCONNECTED {
		t.Fatalf("second mint: %v", err)
	}
	if e.fake.RefreshCalls()+e.fake.MintCalls() != calls {
		t.Fatal("a dead connection still calls Zoom")
	}
}

func TestUnknownConnection(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	if _, err := e.mgr.Mint(context.Background(), "nope", onbehalf.KindOBF, meeting); onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND {
		t.Fatalf("got %v", err)
	}
}

func TestZoomTimeoutAndErrors(t *testing.T) {
	e := newEnv(t, 100*time.Millisecond)
	e.fake.SetMintDelay(2 * time.Second)
	if _, err := e.mgr.Mint(context.Background(), e.connID, onbehalf.KindOBF, meeting); onbehalf.ErrorCode(err) != onbehalf.ETIMEOUT {
		t.Fatalf("got %v, want ETIMEOUT", err)
	}
	e.fake.SetMintDelay(0)
	e.fake.FailMintEvery(1)
	_, err := e.mgr.Mint(context.Background(), e.connID, onbehalf.KindOBF, meeting)
	if onbehalf.ErrorCode(err) != onbehalf.EUPSTREAM {
		t.Fatalf("got %v, want EUPSTREAM", err)
	}
	t.Logf("zoom error message: %s", onbehalf.ErrorMessage(err))
}

func TestCallerGivingUpDoesNotLoseRotatedToken(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	e.fake.InvalidateAccess(zoomdemo.DefaultUserID)
	e.fake.SetRefreshDelay(300 * time.Millisecond) // Zoom rotates, then answers late
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := e.mgr.Mint(ctx, e.connID, onbehalf.KindOBF, meeting); err == nil {
		t.Fatal("expected the caller to time out")
	}
	// The refresh goes on without the caller and is committed.
	deadline := time.Now().Add(3 * time.Second)
	for {
		c, _ := e.store.Connection(context.Background(), e.connID)
		if c.Token.RefreshToken == e.fake.CurrentRefreshToken(zoomdemo.DefaultUserID) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("rotated refresh token was never saved")
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.fake.SetRefreshDelay(0)
	if _, err := e.mgr.Mint(context.Background(), e.connID, onbehalf.KindOBF, meeting); err != nil {
		t.Fatal(err)
	}
	if e.fake.RefreshCalls() != 1 || e.fake.ReusedRefreshTokens() != 0 {
		t.Fatalf("refreshes=%d reused=%d", e.fake.RefreshCalls(), e.fake.ReusedRefreshTokens())
	}
}

func TestCloseWaitsForInFlightRefresh(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	e.fake.InvalidateAccess(zoomdemo.DefaultUserID)
	e.fake.SetRefreshDelay(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	e.mgr.Mint(ctx, e.connID, onbehalf.KindOBF, meeting) // caller gives up; refresh goes on
	e.mgr.Close()                                        // must wait for the commit
	c, _ := e.store.Connection(context.Background(), e.connID)
	if c.Token.RefreshToken != e.fake.CurrentRefreshToken(zoomdemo.DefaultUserID) {
		t.Fatal("Close returned before the rotated pair was committed")
	}
	if _, err := e.mgr.Refresh(context.Background(), e.connID, "x"); onbehalf.ErrorCode(err) != onbehalf.EUNAVAILABLE {
		t.Fatalf("refresh after Close: %v", err)
	}
}

func TestKeepAliveSkipsRecentlyRefreshed(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	ctx := context.Background()
	// The connection was made just now; even if Zoom's tokens lived
	// shorter than the keep-alive margin, it is not refreshed yet.
	if ok, err := e.mgr.RefreshIfExpiring(ctx, e.connID, e.clk.Now().Add(2*time.Hour)); ok || err != nil || e.fake.RefreshCalls() != 0 {
		t.Fatalf("refreshed a fresh connection: %v %v", ok, err)
	}
	e.clk.Advance(tokens.KeepAliveMinInterval + time.Minute)
	if ok, err := e.mgr.RefreshIfExpiring(ctx, e.connID, e.clk.Now().Add(2*time.Hour)); !ok || err != nil || e.fake.RefreshCalls() != 1 {
		t.Fatalf("not refreshed after the interval: %v %v", ok, err)
	}
	// Not due: nothing happens.
	e.clk.Advance(tokens.KeepAliveMinInterval + time.Minute)
	if ok, _ := e.mgr.RefreshIfExpiring(ctx, e.connID, e.clk.Now()); ok || e.fake.RefreshCalls() != 1 {
		t.Fatal("refreshed a connection that is not due")
	}
}

// logger returns a logger writing into the test's log.
func logger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tlog{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// tlog writes to t.Log.
type tlog struct{ t *testing.T }

func (w tlog) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
