package storetest

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// testAppendEvent: an event that goes with no stored change
// (connection.recovered) lands in the outbox like any other: after the
// events before it, with its own ID, its data and time kept (a zero time
// is the store's now), pending delivery at once; a store that cannot
// write says ESTORAGE and writes nothing.
func testAppendEvent(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{DeliverEvents: true})
	st := h.Store
	c := connect(t, st, grant(h, "zu1", "1"))
	seq := lastSeq(t, st)
	at := h.Clock.Advance(time.Second)
	data := json.RawMessage(`{"connection_id":"` + c.ID + `","reason":"works again"}`)
	if err := st.AppendEvent(ctx, onbehalf.Event{Type: onbehalf.EventConnectionRecovered, Time: at, Data: data}); err != nil {
		t.Fatal(err)
	}
	h.Clock.Advance(time.Second)
	if err := st.AppendEvent(ctx, onbehalf.Event{Type: onbehalf.EventConnectionRecovered}); err != nil {
		t.Fatal(err)
	}
	evs := eventsSince(t, st, seq)
	if len(evs) != 2 || evs[0].Type != onbehalf.EventConnectionRecovered || evs[0].Seq <= seq || evs[1].Seq <= evs[0].Seq {
		t.Fatalf("events after %d: %s", seq, eventTypes(evs))
	}
	if !strings.HasPrefix(evs[0].ID, "evt_") || evs[0].ID == evs[1].ID {
		t.Fatalf("IDs %q %q: want unique evt_ IDs", evs[0].ID, evs[1].ID)
	}
	var got, want map[string]any
	if err := json.Unmarshal(evs[0].Data, &got); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(data, &want)
	if got["connection_id"] != want["connection_id"] || got["reason"] != want["reason"] {
		t.Fatalf("data %s, want %s", evs[0].Data, data)
	}
	if !evs[0].Time.Equal(at) || !evs[1].Time.Equal(h.Clock.Now()) {
		t.Fatalf("times %v %v, want %v and the store's now %v", evs[0].Time, evs[1].Time, at, h.Clock.Now())
	}
	if string(evs[1].Data) != "{}" {
		t.Fatalf("no data stored as %s, want {}", evs[1].Data)
	}
	pending(t, st, 3) // connection.created and the two
	if last := lastSeq(t, st); last != evs[1].Seq {
		t.Fatalf("LastEventSeq %d, want %d", last, evs[1].Seq)
	}

	seq = lastSeq(t, st)
	h.FailWrites(syscall.ENOSPC)
	err := st.AppendEvent(ctx, onbehalf.Event{Type: onbehalf.EventConnectionRecovered})
	wantCode(t, "AppendEvent while writes fail", err, onbehalf.ESTORAGE)
	h.FailWrites(nil)
	noEvents(t, st, seq, "a failed AppendEvent")
}
