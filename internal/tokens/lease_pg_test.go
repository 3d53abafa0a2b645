package tokens_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/seal"
	"github.com/onbehalf/onbehalf/internal/store/postgres"
	"github.com/onbehalf/onbehalf/internal/store/postgres/pgtest"
	"github.com/onbehalf/onbehalf/internal/tokens"
	"github.com/onbehalf/onbehalf/internal/zoom"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// pgPair is two instances (store and manager) on one PostgreSQL database
// and one fake Zoom, with a connection whose access token is about to
// expire (every token request refreshes first).
type pgPair struct {
	fake   *zoomdemo.Server
	stores [2]*postgres.Store
	mgrs   [2]*tokens.Manager
	connID string
}

func newPGPair(t *testing.T) *pgPair {
	t.Helper()
	pgtest.ServerURL(t)
	u, _ := pgtest.Schema(t)
	key, err := seal.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	p := &pgPair{fake: zoomdemo.New("cid", "csecret")}
	t.Cleanup(p.fake.Close)
	zc := zoom.New(zoom.Options{ClientID: "cid", ClientSecret: "csecret", OAuthURL: p.fake.URL, APIURL: p.fake.APIURL(), Timeout: 30 * time.Second})
	for i, owner := range []string{"A", "B"} {
		st, err := postgres.Open(context.Background(), u, postgres.Options{Keys: [][]byte{key}, Logger: logger(t)})
		if err != nil {
			t.Fatal(err)
		}
		p.stores[i] = st
		p.mgrs[i] = &tokens.Manager{Store: st, Zoom: zc, Owner: owner, Wait: 30 * time.Second, Logger: logger(t)}
		m := p.mgrs[i]
		t.Cleanup(func() { m.Close(); st.Close() })
	}
	at, rt := p.fake.IssueGrant(zoomdemo.DefaultUserID)
	c, _, err := p.stores[0].Connect(context.Background(), onbehalf.Authorization{
		User:  onbehalf.ZoomUser{ID: zoomdemo.DefaultUserID, Email: "d@example.com"},
		Token: onbehalf.Token{AccessToken: at, RefreshToken: rt, Expiry: time.Now().Add(time.Minute), Scope: zoomdemo.Scope},
	})
	if err != nil {
		t.Fatal(err)
	}
	p.connID = c.ID
	return p
}

// killA starts a refresh on A that reaches Zoom (held there), then kills
// A as kill -9 would leave it: its store is gone, so its lease is neither
// renewed nor given back. It returns when A's refresh is at Zoom.
func (p *pgPair) killA(t *testing.T, h *zoomdemo.Hold) {
	t.Helper()
	go func() { _, _ = p.mgrs[0].Mint(context.Background(), p.connID, onbehalf.KindOBF, meeting) }()
	<-h.Arrived()
	p.stores[0].Close()
}

// TestInstanceDiesBeforeZoomRotates: an instance dies with its refresh at
// Zoom before Zoom rotated; the other serves the connection within the
// lease (10 s), not ZOOM_REFRESH_TIMEOUT + 10 s.
func TestInstanceDiesBeforeZoomRotates(t *testing.T) {
	p := newPGPair(t)
	h := p.fake.HoldNextRefreshBeforeRotate()
	p.killA(t, h)
	t0 := time.Now()
	if _, err := p.mgrs[1].Mint(context.Background(), p.connID, onbehalf.KindOBF, meeting); err != nil {
		t.Fatalf("B's mint: %v", err)
	}
	blocked := time.Since(t0)
	t.Logf("connection blocked by the dead instance for %v (lease %v)", blocked.Round(time.Millisecond), tokens.DefaultLeaseTTL)
	if blocked > 15*time.Second {
		t.Fatalf("blocked %v, want at most 15 s", blocked)
	}
	if s := p.mgrs[1].Stats(); s.AbandonedLeases != 1 || s.LeasesTaken != 1 || s.LostAfterUncertain != 0 {
		t.Fatalf("B's stats %+v", s)
	}
	h.Release(zoomdemo.AnswerNormal) // A's call is long abandoned
}

// TestInstanceDiesAfterZoomRotated: an instance dies after Zoom rotated
// the pair for it; the other takes the lease over within 10 s, Zoom
// refuses the dead refresh token, and the loss is counted as one after an
// uncertain refresh, with a reason that says so.
func TestInstanceDiesAfterZoomRotated(t *testing.T) {
	p := newPGPair(t)
	h := p.fake.HoldNextRefresh()
	p.killA(t, h)
	t0 := time.Now()
	_, err := p.mgrs[1].Mint(context.Background(), p.connID, onbehalf.KindOBF, meeting)
	blocked := time.Since(t0)
	if onbehalf.ErrorCode(err) != onbehalf.EDISCONNECTED || onbehalf.HTTPStatus(err) == http.StatusGatewayTimeout {
		t.Fatalf("B's mint: %v, want EDISCONNECTED", err)
	}
	t.Logf("dead instance's connection resolved after %v", blocked.Round(time.Millisecond))
	if blocked > 15*time.Second {
		t.Fatalf("blocked %v, want at most 15 s", blocked)
	}
	if s := p.mgrs[1].Stats(); s.LostAfterUncertain != 1 || s.AbandonedLeases != 1 {
		t.Fatalf("B's stats %+v, want one connection lost after an uncertain refresh", s)
	}
	c, err := p.stores[1].Connection(context.Background(), p.connID)
	if err != nil || c.State != onbehalf.StateDisconnected || !strings.Contains(c.DisconnectedReason, "Another instance stopped in the middle") {
		t.Fatalf("connection %+v %v: want disconnected with the reason", c, err)
	}
	h.Release(zoomdemo.AnswerNormal)
}

// TestSlowZoomKeepsTheLease: a Zoom slower than the lease never lets the
// other instance refresh too: the holder renews its lease while Zoom
// answers, and the other waits for its result.
func TestSlowZoomKeepsTheLease(t *testing.T) {
	p := newPGPair(t)
	for _, m := range p.mgrs {
		m.LeaseTTL = 900 * time.Millisecond
	}
	h := p.fake.HoldNextRefresh()
	done := make(chan error, 1)
	go func() {
		_, err := p.mgrs[0].Mint(context.Background(), p.connID, onbehalf.KindOBF, meeting)
		done <- err
	}()
	<-h.Arrived()
	bDone := make(chan error, 1)
	go func() {
		_, err := p.mgrs[1].Mint(context.Background(), p.connID, onbehalf.KindOBF, meeting)
		bDone <- err
	}()
	// Hold Zoom's answer for several leases.
	deadline := time.Now().Add(20 * time.Second)
	for p.mgrs[0].Stats().LeaseRenewals < 6 {
		if time.Now().After(deadline) {
			t.Fatal("A never renewed its lease")
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.Release(zoomdemo.AnswerNormal)
	if err := <-done; err != nil {
		t.Fatalf("A: %v", err)
	}
	if err := <-bDone; err != nil {
		t.Fatalf("B: %v", err)
	}
	if n := p.fake.RefreshCalls(); n != 1 {
		t.Fatalf("refresh calls at Zoom: %d, want 1 (B must wait for A)", n)
	}
	if s := p.mgrs[1].Stats(); s.AbandonedLeases != 0 {
		t.Fatalf("B's stats %+v", s)
	}
}
