package tokens_test

// The refresh races and faults, against the fake Zoom's hooks (no
// sleeps for ordering): a reconnect or a disconnect while a refresh is at
// Zoom, Zoom failing after it rotated, a slow Zoom, a full disk.

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/tokens"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// mintAsync mints in the background and returns where the result goes.
func (e *env) mintAsync() <-chan error {
	ch := make(chan error, 1)
	go func() {
		_, err := e.mgr.Mint(context.Background(), e.connID, onbehalf.KindOBF, meeting)
		ch <- err
	}()
	return ch
}

// checkHealthy checks that the stored pair is Zoom's current one and that
// a mint works with no further refresh.
func (e *env) checkHealthy(t *testing.T) {
	t.Helper()
	c, err := e.store.Connection(context.Background(), e.connID)
	if err != nil || !c.Connected() {
		t.Fatalf("connection lost: %+v %v", c, err)
	}
	if want := e.fake.CurrentRefreshToken(zoomdemo.DefaultUserID); c.Token.RefreshToken != want {
		t.Fatalf("stored refresh token is not Zoom's current one")
	}
	before := e.fake.RefreshCalls()
	if _, err := e.mgr.Mint(context.Background(), e.connID, onbehalf.KindOBF, meeting); err != nil {
		t.Fatalf("mint after the race: %v", err)
	}
	if e.fake.RefreshCalls() != before || e.fake.ReusedRefreshTokens() != 0 {
		t.Fatalf("refreshes %d→%d, reused %d", before, e.fake.RefreshCalls(), e.fake.ReusedRefreshTokens())
	}
}

// A: Zoom rotates and answers slowly; the person reconnects meanwhile.
// The late answer must not replace the new grant.
func TestReconnectDuringSlowRefresh(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	e.fake.InvalidateAccess(zoomdemo.DefaultUserID)
	h := e.fake.HoldNextRefresh()
	minted := e.mintAsync()
	<-h.Arrived() // Zoom rotated; its answer is on the way
	reconnected := make(chan struct{})
	go func() { e.connect(t); close(reconnected) }() // a new grant: Zoom kills the rotated one
	h.Release(zoomdemo.AnswerNormal)
	<-h.Done()
	<-reconnected
	<-minted
	e.checkHealthy(t)
}

// B: the refresh reaches Zoom after the person reconnected: Zoom rejects
// the old refresh token. That must not wipe the new grant.
func TestReconnectBeforeRefreshReachesZoom(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	e.fake.InvalidateAccess(zoomdemo.DefaultUserID)
	h := e.fake.HoldNextRefreshBeforeRotate()
	minted := e.mintAsync()
	<-h.Arrived()
	// The person reconnects at Zoom (the old refresh token dies) while
	// the refresh request waits at the fake.
	reconnected := make(chan struct{})
	go func() { e.connect(t); close(reconnected) }()
	h.Release(zoomdemo.AnswerNormal) // Zoom looks at the old token now: invalid_grant
	<-h.Done()
	<-reconnected
	<-minted
	e.checkHealthy(t)
}

// C: the person disconnects while a refresh is at Zoom. The pair Zoom
// rotated must not stay alive at Zoom with nobody holding it.
func TestDisconnectDuringRefresh(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	e.fake.InvalidateAccess(zoomdemo.DefaultUserID)
	h := e.fake.HoldNextRefresh()
	minted := e.mintAsync()
	<-h.Arrived()
	type result struct {
		revokeErr, err error
	}
	done := make(chan result, 1)
	go func() {
		_, revokeErr, err := e.mgr.Disconnect(context.Background(), e.connID)
		done <- result{revokeErr, err}
	}()
	h.Release(zoomdemo.AnswerNormal)
	<-h.Done()
	r := <-done
	<-minted
	if r.err != nil || r.revokeErr != nil {
		t.Fatalf("disconnect: %v, revoke: %v", r.err, r.revokeErr)
	}
	if e.fake.CurrentRefreshToken(zoomdemo.DefaultUserID) != "" || e.fake.Revocations() != 1 {
		t.Fatalf("the grant is still alive at Zoom (revocations %d)", e.fake.Revocations())
	}
	if _, err := e.store.Connection(context.Background(), e.connID); onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND {
		t.Fatalf("connection still stored: %v", err)
	}
}

// A slow answer is saved: the caller gets its 504 at Wait, the refresh
// goes on with its own deadline and is committed.
func TestSlowRefreshCommittedAfterCallerGaveUp(t *testing.T) {
	e := newEnv(t, 100*time.Millisecond)
	e.mgr.RefreshTimeout = 10 * time.Second
	e.fake.InvalidateAccess(zoomdemo.DefaultUserID)
	h := e.fake.HoldNextRefresh()
	minted := e.mintAsync()
	<-h.Arrived()
	if err := <-minted; onbehalf.ErrorCode(err) != onbehalf.ETIMEOUT {
		t.Fatalf("caller: %v, want ETIMEOUT", err)
	}
	h.Release(zoomdemo.AnswerNormal)
	<-h.Done()
	e.waitStored(t)
	e.checkHealthy(t)
}

// Zoom failing after it rotated: the connection cannot be saved (the new
// pair never arrived), but the loss is counted and explained.
func TestFaultsAfterRotationCounted(t *testing.T) {
	for _, a := range []zoomdemo.Answer{zoomdemo.AnswerServerError, zoomdemo.AnswerTruncated, zoomdemo.AnswerCut} {
		t.Run(a.String(), func(t *testing.T) {
			e := newEnv(t, 5*time.Second)
			// The cool-down would answer the second mint 503 for 30 s;
			// this test is about what the retry then finds.
			e.mgr.Cooldown = -1
			e.fake.InvalidateAccess(zoomdemo.DefaultUserID)
			h := e.fake.HoldNextRefresh()
			minted := e.mintAsync()
			<-h.Arrived()
			h.Release(a)
			<-h.Done()
			if err := <-minted; err == nil || onbehalf.HTTPStatus(err) < 500 {
				t.Fatalf("mint: %v, want a 5xx", err)
			}
			_, err := e.mgr.Mint(context.Background(), e.connID, onbehalf.KindOBF, meeting)
			if onbehalf.ErrorCode(err) != onbehalf.EDISCONNECTED {
				t.Fatalf("second mint: %v, want EDISCONNECTED (Zoom rotated, the answer was lost)", err)
			}
			if s := e.mgr.Stats(); s.LostAfterUncertain != 1 || s.Refreshes["failed"] != 1 {
				t.Fatalf("stats %+v", s)
			}
			c, _ := e.store.Connection(context.Background(), e.connID)
			if c.Connected() || c.DisconnectedReason == "" {
				t.Fatalf("connection %+v", c)
			}
		})
	}
}

// A 200 without a refresh_token keeps the old one, warns and counts.
func TestAnswerWithoutRefreshTokenCounted(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	e.fake.InvalidateAccess(zoomdemo.DefaultUserID)
	h := e.fake.HoldNextRefresh()
	minted := e.mintAsync()
	<-h.Arrived()
	h.Release(zoomdemo.AnswerNoRefreshToken)
	<-h.Done()
	if err := <-minted; err != nil {
		t.Fatal(err)
	}
	if s := e.mgr.Stats(); s.NoRefreshToken != 1 || s.Refreshes["ok"] != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// Disk full: a rotated pair that cannot be committed is kept in memory and
// served; no new refresh starts while writes fail (503 once the access
// token is dead); the pair is committed when the disk frees up.
func TestDiskFullKeepsRotatedPair(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	ctx := context.Background()
	e.fake.InvalidateAccess(zoomdemo.DefaultUserID)
	e.store.FailWrites(syscall.ENOSPC)
	tok, err := e.mgr.Mint(ctx, e.connID, onbehalf.KindOBF, meeting)
	if err != nil || tok == "" {
		t.Fatalf("mint with a full disk: %v", err)
	}
	if s := e.mgr.Stats(); s.Pending != 1 || s.Refreshes["uncommitted"] != 1 {
		t.Fatalf("stats %+v", s)
	}
	if err := e.store.Writable(ctx); onbehalf.ErrorCode(err) != onbehalf.ESTORAGE {
		t.Fatalf("Writable: %v", err)
	}
	// Served from the uncommitted pair, no refresh.
	if _, err := e.mgr.Mint(ctx, e.connID, onbehalf.KindOBF, meeting); err != nil || e.fake.RefreshCalls() != 1 {
		t.Fatalf("second mint: %v, refreshes %d", err, e.fake.RefreshCalls())
	}
	// The access token dies: no refresh may start while writes fail.
	e.clk.Advance(2 * time.Hour)
	e.fake.SetClock(e.clk.Now)
	_, err = e.mgr.Mint(ctx, e.connID, onbehalf.KindOBF, meeting)
	if onbehalf.ErrorCode(err) != onbehalf.EUNAVAILABLE || e.fake.RefreshCalls() != 1 {
		t.Fatalf("mint with a dead token and a full disk: %v (refreshes %d), want EUNAVAILABLE and no refresh", err, e.fake.RefreshCalls())
	}
	// Space again: the store's probe notices, the pending pair is
	// committed first, then refreshed.
	e.store.FailWrites(nil)
	deadline := time.Now().Add(10 * time.Second)
	for e.store.Writable(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the store never became writable again")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := e.mgr.Mint(ctx, e.connID, onbehalf.KindOBF, meeting); err != nil {
		t.Fatalf("mint after space came back: %v", err)
	}
	if e.fake.RefreshCalls() != 2 || e.fake.ReusedRefreshTokens() != 0 || e.mgr.Stats().Pending != 0 {
		t.Fatalf("refreshes %d reused %d pending %d", e.fake.RefreshCalls(), e.fake.ReusedRefreshTokens(), e.mgr.Stats().Pending)
	}
	c, _ := e.store.Connection(ctx, e.connID)
	if c.Token.RefreshToken != e.fake.CurrentRefreshToken(zoomdemo.DefaultUserID) {
		t.Fatal("stored refresh token is not Zoom's current one")
	}
}

// waitStored waits until the stored refresh token is Zoom's current one.
func (e *env) waitStored(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, _ := e.store.Connection(context.Background(), e.connID)
		if c != nil && c.Token.RefreshToken == e.fake.CurrentRefreshToken(zoomdemo.DefaultUserID) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the rotated pair was never stored")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var _ = tokens.DefaultMargin
