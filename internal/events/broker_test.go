package events

import (
	"context"
	"testing"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// collect reads n events from s.
func collect(t *testing.T, s *Subscription, n int) []onbehalf.Event {
	t.Helper()
	var out []onbehalf.Event
	for len(out) < n {
		evs, err := s.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, evs...)
	}
	if len(out) != n {
		t.Fatalf("got %d events, want %d", len(out), n)
	}
	return out
}

// sameSeqs checks that got holds want's events, in order, once each.
func sameSeqs(t *testing.T, got, want []onbehalf.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Seq != want[i].Seq || got[i].ID != want[i].ID {
			t.Fatalf("event %d: Seq %d, want %d", i, got[i].Seq, want[i].Seq)
		}
	}
}

// A subscriber that does not read falls behind without holding up the
// others, and then reads the store from its cursor: every event, in
// order, once.
func TestSlowSubscriberResumesFromStore(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, nil)
	b := NewBroker(st, BrokerOptions{Buffer: 5, Page: 3, Logger: discard()})
	defer b.Close()
	if err := b.poll(ctx); err != nil {
		t.Fatal(err)
	}
	fast, err := b.Subscribe(ctx, "k", FromNow, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	slow, err := b.Subscribe(ctx, "k", FromNow, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	mine, err := b.Subscribe(ctx, "other", FromNow, Filter{ConnectionID: "conn-b"})
	if err != nil {
		t.Fatal(err)
	}
	defer mine.Close()

	var all, bs []onbehalf.Event
	for round := range 4 {
		evs := writeEvents(t, st, "conn-a", 4)
		evB := writeEvents(t, st, "conn-b", 1)
		all, bs = append(append(all, evs...), evB...), append(bs, evB...)
		if err := b.poll(ctx); err != nil {
			t.Fatal(err)
		}
		// The fast one keeps up, round after round.
		sameSeqs(t, collect(t, fast, 5), append(evs, evB...))
		if round == 1 {
			sameSeqs(t, collect(t, slow, 10), all[:10])
		}
	}
	sameSeqs(t, collect(t, slow, 10), all[10:])
	sameSeqs(t, collect(t, mine, 4), bs)
	if slow.Cursor() != all[len(all)-1].Seq || mine.Cursor() != all[len(all)-1].Seq {
		t.Errorf("cursors %d, %d; want %d", slow.Cursor(), mine.Cursor(), all[len(all)-1].Seq)
	}
}

// Subscribe counts per key and overall; Close frees the place; after the
// Broker's Close nothing subscribes and Next ends.
func TestSubscribeBounds(t *testing.T) {
	ctx := context.Background()
	b := NewBroker(newStore(t, nil), BrokerOptions{MaxStreams: 2, MaxPerKey: 1})
	s1, err := b.Subscribe(ctx, "a", FromNow, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Subscribe(ctx, "a", FromNow, Filter{}); onbehalf.HTTPStatus(err) != 429 {
		t.Errorf("per key: %v", err)
	}
	s2, _ := b.Subscribe(ctx, "b", FromNow, Filter{})
	if _, err := b.Subscribe(ctx, "c", FromNow, Filter{}); onbehalf.HTTPStatus(err) != 429 {
		t.Errorf("overall: %v", err)
	}
	s1.Close()
	s1.Close()
	s1, err = b.Subscribe(ctx, "a", FromNow, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if _, err := s2.Next(ctx); onbehalf.ErrorCode(err) != onbehalf.EUNAVAILABLE {
		t.Errorf("Next after Close: %v", err)
	}
	if _, err := b.Subscribe(ctx, "d", FromNow, Filter{}); onbehalf.ErrorCode(err) != onbehalf.EUNAVAILABLE {
		t.Errorf("Subscribe after Close: %v", err)
	}
	s1.Close()
	s2.Close()
	if b.count() != 0 {
		t.Errorf("%d left", b.count())
	}
}

// BenchmarkFan measures handing one new event to 1000 streams (half of
// them filtered by connection) and their taking it.
func BenchmarkFan(b *testing.B) {
	ctx := context.Background()
	st := newStore(b, nil)
	br := NewBroker(st, BrokerOptions{MaxStreams: 2000, MaxPerKey: 2000, Logger: discard()})
	var subs []*Subscription
	for i := range 1000 {
		f := Filter{}
		if i%2 == 0 {
			f.ConnectionID = "conn-1"
		}
		s, err := br.Subscribe(ctx, "k", FromNow, f)
		if err != nil {
			b.Fatal(err)
		}
		s.take(ctx) // caught up: live from now on
		subs = append(subs, s)
	}
	ev := onbehalf.Event{ID: "evt_x", Type: onbehalf.EventBotCreated, Data: []byte(`{"connection_id":"conn-1","bot_id":"b"}`)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		ev.Seq = int64(i + 1)
		br.fan([]onbehalf.Event{ev})
		for _, s := range subs {
			s.take(ctx)
		}
	}
}
