package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// testEventsRecordChanges: every change the product hears about writes
// its event with the change; events have unique IDs, increasing Seqs, the
// store's time, and never a token.
func testEventsRecordChanges(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	c := connect(t, st, grant(h, "zu1", "1"))
	h.Clock.Advance(time.Second)
	connect(t, st, grant(h, "zu1", "2"))
	h.Clock.Advance(time.Second)
	if _, err := st.SaveToken(ctx, c.ID, "zrt_2", pair("3", h.Clock.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if _, err := st.MarkDisconnected(ctx, c.ID, "zrt_3", "revoked"); err != nil {
		t.Fatal(err)
	}
	b := newBot(c.ID, "rb-1")
	if err := st.CreateBot(ctx, b); err != nil {
		t.Fatal(err)
	}
	h.Clock.Advance(time.Second)
	if _, _, err := st.ApplyStatus(ctx, report("rb-1", "e1", onbehalf.BotJoining, h.Clock.Now())); err != nil {
		t.Fatal(err)
	}
	fetch := onbehalf.TokenFetch{ConnectionID: c.ID, BotID: b.ID, Platform: "recall", Kind: onbehalf.KindOBF, HTTPStatus: 409, Message: "reconnect"}
	if err := st.RecordTokenFetches(ctx, []onbehalf.TokenFetch{fetch}); err != nil {
		t.Fatal(err)
	}
	tDelete := h.Clock.Advance(time.Second)
	if _, err := st.DeleteConnection(ctx, c.ID); err != nil {
		t.Fatal(err)
	}

	evs := eventsSince(t, st, 0)
	want := []string{onbehalf.EventConnectionCreated, onbehalf.EventConnectionReconnected, onbehalf.EventConnectionDisconnected,
		onbehalf.EventBotCreated, onbehalf.EventBotStatusChanged, onbehalf.EventTokenFailed, onbehalf.EventConnectionDeleted}
	if eventTypes(evs) != "["+strings.Join(want, " ")+"]" {
		t.Fatalf("events %s, want %v", eventTypes(evs), want)
	}
	seen := map[string]bool{}
	for i, ev := range evs {
		if !strings.HasPrefix(ev.ID, "evt_") || len(ev.ID) < 20 || seen[ev.ID] {
			t.Fatalf("event %d ID %q: want a unique evt_ ID", i, ev.ID)
		}
		seen[ev.ID] = true
		if i > 0 && ev.Seq <= evs[i-1].Seq {
			t.Fatalf("Seq %d after %d: want strictly increasing", ev.Seq, evs[i-1].Seq)
		}
		if strings.Contains(string(ev.Data), "zat_") || strings.Contains(string(ev.Data), "zrt_") {
			t.Fatalf("event %s holds a token: %s", ev.Type, ev.Data)
		}
		if !strings.Contains(string(ev.Data), `"connection_id":"`+c.ID+`"`) {
			t.Fatalf("event %s does not name the connection: %s", ev.Type, ev.Data)
		}
	}
	if !evs[6].Time.Equal(tDelete) {
		t.Fatalf("connection.deleted at %v, want the store's clock %v", evs[6].Time, tDelete)
	}
	if d := botData(t, evs[4]); d.BotID != b.ID || d.Status != onbehalf.BotJoining || d.Previous != onbehalf.BotCreated {
		t.Fatalf("bot.status_changed data %+v", d)
	}
	if d := botData(t, evs[5]); d.BotID != b.ID || d.Kind != onbehalf.KindOBF || d.HTTPStatus != 409 || d.Reason != "reconnect" {
		t.Fatalf("token.failed data %+v", d)
	}
	if last := lastSeq(t, st); last != evs[6].Seq {
		t.Fatalf("LastEventSeq %d, want %d", last, evs[6].Seq)
	}
}

// testEventsAfterPages: EventsAfter resumes after a Seq and honours its
// limit (the SSE stream's Last-Event-ID).
func testEventsAfterPages(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	if lastSeq(t, st) != 0 {
		t.Fatal("LastEventSeq of an empty store is not 0")
	}
	for _, zu := range []string{"zu1", "zu2", "zu3", "zu4"} {
		connect(t, st, grant(h, zu, zu))
	}
	all := eventsSince(t, st, 0)
	if len(all) != 4 {
		t.Fatalf("%d events, want 4", len(all))
	}
	got, err := st.EventsAfter(ctx, all[1].Seq, 1)
	if err != nil || len(got) != 1 || got[0].ID != all[2].ID || string(got[0].Data) != string(all[2].Data) {
		t.Fatalf("EventsAfter(%d, 1) = %+v %v, want the third event", all[1].Seq, got, err)
	}
	if got := eventsSince(t, st, all[3].Seq); len(got) != 0 {
		t.Fatalf("after the last: %s", eventTypes(got))
	}
}

// testDeliveriesClaimRetryDone: due events are claimed in Seq order and
// leased; a failure reschedules; done ends it; a lease that runs out makes
// the event due again.
func testDeliveriesClaimRetryDone(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{DeliverEvents: true})
	st := h.Store
	for _, zu := range []string{"zu1", "zu2", "zu3"} {
		connect(t, st, grant(h, zu, zu))
	}
	evs := eventsSince(t, st, 0)
	pending(t, st, 3)
	t0 := h.Clock.Now()
	claim := func(limit int, want ...onbehalf.Event) []onbehalf.Delivery {
		t.Helper()
		ds, err := st.ClaimDeliveries(ctx, h.Clock.Now(), 30*time.Second, limit)
		if err != nil {
			t.Fatal(err)
		}
		var got, exp []string
		for _, d := range ds {
			got = append(got, d.Event.ID)
		}
		for _, e := range want {
			exp = append(exp, e.ID)
		}
		if strings.Join(got, ",") != strings.Join(exp, ",") {
			t.Fatalf("claimed %v, want %v", got, exp)
		}
		return ds
	}
	ds := claim(2, evs[0], evs[1])
	if ds[0].Attempts != 0 || !ds[0].FirstTried.IsZero() || ds[0].Event.Type != onbehalf.EventConnectionCreated || string(ds[0].Event.Data) != string(evs[0].Data) {
		t.Fatalf("first delivery %+v", ds[0])
	}
	claim(10, evs[2])
	claim(10) // all leased

	if err := st.DeliveryDone(ctx, evs[0].ID, t0); err != nil {
		t.Fatal(err)
	}
	pending(t, st, 2)
	if err := st.DeliveryFailed(ctx, evs[1].ID, t0, t0.Add(5*time.Second), "HTTP 500"); err != nil {
		t.Fatal(err)
	}
	h.Clock.Advance(4 * time.Second)
	claim(10) // not due yet
	h.Clock.Advance(time.Second)
	ds = claim(10, evs[1])
	if ds[0].Attempts != 1 || !ds[0].FirstTried.Equal(t0) {
		t.Fatalf("retried delivery %+v, want 1 attempt first tried at %v", ds[0], t0)
	}
	h.Clock.Set(t0.Add(30 * time.Second))
	claim(10, evs[2]) // its lease ran out: due again
	h.Clock.Set(t0.Add(35 * time.Second))
	claim(10, evs[1])
	if err := st.DeliveryFailed(ctx, evs[1].ID, h.Clock.Now(), h.Clock.Now(), "timeout"); err != nil {
		t.Fatal(err)
	}
	ds = claim(10, evs[1])
	if ds[0].Attempts != 2 || !ds[0].FirstTried.Equal(t0) {
		t.Fatalf("second retry %+v, want 2 attempts, first tried kept", ds[0])
	}
	for _, e := range evs[1:] {
		if err := st.DeliveryDone(ctx, e.ID, h.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	pending(t, st, 0)
	h.Clock.Advance(time.Hour)
	claim(10)

	// Over is over: a late done or failure from a deliverer whose lease
	// ran out changes nothing.
	if err := st.DeliveryDone(ctx, evs[0].ID, h.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := st.DeliveryFailed(ctx, evs[0].ID, h.Clock.Now(), h.Clock.Now(), "late"); err != nil {
		t.Fatal(err)
	}
	pending(t, st, 0)
	claim(10)
	wantCode(t, "DeliveryDone(unknown)", st.DeliveryDone(ctx, "evt_unknown", t0), onbehalf.ENOTFOUND)
	wantCode(t, "DeliveryFailed(unknown)", st.DeliveryFailed(ctx, "evt_unknown", t0, t0, "x"), onbehalf.ENOTFOUND)
	if ds, err := st.ClaimDeliveries(ctx, h.Clock.Now(), time.Second, 0); err != nil || len(ds) != 0 {
		t.Fatalf("limit 0: %v %v", ds, err)
	}
}

// pending checks PendingDeliveries.
func pending(t *testing.T, st onbehalf.Store, want int) {
	t.Helper()
	if n, err := st.PendingDeliveries(ctx); err != nil || n != want {
		t.Fatalf("PendingDeliveries = %d %v, want %d", n, err, want)
	}
}

// testDeliveriesOff: without a receiver, events are logged, not queued.
func testDeliveriesOff(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{DeliverEvents: false})
	connect(t, h.Store, grant(h, "zu1", "1"))
	if len(eventsSince(t, h.Store, 0)) != 1 {
		t.Fatal("the event was not logged")
	}
	pending(t, h.Store, 0)
	if ds, err := h.Store.ClaimDeliveries(ctx, h.Clock.Now().Add(time.Hour), time.Minute, 10); err != nil || len(ds) != 0 {
		t.Fatalf("claimed %d deliveries (%v) with delivery off", len(ds), err)
	}
}

// testPruneEvents: old events whose delivery is over go; pending and
// newer ones stay.
func testPruneEvents(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{DeliverEvents: true})
	st := h.Store
	t0 := h.Clock.Now()
	connect(t, st, grant(h, "zu1", "1"))
	connect(t, st, grant(h, "zu2", "2"))
	h.Clock.Advance(time.Hour)
	connect(t, st, grant(h, "zu3", "3"))
	evs := eventsSince(t, st, 0)
	for _, i := range []int{0, 2} {
		if err := st.DeliveryDone(ctx, evs[i].ID, h.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	prune := func(before time.Time, want int) {
		t.Helper()
		if n, err := st.PruneEvents(ctx, before); err != nil || n != want {
			t.Fatalf("PruneEvents(%v) = %d %v, want %d", before, n, err, want)
		}
	}
	prune(t0.Add(30*time.Minute), 1) // the first; the second is pending
	if got := eventsSince(t, st, 0); len(got) != 2 || got[0].ID != evs[1].ID || got[1].ID != evs[2].ID {
		t.Fatalf("after prune: %v", got)
	}
	pending(t, st, 1)
	prune(t0.Add(30*time.Minute), 0)
	if err := st.DeliveryDone(ctx, evs[1].ID, h.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	prune(t0.Add(30*time.Minute), 1)
	prune(h.Clock.Now().Add(time.Second), 1)
	if got := eventsSince(t, st, 0); len(got) != 0 {
		t.Fatalf("after pruning everything: %s", eventTypes(got))
	}
	c := connect(t, st, grant(h, "zu4", "4"))
	if got := eventsSince(t, st, evs[2].Seq); len(got) != 1 || connData(t, got[0]).ConnectionID != c.ID {
		t.Fatalf("a new event after pruning: %v (Seq must keep growing)", got)
	}
}
