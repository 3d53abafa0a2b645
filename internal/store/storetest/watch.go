package storetest

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// testEventSeqAndWatch: an event is found by its ID (a stream resuming
// after it), an unknown or pruned one is ENOTFOUND; the watcher is called
// once a write that wrote events has committed, whatever wrote them (a
// connection, a bot, AppendEvent), and not for a write without events.
func testEventSeqAndWatch(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	var calls atomic.Int64
	st.WatchEvents(func() { calls.Add(1) })
	wrote := func(what string, want bool) {
		t.Helper()
		if got := calls.Swap(0) > 0; got != want {
			t.Fatalf("%s: watcher called %v, want %v", what, got, want)
		}
	}
	c := connect(t, st, grant(h, "zu1", "1"))
	wrote("Connect", true)
	key := onbehalf.APIKey{ID: "key_watch", Name: "watch", Hash: []byte("0123456789abcdef0123456789abcdef"), Prefix: "obk_watch", CreatedAt: h.Clock.Now()}
	if err := st.CreateAPIKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	wrote("a write without events", false)
	if err := st.CreateBot(ctx, newBot(c.ID, "rb-1")); err != nil {
		t.Fatal(err)
	}
	wrote("CreateBot", true)
	if err := st.AppendEvent(ctx, onbehalf.NewEvent(onbehalf.EventConnectionRecovered, h.Clock.Now(), onbehalf.ConnectionEventData{ConnectionID: c.ID})); err != nil {
		t.Fatal(err)
	}
	wrote("AppendEvent", true)
	if _, err := st.DeleteConnection(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	wrote("DeleteConnection", true)

	evs := eventsSince(t, st, 0)
	for _, ev := range evs {
		if seq, err := st.EventSeq(ctx, ev.ID); err != nil || seq != ev.Seq {
			t.Fatalf("EventSeq(%s) = %d %v, want %d", ev.ID, seq, err, ev.Seq)
		}
	}
	if _, err := st.EventSeq(ctx, "evt_unknown"); onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND {
		t.Fatalf("EventSeq of an unknown event: %v, want ENOTFOUND", err)
	}
	if _, err := st.PruneEvents(ctx, h.Clock.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.EventSeq(ctx, evs[0].ID); onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND {
		t.Fatalf("EventSeq of a pruned event: %v, want ENOTFOUND", err)
	}
	st.WatchEvents(nil)
	connect(t, st, grant(h, "zu2", "2"))
	wrote("after WatchEvents(nil)", false)
}
