package keepalive

import (
	"context"
	"log/slog"
	"time"
)

// The getters below apply the defaults of a Scheduler's fields.

func (s *Scheduler) sleep(ctx context.Context, d time.Duration) error {
	if s.Sleep != nil {
		return s.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheduler) margin() time.Duration {
	if s.Margin > 0 {
		return s.Margin
	}
	return DefaultMargin
}

// jitter returns the effective jitter: Jitter (default Margin/3), capped
// at Margin - InlineMargin.
func (s *Scheduler) jitter() time.Duration {
	m := s.margin()
	j := s.Jitter
	if j <= 0 {
		j = m / 3
	}
	return max(min(j, m-InlineMargin), 0)
}

func (s *Scheduler) concurrency() int {
	if s.Concurrency > 0 {
		return s.Concurrency
	}
	return DefaultConcurrency
}

func (s *Scheduler) rate() float64 {
	if s.Rate > 0 {
		return s.Rate
	}
	return DefaultRate
}

// burst is how many refreshes may start at once: at most Concurrency and
// at most one second's worth of Rate, at least one.
func (s *Scheduler) burst() int {
	return max(1, min(s.concurrency(), int(s.rate())))
}

func (s *Scheduler) batch() int {
	if s.Batch > 0 {
		return s.Batch
	}
	return DefaultBatch
}

func (s *Scheduler) maxPoll() time.Duration {
	if s.MaxPoll > 0 {
		return s.MaxPoll
	}
	return DefaultMaxPoll
}

func (s *Scheduler) maxBackoff() time.Duration {
	if s.MaxBackoff > 0 {
		return s.MaxBackoff
	}
	return DefaultMaxBackoff
}

func (s *Scheduler) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}
