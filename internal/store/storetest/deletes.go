package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// testDeleteConnection: the old record comes back with its tokens, every
// trace goes, and connection.deleted is written once.
func testDeleteConnection(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	a := grant(h, "zu1", "1")
	a.ExternalUserID = "X"
	c := connect(t, st, a)
	keep := connect(t, st, grant(h, "zu2", "2"))
	seq := lastSeq(t, st)
	old, err := st.DeleteConnection(ctx, c.ID)
	if err != nil || old.ID != c.ID || old.Token != c.Token || old.ZoomUserID != "zu1" {
		t.Fatalf("DeleteConnection: %+v %v, want the record with its tokens", old, err)
	}
	d := connData(t, onlyEvent(t, st, seq, onbehalf.EventConnectionDeleted))
	if d.ConnectionID != c.ID || d.ExternalUserID != "X" {
		t.Fatalf("deleted data %+v", d)
	}
	checkGone(t, h, c, "zu1", "X", keep)

	seq = lastSeq(t, st)
	_, err = st.DeleteConnection(ctx, c.ID)
	wantCode(t, "second DeleteConnection", err, onbehalf.ENOTFOUND)
	noEvents(t, st, seq, "a failed delete")
	again, created, err := st.Connect(ctx, grant(h, "zu1", "3"))
	if err != nil || !created || again.ID == c.ID {
		t.Fatalf("Connect after delete: %+v created=%v %v, want a new connection", again, created, err)
	}
}

// checkGone checks that a deleted connection is in no lookup, listing or
// due list any more, and that keep still is.
func checkGone(t *testing.T, h *Harness, c *onbehalf.Connection, zu, ext string, keep *onbehalf.Connection) {
	t.Helper()
	st := h.Store
	_, err := st.Connection(ctx, c.ID)
	wantCode(t, "Connection after delete", err, onbehalf.ENOTFOUND)
	_, err = st.ConnectionByZoomUser(ctx, zu)
	wantCode(t, "ConnectionByZoomUser after delete", err, onbehalf.ENOTFOUND)
	for _, f := range []onbehalf.ConnectionFilter{{}, {ExternalUserID: ext}, {ZoomUserID: zu}, {State: onbehalf.StateConnected}} {
		got, _, err := st.ListConnections(ctx, f)
		if err != nil || strings.Contains(ids(got), c.ID) {
			t.Fatalf("ListConnections(%+v) after delete: %s %v", f, ids(got), err)
		}
	}
	due, err := st.DueBefore(ctx, h.Clock.Now().Add(24*time.Hour), 100)
	if err != nil || len(due) != 1 || due[0].ConnID != keep.ID {
		t.Fatalf("due after delete: %+v %v, want only %s", due, err, keep.ID)
	}
}

// testDeleteByZoomUser: deauthorization deletes as DeleteConnection does.
func testDeleteByZoomUser(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	c := connect(t, st, grant(h, "zu1", "1"))
	keep := connect(t, st, grant(h, "zu2", "2"))
	seq := lastSeq(t, st)
	old, err := st.DeleteByZoomUser(ctx, "zu1", time.Time{})
	if err != nil || old.ID != c.ID || old.Token.RefreshToken != "zrt_1" {
		t.Fatalf("DeleteByZoomUser: %+v %v", old, err)
	}
	onlyEvent(t, st, seq, onbehalf.EventConnectionDeleted)
	checkGone(t, h, c, "zu1", "none", keep)
	_, err = st.DeleteByZoomUser(ctx, "zu1", time.Time{})
	wantCode(t, "second DeleteByZoomUser", err, onbehalf.ENOTFOUND)
}

// testDueBefore: soonest first, bounded, following refreshes and
// disconnects.
func testDueBefore(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	base := h.Clock.Now()
	mk := func(zu string, in time.Duration) *onbehalf.Connection {
		return connect(t, st, onbehalf.Authorization{User: zoomUser(zu), Token: pair(zu, base.Add(in))})
	}
	late, soon, mid := mk("late", 50*time.Minute), mk("soon", 5*time.Minute), mk("mid", 20*time.Minute)
	due, err := st.DueBefore(ctx, base.Add(30*time.Minute), 10)
	if err != nil || len(due) != 2 || due[0].ConnID != soon.ID || due[1].ConnID != mid.ID || !due[0].Expiry.Equal(base.Add(5*time.Minute)) {
		t.Fatalf("due = %+v %v", due, err)
	}
	if due, _ := st.DueBefore(ctx, base.Add(30*time.Minute), 1); len(due) != 1 || due[0].ConnID != soon.ID {
		t.Fatalf("limit 1: %+v", due)
	}
	if _, err := st.SaveToken(ctx, soon.ID, "zrt_soon", pair("soon2", base.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if _, err := st.MarkDisconnected(ctx, mid.ID, "zrt_mid", "revoked"); err != nil {
		t.Fatal(err)
	}
	if due, _ := st.DueBefore(ctx, base.Add(55*time.Minute), 10); len(due) != 1 || due[0].ConnID != late.ID {
		t.Fatalf("after refresh and disconnect: %+v", due)
	}
	if due, _ := st.DueBefore(ctx, base.Add(2*time.Hour), 0); len(due) != 0 {
		t.Fatalf("limit 0: %+v", due)
	}
}
