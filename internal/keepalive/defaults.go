package keepalive

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
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

func (s *Scheduler) idle() time.Duration {
	if s.Idle > 0 {
		return min(s.Idle, MaxIdle)
	}
	return DefaultIdle
}

// EffectiveJitter returns the jitter window the scheduler uses: Jitter
// with its default and caps applied.
func (s *Scheduler) EffectiveJitter() time.Duration { return s.jitter() }

// jitter returns the effective jitter: Jitter (default Idle/24), at most
// Idle/2, and at most Lead - InlineMargin when the lead exceeds the
// inline margin (connections due before their token expires are due
// before callbacks refresh inline).
func (s *Scheduler) jitter() time.Duration {
	idle := s.idle()
	j := s.Jitter
	if j <= 0 {
		j = idle / 24
	}
	j = min(j, idle/2)
	if lead := s.Lead(); lead > InlineMargin {
		j = min(j, lead-InlineMargin)
	}
	return max(j, 0)
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

// claim is Claim, or DefaultClaim stretched so that a claim outlasts a
// pass at a low Rate (Batch refreshes take Batch/Rate) and the next poll.
func (s *Scheduler) claim() time.Duration {
	if s.Claim > 0 {
		return s.Claim
	}
	pass := time.Duration(float64(s.batch()) / s.rate() * float64(time.Second))
	return max(DefaultClaim, pass+pass/2+s.maxPoll())
}

// ownerName returns Owner or, when empty, a name made once: host, process
// and a random part, so that an operator can tell whose claims they see.
// s.passMu is held.
func (s *Scheduler) ownerName() string {
	if s.owner == "" {
		host, _ := os.Hostname()
		s.owner = cmp.Or(s.Owner, fmt.Sprintf("%s-%d-%s", host, os.Getpid(), rand.Text()[:6]))
	}
	return s.owner
}
