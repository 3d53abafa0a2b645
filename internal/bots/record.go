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
	recordBatch = 512
	// recordEvery is how long a fetch waits at most before its batch is
	// written.
	recordEvery = 250 * time.Millisecond
)

// recorder queues fetches for Run.
type recorder struct {
	ch      chan onbehalf.TokenFetch
	dropped atomic.Int64
	once    sync.Once
}

func (s *Service) recorder() *recorder {
	if s.rec == nil {
		panic("bots: Service used before Start")
	}
	return s.rec
}

// Start prepares the service's queues; call it once before serving.
func (s *Service) Start() {
	s.rec = &recorder{ch: make(chan onbehalf.TokenFetch, recordQueue)}
}

// Record queues a token fetch for the bot's timeline and the token.failed
// event; it never blocks (tokenserve.Recorder).
func (s *Service) Record(f onbehalf.TokenFetch) {
	r := s.recorder()
	select {
	case r.ch <- f:
	default:
		if r.dropped.Add(1)%1000 == 1 {
			s.logger().Warn("token fetch records dropped: the store is not keeping up", "dropped", r.dropped.Load())
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
	var batch []onbehalf.TokenFetch
	flush := func() {
		if len(batch) > 0 {
			s.write(context.WithoutCancel(ctx), batch)
			batch = batch[:0]
		}
	}
	for {
		select {
		case f := <-r.ch:
			batch = append(batch, f)
			if len(batch) >= recordBatch {
				flush()
			}
		case <-t.C:
			flush()
		case <-ctx.Done():
			for {
				select {
				case f := <-r.ch:
					batch = append(batch, f)
				default:
					flush()
					return
				}
			}
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
