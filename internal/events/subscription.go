package events

import (
	"context"
	"sync"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Subscription is one subscriber's view of the event log: the events
// after its cursor that its filter selects, in Seq order, each once.
//
// It has two modes. Live, the Broker queues new events for it (at most
// Buffer). Lagging (at the start, and whenever the queue overflowed), the
// Broker queues nothing and the subscription reads the store after its
// cursor, a page at a time, until it has caught up; then it is live
// again. So a slow subscriber costs the others nothing and loses nothing
// (as long as the events are still in the store), and the events read
// twice while switching are dropped by Seq.
type Subscription struct {
	b      *Broker
	key    string
	filter Filter
	wake   chan struct{} // something to take
	done   chan struct{} // closed by Close
	close  sync.Once

	cursor int64 // the newest Seq handed out or skipped; owned by the reader

	mu      sync.Mutex
	lagged  bool             // read the store after cursor; the queue is off
	pending []onbehalf.Event // live events the filter selected, Seq order
	head    int64            // the newest Seq offered while live
}

// offer queues the events of evs that the filter selects (conns holds
// their connection IDs); an overflow switches the subscription to
// reading the store.
func (s *Subscription) offer(evs []onbehalf.Event, conns []string) {
	s.mu.Lock()
	if s.lagged {
		s.mu.Unlock()
		return
	}
	queued := false
	for i, ev := range evs {
		if !s.filter.match(ev.Type, conns[i]) {
			continue
		}
		if len(s.pending) >= s.b.opts.Buffer {
			s.lagged, s.pending, queued = true, nil, true
			break
		}
		s.pending, queued = append(s.pending, ev), true
	}
	if !s.lagged {
		s.head = evs[len(evs)-1].Seq
	}
	s.mu.Unlock()
	if queued {
		signal(s.wake)
	}
}

// take returns the events to hand out now (possibly none) and moves the
// cursor past them and past the events the filter skipped. Only the
// reader calls it.
func (s *Subscription) take(ctx context.Context) ([]onbehalf.Event, error) {
	s.mu.Lock()
	if !s.lagged {
		pending, head := s.pending, s.head
		s.pending = nil
		s.mu.Unlock()
		var out []onbehalf.Event
		for _, ev := range pending {
			if ev.Seq > s.cursor {
				out = append(out, ev)
			}
		}
		s.cursor = max(s.cursor, head)
		return out, nil
	}
	// Go live before reading: the events the Broker queues from now on
	// are either in this read or after it.
	s.lagged, s.pending, s.head = false, nil, 0
	s.mu.Unlock()
	page := s.b.opts.Page
	evs, err := s.b.store.EventsAfter(ctx, s.cursor, page)
	if err != nil || len(evs) == page {
		// Not caught up (or the read failed): keep reading the store.
		s.mu.Lock()
		s.lagged, s.pending = true, nil
		s.mu.Unlock()
		signal(s.wake)
	}
	if err != nil {
		return nil, err
	}
	var out []onbehalf.Event
	for _, ev := range evs {
		if ev.Seq > s.cursor && s.filter.Match(ev) {
			out = append(out, ev)
		}
		s.cursor = max(s.cursor, ev.Seq)
	}
	return out, nil
}

// Next waits for the next events and returns them (at least one), in Seq
// order. It fails with ctx's error when ctx ends, EUNAVAILABLE when the
// subscription or its Broker is closed, or the store's error.
func (s *Subscription) Next(ctx context.Context) ([]onbehalf.Event, error) {
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.done:
			return nil, errShutdown()
		case <-s.b.done:
			return nil, errShutdown()
		case <-s.wake:
		}
		evs, err := s.take(ctx)
		if err != nil || len(evs) > 0 {
			return evs, err
		}
	}
}

// Cursor returns the Seq the subscription has read up to: resuming after
// it misses nothing the filter selects. Only the reader may call it.
func (s *Subscription) Cursor() int64 { return s.cursor }

// Close ends the subscription and frees its place under the bounds. It
// may be called more than once.
func (s *Subscription) Close() {
	s.close.Do(func() {
		s.b.unsubscribe(s)
		close(s.done)
	})
}
