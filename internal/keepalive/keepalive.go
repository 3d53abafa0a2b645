// Package keepalive is the background refresher: one scheduler for all
// connections that refreshes a connection nobody fetched a token for at
// most once per Idle (KEEPALIVE_IDLE, default 24 h), so that its grant
// never dies of disuse and a dead grant is found within a day.
//
// It refreshes on use, not on the clock. Zoom's Marketplace security
// requirements ask apps to avoid frequent requests for OAuth tokens and to
// reuse an access token until it expires, and every rotation of a refresh
// token is the one moment a connection can be lost. So an access token is
// left to expire: the token callbacks refresh inline when the token they
// need expires within the inline margin (tokens.DefaultMargin), and a
// connection in use is refreshed that way, about once an hour while it is
// used, never by the scheduler (its expiry keeps moving, so it never falls
// due). Only a connection that nobody used for Idle is refreshed here.
//
// Why not keep connections in use warm (refresh them before expiry while
// they are used, so the next fetch does not wait for a refresh)? It would
// spend a rotation on every connection used in the last Idle, every hour,
// whether or not it is used again, which is what Zoom asks apps not to do;
// the inline refresh costs the first fetch after an expiry one call to
// Zoom (a few hundred milliseconds, well inside the platforms' retries),
// and creating a bot refreshes its connection ahead of the join when the
// token would expire before the bot asks (the bots service). It would
// also need a second listing of the store by last use, which the stores
// do not keep.
//
// Zoom's refresh tokens die when unused: Zoom's current OAuth material
// gives about 90 days for user-authorized apps (an older Zoom support
// article said 15 years; the shorter figure rules). Idle is therefore at
// most MaxIdle (30 days), leaving two months for failures and outages.
//
// A connection's due time is derived from its access token's expiry, the
// only time the stores index: Zoom's access tokens live an hour
// (AccessTokenLifetime), so a token expiring at E was issued at
// E - AccessTokenLifetime and the connection is due at
// E - AccessTokenLifetime + Idle (+ a jitter offset). With Idle under an
// hour it is due before its token expires, as the old on-the-clock
// schedule was.
//
// Several instances share the work by claims (onbehalf.DueClaimer): a
// pass claims the connections it lists for Claim, so that two instances
// do not both work through the same due connections; the refresh lease
// and the store's compare-and-swap, not the claim, keep one refresh token
// from being spent twice.
//
// The scheduler never talks to Zoom itself: it goes through an
// onbehalf.Refresher (the token manager), which shares the token callbacks'
// single-flight path, so a scheduled refresh and a callback never spend the
// same refresh token. It bounds the load it puts on Zoom: at most
// Concurrency refreshes in flight and at most Rate started per second, and
// connections authorized together are spread over a jitter window.
package keepalive

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"golang.org/x/time/rate"
)

// Defaults of a Scheduler.
const (
	// DefaultIdle is how long a connection nobody fetched a token for
	// waits for its keep-alive refresh (KEEPALIVE_IDLE).
	DefaultIdle = 24 * time.Hour
	// MinIdle and MaxIdle bound Idle: refreshing more often than every
	// ten minutes is what Zoom asks apps not to do, and a refresh token
	// unused for 90 days may die at Zoom, so at most 30 days.
	MinIdle = 10 * time.Minute
	MaxIdle = 30 * 24 * time.Hour
	// AccessTokenLifetime is how long Zoom's access tokens live
	// (expires_in 3600): the due time of a connection is derived from its
	// token's expiry with it.
	AccessTokenLifetime = time.Hour
	// InlineMargin is how long before expiry the token callbacks refresh
	// inline (tokens.DefaultMargin). With Idle short enough that the
	// scheduler refreshes before expiry, it refreshes before that point.
	InlineMargin = 5 * time.Minute
	// DefaultConcurrency is the maximum number of refreshes in flight.
	DefaultConcurrency = 4
	// DefaultRate is the maximum number of refreshes started per second:
	// 1,000,000 idle connections refreshed once a KEEPALIVE_IDLE (24 h)
	// need about 11.6 a second, and failures and retries need room.
	DefaultRate = 20
	// DefaultBatch is how many due connections one pass handles.
	DefaultBatch = 500
	// DefaultMaxPoll is the longest Run sleeps between passes.
	DefaultMaxPoll = 30 * time.Second
	// DefaultBackoff is how long a connection whose refresh failed waits
	// before the next try; it doubles with each failure in a row.
	DefaultBackoff = 30 * time.Second
	// DefaultMaxBackoff caps the wait after failures.
	DefaultMaxBackoff = 10 * time.Minute
	// DefaultClaim is how long a pass claims the connections it lists:
	// longer than a pass and its poll (Batch at Rate: 50 s with the
	// defaults), so that another instance does not work through them
	// meanwhile, and short enough that the claims of an instance that
	// died run out within minutes.
	DefaultClaim = 2 * time.Minute
)

const (
	// minPoll is the shortest Run sleeps between passes that found no
	// more work: due connections are handled in small groups, not one pass
	// per connection.
	minPoll = 2 * time.Second
	// listBatches is how many batches one pass lists: with jitter, the
	// soonest-expiring connections are not all due yet.
	listBatches = 8
	// maxHolds bounds the in-memory map of connections waiting after a
	// failure.
	maxHolds = 10000
)

// Scheduler refreshes the connections nobody fetched a token for in Idle.
// Set Claimer and Refresher; every other field has a default. Run runs it;
// Pass runs one pass. The fields must not change once Run or Pass started.
type Scheduler struct {
	// Claimer lists connected connections by access token expiry, soonest
	// first, and claims them for this scheduler (the store).
	Claimer onbehalf.DueClaimer
	// Owner names this scheduler in its claims; default the host name,
	// the process ID and a random part.
	Owner string
	// Claim is how long a pass claims what it lists; default
	// DefaultClaim, longer when Batch at Rate takes longer than it allows.
	Claim time.Duration
	// Refresher refreshes one connection (the token manager).
	Refresher onbehalf.Refresher
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx ends, when it returns ctx's error. Run
	// sleeps between passes and a pass sleeps to respect Rate. Default: a
	// timer. Tests inject one that advances a fake clock.
	Sleep func(ctx context.Context, d time.Duration) error
	// Idle: a connection becomes due Idle after its access token was
	// issued (plus its jitter offset), unless a token request refreshed
	// it meanwhile. Default DefaultIdle; at most MaxIdle.
	Idle time.Duration
	// Jitter spreads connections made together: a connection becomes due
	// at Expiry - AccessTokenLifetime + Idle + offset, where offset in
	// [0, Jitter) is derived from a hash of its ID. Default Idle/24, at
	// most Idle/2; when Idle is so short that connections are due before
	// their token expires, capped so that they are due before callbacks
	// refresh inline.
	Jitter time.Duration
	// Concurrency is the maximum number of refreshes in flight. Default 4.
	Concurrency int
	// Rate is the maximum number of refreshes started per second, on
	// average; bursts never exceed Concurrency. Default 10.
	Rate float64
	// Batch is how many due connections one pass handles. Default 500.
	Batch int
	// MaxPoll is the longest Run sleeps between passes. Default 30s.
	MaxPoll time.Duration
	// Backoff is the wait after a failed refresh before the connection is
	// tried again; it doubles with each failure in a row up to MaxBackoff.
	// Defaults 30s and 10m. A connection whose grant is dead (EDISCONNECTED)
	// waits MaxBackoff; the store stops listing it anyway.
	Backoff, MaxBackoff time.Duration
	// Logger gets refresh failures and pass summaries, never a token.
	// Default slog.Default().
	Logger *slog.Logger

	passMu  sync.Mutex    // one pass at a time; guards limiter and owner
	limiter *rate.Limiter // global start rate; driven with explicit times so a fake clock works
	owner   string        // Owner or its default

	mu    sync.Mutex // guards holds
	holds map[string]hold
}

// hold keeps a connection out of passes until a time, after a failure or
// a skip.
type hold struct {
	until time.Time
	fails int  // failures in a row
	dead  bool // the grant is dead (EDISCONNECTED); already warned
}

// Stats counts what one pass did.
type Stats struct {
	// Listed is how many connections the pass listed.
	Listed int
	// Refreshed is how many token pairs were refreshed.
	Refreshed int
	// Skipped is how many due connections needed nothing: refreshed by a
	// callback meanwhile, or deleted.
	Skipped int
	// Failed is how many refreshes failed (dead grants included).
	Failed int
	// Waiting is how many listed connections are not due yet or wait
	// after a failure.
	Waiting int
	// Next is when the next pass should run: the soonest due time seen,
	// at most MaxPoll after the pass started.
	Next time.Time
	// More reports that due connections were left for the next pass,
	// which should run right away.
	More bool
}

// Run runs passes until ctx ends, then returns nil. After a pass it sleeps
// until the next due time or MaxPoll, whichever is sooner (at least two
// seconds), unless the pass left due connections behind. A failing Claimer
// is logged and retried after MaxPoll.
func (s *Scheduler) Run(ctx context.Context) error {
	log := s.logger()
	log.Info("keep-alive scheduler started", "idle", s.idle(), "jitter", s.jitter(),
		"concurrency", s.concurrency(), "rate", s.rate())
	defer log.Info("keep-alive scheduler stopped")
	for {
		st, err := s.Pass(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var wait time.Duration
		switch {
		case err != nil:
			log.Error("keep-alive: listing due connections", "err", err)
			wait = s.maxPoll()
		case st.More:
			wait = 0
		default:
			wait = min(max(st.Next.Sub(s.now()), minPoll), s.maxPoll())
		}
		if st.Refreshed+st.Skipped+st.Failed > 0 {
			log.Debug("keep-alive pass", "refreshed", st.Refreshed, "skipped", st.Skipped,
				"failed", st.Failed, "waiting", st.Waiting, "next_in", wait)
		}
		if wait > 0 {
			if err := s.sleep(ctx, wait); err != nil {
				return nil
			}
		}
	}
}

// Pass runs one pass: it lists the connections that are due, refreshes
// them (at most Concurrency at once and Rate started per second) and
// returns what it did. Passes never overlap; a pass waits for its
// refreshes. An error means the Claimer failed; refresh failures are
// logged and counted, never returned.
func (s *Scheduler) Pass(ctx context.Context) (Stats, error) {
	s.passMu.Lock()
	defer s.passMu.Unlock()
	var st Stats
	now := s.now()
	lead, batch := s.Lead(), s.batch()
	st.Next = now.Add(s.maxPoll())

	// List everything that may become due before the next poll. Jitter
	// means the soonest-expiring entries are not all due yet, so one pass
	// lists up to listBatches batches (index keys only: cheap) to find
	// Batch due ones.
	horizon := st.Next.Add(lead)
	limit := listBatches * batch
	list, err := s.Claimer.ClaimDue(ctx, s.ownerName(), horizon, limit, s.claim())
	if err != nil {
		return st, err
	}
	st.Listed = len(list)
	// Connections not listed expire after the last one listed; some may
	// be due already when the list was full.
	hidden := false
	if len(list) == limit {
		at := list[len(list)-1].Expiry.Add(-lead)
		st.Next = earliest(st.Next, at)
		hidden = !at.After(now)
	}

	due := make([]onbehalf.Due, 0, min(len(list), batch))
	s.mu.Lock()
	for _, d := range list {
		at := s.DueAt(d)
		if h, ok := s.holds[d.ConnID]; ok && h.until.After(at) {
			at = h.until
		}
		switch {
		case at.After(now):
			st.Waiting++
			st.Next = earliest(st.Next, at)
		case len(due) == batch:
			st.More = true
		default:
			due = append(due, d)
		}
	}
	s.mu.Unlock()

	var (
		wg    sync.WaitGroup
		statM sync.Mutex
		sem   = make(chan struct{}, s.concurrency())
	)
	if s.limiter == nil || s.limiter.Limit() != rate.Limit(s.rate()) || s.limiter.Burst() != s.burst() {
		s.limiter = rate.NewLimiter(rate.Limit(s.rate()), s.burst())
	}
dispatch:
	for _, d := range due {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break dispatch
		}
		now := s.now()
		if wait := s.limiter.ReserveN(now, 1).DelayFrom(now); wait > 0 {
			if err := s.sleep(ctx, wait); err != nil {
				<-sem
				break dispatch
			}
		}
		wg.Go(func() {
			defer func() { <-sem }()
			res := s.refresh(ctx, d)
			statM.Lock()
			defer statM.Unlock()
			switch res {
			case refreshed:
				st.Refreshed++
			case skipped:
				st.Skipped++
			case failed:
				st.Failed++
			}
		})
	}
	wg.Wait()
	if hidden && st.Refreshed+st.Failed > 0 {
		st.More = true // refreshed ones left the list: look behind it
	}
	if ctx.Err() != nil {
		st.More = false
	}
	return st, nil
}

// DueAt returns when a connection becomes due: Idle after its access token
// was issued (Expiry - Lead) plus its jitter offset; always before Expiry -
// InlineMargin when Lead exceeds it.
func (s *Scheduler) DueAt(d onbehalf.Due) time.Time {
	return d.Expiry.Add(-s.Lead() + s.Offset(d.ConnID))
}

// Lead returns how long before its access token's expiry a connection
// becomes due (before its jitter offset): AccessTokenLifetime - Idle,
// negative (after the expiry) when Idle exceeds an hour.
func (s *Scheduler) Lead() time.Duration { return Lead(s.idle()) }

// Lead returns the lead of a scheduler with the given Idle (0: the
// default), for callers that tell how late the keep-alive is (the lag
// metric).
func Lead(idle time.Duration) time.Duration {
	if idle <= 0 {
		idle = DefaultIdle
	}
	return AccessTokenLifetime - min(idle, MaxIdle)
}

// Offset returns the jitter offset of a connection: a deterministic value
// in [0, Jitter) derived from a hash of its ID.
func (s *Scheduler) Offset(connID string) time.Duration {
	j := s.jitter()
	if j <= 0 {
		return 0
	}
	// FNV-1a, inline: no allocation in the hot loop of a pass.
	h := uint64(14695981039346656037)
	for i := 0; i < len(connID); i++ {
		h ^= uint64(connID[i])
		h *= 1099511628211
	}
	return time.Duration(h % uint64(j))
}

// result is the outcome of one refresh.
type result int

const (
	refreshed result = iota
	skipped
	failed
)

// refresh refreshes one due connection and updates its hold.
func (s *Scheduler) refresh(ctx context.Context, d onbehalf.Due) result {
	log := s.logger()
	// Refresh when the token still expires before now + Lead (it was
	// issued Idle ago): a connection a callback refreshed meanwhile is
	// skipped. The bound is past the listed expiry even when the pass
	// runs exactly at it.
	before := s.now().Add(s.Lead())
	if !d.Expiry.Before(before) {
		before = d.Expiry.Add(time.Nanosecond)
	}
	ok, err := s.Refresher.RefreshIfExpiring(ctx, d.ConnID, before)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.holds[d.ConnID]
	switch code := onbehalf.ErrorCode(err); {
	case err == nil && ok:
		delete(s.holds, d.ConnID)
		return refreshed
	case err == nil:
		// Refreshed by a callback since it was listed: it leaves the list.
		// Should the list be stale, do not ask again before the next poll.
		delete(s.holds, d.ConnID)
		s.setHold(d.ConnID, hold{until: now.Add(s.maxPoll())}, now)
		return skipped
	case code == onbehalf.ENOTFOUND:
		log.Debug("keep-alive: connection deleted meanwhile", "conn", d.ConnID)
		s.setHold(d.ConnID, hold{until: now.Add(s.maxBackoff())}, now)
		return skipped
	case ctx.Err() != nil:
		// Shutting down: the refresh itself carries on and is committed
		// by the token manager.
		return failed
	case code == onbehalf.EDISCONNECTED:
		if !h.dead {
			log.Warn("keep-alive: Zoom grant is dead; the user must reconnect", "conn", d.ConnID,
				"reason", onbehalf.ErrorMessage(err))
		}
		h.dead, h.until = true, now.Add(s.maxBackoff())
		s.setHold(d.ConnID, h, now)
		return failed
	default:
		h.fails++
		wait := s.backoff(h.fails)
		h.until = now.Add(wait)
		log.Warn("keep-alive: refresh failed", "conn", d.ConnID, "code", code, "err", err,
			"failures", h.fails, "retry_in", wait)
		s.setHold(d.ConnID, h, now)
		return failed
	}
}

// setHold records a hold, keeping the map bounded: when full, holds that
// have run out are dropped, and if it is still full the new one is not
// kept (the connection is then retried at the next pass, under Rate).
// s.mu is held.
func (s *Scheduler) setHold(id string, h hold, now time.Time) {
	if s.holds == nil {
		s.holds = make(map[string]hold)
	}
	if _, ok := s.holds[id]; !ok && len(s.holds) >= maxHolds {
		for k, v := range s.holds {
			if !v.until.After(now) {
				delete(s.holds, k)
			}
		}
		if len(s.holds) >= maxHolds {
			return
		}
	}
	s.holds[id] = h
}

// backoff returns the wait after n failures in a row.
func (s *Scheduler) backoff(n int) time.Duration {
	d, ceil := s.Backoff, s.maxBackoff()
	if d <= 0 {
		d = DefaultBackoff
	}
	for i := 1; i < n && d < ceil; i++ {
		d *= 2
	}
	return min(d, ceil)
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
