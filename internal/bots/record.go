package bots

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Recording of token fetches: the token handler hands each fetch over
// without waiting; a background loop writes them in batches (one store
// transaction per batch: bot timelines, token.failed events, the
// connections' last mint). A crash loses at most the last batch of
// timeline entries, never a token or a connection.
const (
	// recordQueue bounds the fetches waiting to be written; past it they
	// are dropped (and counted), so a slow disk never slows a callback.
	recordQueue = 10_000
	// recordBatch is the most fetches written in one transaction.
	recordBatch = 2048
	// recordEvery is how long a fetch waits at most before its batch is
	// written.
	recordEvery = 250 * time.Millisecond
)

// recorder queues fetches for Run. A fetch is appended under a mutex, not
// sent on a channel: a channel would wake Run once per callback, which
// costs the hot path a goroutine switch; Run wakes on its ticker, or once
// when a batch is full.
type recorder struct {
	mu      sync.Mutex
	queue   []onbehalf.TokenFetch
	full    chan struct{} // signalled once when the queue reaches a batch
	dropped atomic.Int64
}

func (s *Service) recorder() *recorder {
	if s.rec == nil {
		panic("bots: Service used before Start")
	}
	return s.rec
}

// Start prepares the service's queues; call it once before serving.
func (s *Service) Start() {
	s.rec = &recorder{full: make(chan struct{}, 1)}
}

// Record queues a token fetch for the bot's timeline and the token.failed
// event; it never blocks (tokenserve.Recorder).
func (s *Service) Record(f onbehalf.TokenFetch) {
	r := s.recorder()
	r.mu.Lock()
	n := len(r.queue)
	if n < recordQueue {
		r.queue = append(r.queue, f)
	}
	r.mu.Unlock()
	switch {
	case n >= recordQueue:
		if r.dropped.Add(1)%1000 == 1 {
			s.logger().Warn("token fetch records dropped: the store is not keeping up", "dropped", r.dropped.Load())
		}
	case n+1 == recordBatch:
		select {
		case r.full <- struct{}{}:
		default:
		}
	}
}

// Dropped returns how many fetch records were dropped since start.
func (s *Service) Dropped() int64 { return s.recorder().dropped.Load() }

// Run writes queued fetches until ctx ends, then writes what is left.
func (s *Service) Run(ctx context.Context) {
	r := s.recorder()
	t := time.NewTicker(recordEvery)
	defer t.Stop()
	var spare []onbehalf.TokenFetch
	flush := func() {
		r.mu.Lock()
		queued := r.queue
		r.queue = spare[:0]
		r.mu.Unlock()
		for batch := queued; len(batch) > 0; {
			n := min(len(batch), recordBatch)
			s.write(context.WithoutCancel(ctx), batch[:n])
			batch = batch[n:]
		}
		clear(queued) // drop the strings it holds until it is refilled
		spare = queued[:0]
	}
	for {
		select {
		case <-r.full:
			flush()
		case <-t.C:
			flush()
		case <-ctx.Done():
			flush()
			return
		}
	}
}

// write stores one batch: the fetches, and each connection's last mint.
func (s *Service) write(ctx context.Context, batch []onbehalf.TokenFetch) {
	minted := map[string]time.Time{}
	for _, f := range batch {
		if f.HTTPStatus/100 == 2 && f.At.After(minted[f.ConnectionID]) {
			minted[f.ConnectionID] = f.At
		}
	}
	if err := s.Store.RecordTokenFetches(ctx, batch); err != nil {
		s.logger().Warn("recording token fetches failed", "fetches", len(batch), "err", err)
	} else {
		s.notify()
	}
	if len(minted) > 0 {
		if err := s.Store.NoteMinted(ctx, minted); err != nil {
			s.logger().Warn("recording last mints failed", "err", err)
		}
	}
}
