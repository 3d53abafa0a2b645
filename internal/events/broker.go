package events

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Defaults of a Broker.
const (
	// DefaultMaxStreams bounds the open streams of the whole server.
	DefaultMaxStreams = 1000
	// DefaultMaxStreamsPerKey bounds the open streams of one session or
	// API key: a few browser tabs, a backend and its restarts.
	DefaultMaxStreamsPerKey = 5
	// DefaultStreamBuffer is how many events wait for a slow stream
	// before it falls back to reading the store.
	DefaultStreamBuffer = 64
	// DefaultHeartbeat is how often an idle stream sends a comment, so
	// that proxies keep it open and dead clients are noticed.
	DefaultHeartbeat = 15 * time.Second
	// DefaultStreamWriteTimeout bounds one write to a stream: a client
	// that stopped reading is dropped after it, not held forever.
	DefaultStreamWriteTimeout = 10 * time.Second
	// DefaultPage is how many events are read from the store at a time.
	DefaultPage = 100
)

// FromNow, as Subscribe's after, starts a subscription with the events
// written from now on.
const FromNow = -1

// BrokerOptions tune a Broker; every field has a default.
type BrokerOptions struct {
	// MaxStreams bounds the open subscriptions (DefaultMaxStreams).
	MaxStreams int
	// MaxPerKey bounds the open subscriptions of one key
	// (DefaultMaxStreamsPerKey).
	MaxPerKey int
	// Buffer bounds the events queued for one subscription
	// (DefaultStreamBuffer).
	Buffer int
	// Page is how many events are read from the store at a time
	// (DefaultPage).
	Page int
	// Poll is how often the store is polled for new events (DefaultPoll).
	Poll time.Duration
	// Heartbeat is how often ServeSSE sends ": ping" (DefaultHeartbeat).
	Heartbeat time.Duration
	// WriteTimeout bounds each write of ServeSSE
	// (DefaultStreamWriteTimeout).
	WriteTimeout time.Duration
	// Logger gets store failures. Default slog.Default().
	Logger *slog.Logger
}

// withDefaults fills in the zero fields.
func (o BrokerOptions) withDefaults() BrokerOptions {
	orDefault(&o.MaxStreams, DefaultMaxStreams)
	orDefault(&o.MaxPerKey, DefaultMaxStreamsPerKey)
	orDefault(&o.Buffer, DefaultStreamBuffer)
	orDefault(&o.Page, DefaultPage)
	orDefault(&o.Poll, DefaultPoll)
	orDefault(&o.Heartbeat, DefaultHeartbeat)
	orDefault(&o.WriteTimeout, DefaultStreamWriteTimeout)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// orDefault sets *v to d when it is zero or negative: the options'
// "zero means the default".
func orDefault[T int | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// Broker fans the store's new events out to live subscribers (event
// streams): one store read per new event for all of them, however many.
// A subscriber that falls behind is not waited for: it resumes from the
// store by Seq (see Subscription). Run must run for live events to flow.
type Broker struct {
	store onbehalf.EventStore
	opts  BrokerOptions
	log   *slog.Logger
	wake  chan struct{}
	done  chan struct{}
	close sync.Once

	mu     sync.Mutex
	closed bool
	subs   map[*Subscription]struct{}
	perKey map[string]int

	last int64 // the newest Seq fanned out (-1: unknown); owned by Run
}

// NewBroker returns a Broker of the events in store.
func NewBroker(store onbehalf.EventStore, opts BrokerOptions) *Broker {
	opts = opts.withDefaults()
	return &Broker{
		store: store, opts: opts, log: opts.Logger,
		wake: make(chan struct{}, 1), done: make(chan struct{}),
		subs: make(map[*Subscription]struct{}), perKey: make(map[string]int),
		last: -1, // unknown until the first poll
	}
}

// Notify tells the Broker that events were written, so that streams get
// them now rather than at the next poll. It never blocks.
func (b *Broker) Notify() { signal(b.wake) }

// Close ends every stream and refuses new ones: call it when the server
// starts shutting down (http.Server.RegisterOnShutdown), since
// Server.Shutdown waits for handlers and a stream never ends on its own.
// Run returns. Close may be called more than once.
func (b *Broker) Close() {
	b.close.Do(func() {
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		close(b.done)
	})
}

// Run polls the store every Poll, and at once on Notify, and hands new
// events to the subscribers, until ctx ends or Close is called; it
// returns nil then.
func (b *Broker) Run(ctx context.Context) error {
	tick := time.NewTicker(b.opts.Poll)
	defer tick.Stop()
	for {
		if err := b.poll(ctx); err != nil && ctx.Err() == nil {
			b.log.Warn("events: could not read new events for the event streams", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-b.done:
			return nil
		case <-b.wake:
		case <-tick.C:
		}
	}
}

// poll reads the events written since the last poll and offers them to
// every subscriber. The newest Seq is read before the subscribers are
// looked at: a subscriber that comes later reads the store itself from
// its cursor, so nothing falls between the two.
func (b *Broker) poll(ctx context.Context) error {
	latest, err := b.store.LastEventSeq(ctx)
	if err != nil || latest <= b.last {
		return err
	}
	if b.last < 0 {
		// Where the streams are is unknown: they read the store from
		// their cursors, and live events start after latest.
		b.resync()
		b.last = latest
		return nil
	}
	if b.count() == 0 {
		b.last = latest
		return nil
	}
	for b.last < latest {
		evs, err := b.store.EventsAfter(ctx, b.last, b.opts.Page)
		if err != nil || len(evs) == 0 {
			return err
		}
		b.fan(evs)
		b.last = evs[len(evs)-1].Seq
	}
	return nil
}

// fan offers evs to every subscriber registered now.
func (b *Broker) fan(evs []onbehalf.Event) {
	conns := make([]string, len(evs))
	for i, ev := range evs {
		conns[i] = connectionID(ev)
	}
	for _, s := range b.snapshot() {
		s.offer(evs, conns)
	}
}

// resync makes every subscriber read the store from its cursor, when the
// Broker cannot tell which events they have.
func (b *Broker) resync() {
	for _, s := range b.snapshot() {
		s.mu.Lock()
		s.lagged, s.pending = true, nil
		s.mu.Unlock()
		signal(s.wake)
	}
}

// snapshot returns the subscribers registered now.
func (b *Broker) snapshot() []*Subscription {
	b.mu.Lock()
	defer b.mu.Unlock()
	subs := make([]*Subscription, 0, len(b.subs))
	for s := range b.subs {
		subs = append(subs, s)
	}
	return subs
}

// count returns the number of subscribers.
func (b *Broker) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// Subscribe opens a subscription for key (a session or an API key: the
// unit the per-key bound counts) to the events after Seq after (FromNow:
// only new ones) that f selects. Over the bound of key or the server's it
// is ETOOMANY (429), after Close EUNAVAILABLE (503). The
// caller must Close the subscription.
func (b *Broker) Subscribe(ctx context.Context, key string, after int64, f Filter) (*Subscription, error) {
	s := &Subscription{
		b: b, key: key, filter: f, lagged: true,
		wake: make(chan struct{}, 1), done: make(chan struct{}),
	}
	b.mu.Lock()
	switch {
	case b.closed:
		b.mu.Unlock()
		return nil, errShutdown()
	case b.perKey[key] >= b.opts.MaxPerKey:
		b.mu.Unlock()
		return nil, onbehalf.Errorf(onbehalf.ETOOMANY,
			"Too many event streams are open for this client (at most %d, STREAMS_PER_SESSION): close one, then try again.", b.opts.MaxPerKey)
	case len(b.subs) >= b.opts.MaxStreams:
		b.mu.Unlock()
		return nil, onbehalf.Errorf(onbehalf.ETOOMANY,
			"The server has too many event streams open (at most %d, STREAMS_MAX): try again in a minute.", b.opts.MaxStreams)
	}
	b.subs[s] = struct{}{}
	b.perKey[key]++
	b.mu.Unlock()

	latest, err := b.store.LastEventSeq(ctx)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.cursor = latest
	if after >= 0 && after < latest {
		s.cursor = after
	}
	signal(s.wake)
	return s, nil
}

// unsubscribe forgets s.
func (b *Broker) unsubscribe(s *Subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.subs, s)
	if b.perKey[s.key]--; b.perKey[s.key] <= 0 {
		delete(b.perKey, s.key)
	}
}

// errShutdown is the error of a stream that ends, or cannot start,
// because the server is shutting down.
func errShutdown() error {
	return onbehalf.Errorf(onbehalf.EUNAVAILABLE, "The server is shutting down: reconnect in a moment.")
}

// signal wakes the goroutine waiting on c, without blocking: a wake-up
// already pending covers this one.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
