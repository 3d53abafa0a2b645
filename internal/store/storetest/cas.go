package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// testSaveTokenCompareAndSwap: a pair is written only over the refresh
// token it was derived from.
func testSaveTokenCompareAndSwap(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	c := connect(t, st, grant(h, "zu1", "1"))
	seq := lastSeq(t, st)
	exp := h.Clock.Now().Add(2 * time.Hour)

	_, err := st.SaveToken(ctx, c.ID, "zrt_wrong", pair("2", exp))
	wantCode(t, "SaveToken from a wrong refresh token", err, onbehalf.ECONFLICT)
	if got := read(t, st, c.ID); got.Token != c.Token {
		t.Fatalf("a refused SaveToken wrote %+v", got.Token)
	}
	t1 := h.Clock.Advance(time.Minute)
	saved, err := st.SaveToken(ctx, c.ID, "zrt_1", pair("2", exp))
	if err != nil || saved.Token != pair("2", exp) || !saved.RefreshedAt.Equal(t1) || !saved.UpdatedAt.Equal(t1) {
		t.Fatalf("SaveToken: %+v %v", saved, err)
	}
	if got := read(t, st, c.ID); got.Token != pair("2", exp) || !got.Connected() {
		t.Fatalf("read back %+v", got)
	}
	_, err = st.SaveToken(ctx, c.ID, "zrt_1", pair("3", exp))
	wantCode(t, "SaveToken from the replaced refresh token", err, onbehalf.ECONFLICT)
	_, err = st.SaveToken(ctx, c.ID, "zrt_2", onbehalf.Token{AccessToken: "zat_x", Expiry: exp})
	wantCode(t, "SaveToken without a refresh token", err, onbehalf.EINVALID)
	if got := read(t, st, c.ID); got.Token != pair("2", exp) {
		t.Fatalf("after refused writes: %+v", got.Token)
	}
	noEvents(t, st, seq, "SaveToken")

	if _, err := st.MarkDisconnected(ctx, c.ID, "zrt_2", "revoked"); err != nil {
		t.Fatal(err)
	}
	_, err = st.SaveToken(ctx, c.ID, "zrt_2", pair("3", exp))
	wantCode(t, "SaveToken on a disconnected connection", err, onbehalf.EDISCONNECTED)
	if got := read(t, st, c.ID); got.Connected() || got.Token.RefreshToken != "" {
		t.Fatalf("SaveToken revived a disconnected connection: %+v", got)
	}
	_, err = st.SaveToken(ctx, "AAAAAAAAAAAAAAAAAAAAAA", "zrt_1", pair("3", exp))
	wantCode(t, "SaveToken on an unknown connection", err, onbehalf.ENOTFOUND)
}

// testMarkDisconnectedCompareAndSwap: a connection is marked disconnected
// only for the refresh token that failed, once.
func testMarkDisconnectedCompareAndSwap(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	c := connect(t, st, grant(h, "zu1", "1"))
	seq := lastSeq(t, st)
	_, err := st.MarkDisconnected(ctx, c.ID, "zrt_other", "invalid_grant")
	wantCode(t, "MarkDisconnected from a wrong refresh token", err, onbehalf.ECONFLICT)
	if got := read(t, st, c.ID); !got.Connected() || got.Token != c.Token {
		t.Fatalf("a refused MarkDisconnected changed %+v", got)
	}
	noEvents(t, st, seq, "a refused MarkDisconnected")

	t1 := h.Clock.Advance(time.Minute)
	d, err := st.MarkDisconnected(ctx, c.ID, "zrt_1", "Zoom said invalid_grant.")
	if err != nil || d.State != onbehalf.StateDisconnected || d.Token != (onbehalf.Token{}) ||
		d.DisconnectedReason != "Zoom said invalid_grant." || !d.DisconnectedAt.Equal(t1) || d.ZoomUserID != "zu1" {
		t.Fatalf("MarkDisconnected: %+v %v", d, err)
	}
	if got := read(t, st, c.ID); got.Connected() || got.Token != (onbehalf.Token{}) || got.DisconnectedReason == "" {
		t.Fatalf("read back %+v", got)
	}
	ev := onlyEvent(t, st, seq, onbehalf.EventConnectionDisconnected)
	if dd := connData(t, ev); dd.ConnectionID != c.ID || dd.Reason != "Zoom said invalid_grant." || dd.State != onbehalf.StateDisconnected {
		t.Fatalf("disconnected data %+v", dd)
	}
	seq = lastSeq(t, st)
	again, err := st.MarkDisconnected(ctx, c.ID, "zrt_1", "again")
	if err != nil || again.State != onbehalf.StateDisconnected || again.DisconnectedReason != "Zoom said invalid_grant." {
		t.Fatalf("MarkDisconnected twice: %+v %v, want the connection as it is", again, err)
	}
	noEvents(t, st, seq, "a second MarkDisconnected")
	_, err = st.MarkDisconnected(ctx, "AAAAAAAAAAAAAAAAAAAAAA", "zrt_1", "x")
	wantCode(t, "MarkDisconnected on an unknown connection", err, onbehalf.ENOTFOUND)
}

// reconnectedMeanwhile sets up the reconnect-during-refresh races: a refresh read
// the connection (readByRefresh), then the user reconnected (fresh).
func reconnectedMeanwhile(t *testing.T, open func(*testing.T, Config) *Harness) (h *Harness, c, readByRefresh, fresh *onbehalf.Connection) {
	t.Helper()
	h = open(t, Config{})
	c = connect(t, h.Store, grant(h, "zu1", "1"))
	readByRefresh = read(t, h.Store, c.ID)
	fresh = connect(t, h.Store, grant(h, "zu1", "2"))
	return h, c, readByRefresh, fresh
}

// testRaceReconnectBeforeSaveToken is race A (reconnect before the save) at the store: a
// refresh read the connection, the user reconnected, then the refresh's
// late pair arrives. The reconnect's grant must survive.
func testRaceReconnectBeforeSaveToken(t *testing.T, open func(*testing.T, Config) *Harness) {
	h, c, readByRefresh, fresh := reconnectedMeanwhile(t, open)
	st := h.Store
	_, err := st.SaveToken(ctx, c.ID, readByRefresh.Token.RefreshToken, pair("late", h.Clock.Now().Add(time.Hour)))
	wantCode(t, "late SaveToken after a reconnect", err, onbehalf.ECONFLICT)
	if got := read(t, st, c.ID); got.Token != fresh.Token || !got.Connected() {
		t.Fatalf("the reconnect's pair was overwritten: %+v", got.Token)
	}
}

// testRaceReconnectBeforeMarkDisconnected is race B (reconnect before the mark): Zoom rejects
// the old refresh token after the user reconnected; the new grant stays.
func testRaceReconnectBeforeMarkDisconnected(t *testing.T, open func(*testing.T, Config) *Harness) {
	h, c, readByRefresh, fresh := reconnectedMeanwhile(t, open)
	st := h.Store
	seq := lastSeq(t, st)
	_, err := st.MarkDisconnected(ctx, c.ID, readByRefresh.Token.RefreshToken, "invalid_grant")
	wantCode(t, "stale MarkDisconnected after a reconnect", err, onbehalf.ECONFLICT)
	if got := read(t, st, c.ID); !got.Connected() || got.Token != fresh.Token {
		t.Fatalf("the reconnect's grant was wiped: %+v", got)
	}
	noEvents(t, st, seq, "a stale MarkDisconnected")
}

// testRaceDeleteBeforeSaveToken: a refresh finishing after a delete does
// not bring the connection back.
func testRaceDeleteBeforeSaveToken(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	c := connect(t, st, grant(h, "zu1", "1"))
	readByRefresh := read(t, st, c.ID)
	if _, err := st.DeleteConnection(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	_, err := st.SaveToken(ctx, c.ID, readByRefresh.Token.RefreshToken, pair("late", h.Clock.Now().Add(time.Hour)))
	wantCode(t, "SaveToken after delete", err, onbehalf.ENOTFOUND)
	_, err = st.Connection(ctx, c.ID)
	wantCode(t, "Connection after a late SaveToken", err, onbehalf.ENOTFOUND)
	_, err = st.ConnectionByZoomUser(ctx, "zu1")
	wantCode(t, "ConnectionByZoomUser after a late SaveToken", err, onbehalf.ENOTFOUND)
}

// testConcurrentSaveTokenOneWins: many pairs derived from one refresh
// token race; exactly one is written.
func testConcurrentSaveTokenOneWins(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	c := connect(t, st, grant(h, "zu1", "1"))
	exp := h.Clock.Now().Add(time.Hour)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var winners []string
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := string(rune('a' + i))
			_, err := st.SaveToken(ctx, c.ID, "zrt_1", pair(n, exp))
			if err == nil {
				mu.Lock()
				winners = append(winners, n)
				mu.Unlock()
			} else if onbehalf.ErrorCode(err) != onbehalf.ECONFLICT {
				t.Errorf("SaveToken %s: %v, want nil or ECONFLICT", n, err)
			}
		}()
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d concurrent SaveTokens from one refresh token won, want 1", len(winners))
	}
	if got := read(t, st, c.ID); got.Token != pair(winners[0], exp) {
		t.Fatalf("stored %+v, want the winner's pair %s", got.Token, winners[0])
	}
}
