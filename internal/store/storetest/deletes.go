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
