package events

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// leaseMargin is how much longer than a delivery its lease lasts.
const leaseMargin = 20 * time.Second

// Defaults of a Deliverer.
const (
	// DefaultTimeout bounds one delivery: connecting, sending, the
	// receiver's answer and reading its body.
	DefaultTimeout = 10 * time.Second
	// DefaultLease is how long a claimed event is ours: longer than a
	// delivery and the store writes after it, with room for clocks that
	// differ between instances.
	DefaultLease = DefaultTimeout + leaseMargin
	// DefaultConcurrency is how many deliveries are in flight at most.
	DefaultConcurrency = 8
	// DefaultPoll is how often the store is asked for due events when
	// nobody calls Notify: events of other instances, and retries.
	DefaultPoll = time.Second
	// DefaultRetryFor is how long an event is retried after its first
	// attempt before it is given up.
	DefaultRetryFor = 24 * time.Hour
)

// DeliveryOptions tune a Deliverer; every field has a default.
type DeliveryOptions struct {
	// Client sends the webhooks. Default: a client of its own with
	// Timeout that follows no redirect.
	Client *http.Client
	// Timeout bounds one delivery (DefaultTimeout).
	Timeout time.Duration
	// Lease is how long a claimed event is kept from other instances
	// (DefaultLease); at least Timeout.
	Lease time.Duration
	// Concurrency bounds the deliveries in flight (DefaultConcurrency).
	Concurrency int
	// Poll is how often the store is polled (DefaultPoll).
	Poll time.Duration
	// RetryFor is how long an event is retried (DefaultRetryFor).
	RetryFor time.Duration
	// Now is the clock (time.Now): when events are due, webhook-timestamp.
	Now func() time.Time
	// Logger gets failures and give-ups, never a secret, a URL or a
	// body. Default slog.Default().
	Logger *slog.Logger
	// Observer, when set, hears of every attempt, delivery and give-up
	// (the metrics).
	Observer Observer
}

// Observer hears what the deliverer does; it must not block.
type Observer interface {
	// ObserveAttempt: one attempt, reason "" when the receiver answered
	// 2xx, else a few words ("HTTP 503", "timeout").
	ObserveAttempt(reason string)
	// ObserveDelivered: an event delivered, sinceEvent after it happened.
	ObserveDelivered(sinceEvent time.Duration)
	// ObserveGivenUp: an event given up after its retries.
	ObserveGivenUp()
}

// noObserver is the Observer of a Deliverer without one.
type noObserver struct{}

func (noObserver) ObserveAttempt(string)          {}
func (noObserver) ObserveDelivered(time.Duration) {}
func (noObserver) ObserveGivenUp()                {}

// Deliverer posts the outbox's events to the webhook receiver, at least
// once: an event leaves the outbox only when the receiver answered 2xx
// (or after RetryFor of failures). Events are claimed with a lease, so
// that several instances on one store deliver each event once.
type Deliverer struct {
	store  onbehalf.EventStore
	url    string
	signer *signer
	client *http.Client
	opts   DeliveryOptions
	log    *slog.Logger
	wake   chan struct{}
}

// NewDeliverer returns a Deliverer of the events in store to the receiver
// at webhookURL, signed with secret (whsec_…). A bad URL or secret is an
// EINVALID error naming the variable.
func NewDeliverer(store onbehalf.EventStore, webhookURL, secret string, opts DeliveryOptions) (*Deliverer, error) {
	if err := CheckConfig(webhookURL, secret); err != nil {
		return nil, err
	}
	s, err := newSigner(secret)
	if err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	if opts.Lease < opts.Timeout {
		return nil, onbehalf.Errorf(onbehalf.EINVALID, "The delivery lease (%s) must be at least the delivery timeout (%s).", opts.Lease, opts.Timeout)
	}
	client := opts.Client
	if client == nil {
		client = newClient(opts.Timeout)
	}
	return &Deliverer{
		store: store, url: webhookURL, signer: s, client: client, opts: opts,
		log: opts.Logger, wake: make(chan struct{}, 1),
	}, nil
}

// withDefaults fills in the zero fields.
func (o DeliveryOptions) withDefaults() DeliveryOptions {
	orDefault(&o.Timeout, DefaultTimeout)
	orDefault(&o.Lease, o.Timeout+leaseMargin)
	orDefault(&o.Concurrency, DefaultConcurrency)
	orDefault(&o.Poll, DefaultPoll)
	orDefault(&o.RetryFor, DefaultRetryFor)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Observer == nil {
		o.Observer = noObserver{}
	}
	return o
}

// Notify tells the Deliverer that events were written, so that it looks
// now rather than at its next poll. It never blocks: a wake-up already
// pending covers this one.
func (d *Deliverer) Notify() { signal(d.wake) }

// Run delivers until ctx ends: a pass at once, then one whenever Notify
// is called or Poll passes, and straight on while passes find a full
// load. It returns nil when ctx ends, after the deliveries in flight have
// finished and their outcome is stored, so that a shutdown neither cuts a
// receiver off mid-request nor leaves an event waiting for its lease.
func (d *Deliverer) Run(ctx context.Context) error {
	tick := time.NewTicker(d.opts.Poll)
	defer tick.Stop()
	for ctx.Err() == nil {
		n, err := d.Pass(ctx)
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			d.log.Warn("webhook: could not claim events to deliver", "err", err)
		}
		if err == nil && n == d.opts.Concurrency {
			continue
		}
		select {
		case <-ctx.Done():
		case <-d.wake:
		case <-tick.C:
		}
	}
	return nil
}

// Pass claims up to Concurrency due events and delivers them
// concurrently, returning when every one is delivered or rescheduled. It
// reports how many it claimed. The deliveries are not cut short when ctx
// ends (only the claim uses ctx), so that their outcome is recorded.
func (d *Deliverer) Pass(ctx context.Context) (int, error) {
	due, err := d.store.ClaimDeliveries(ctx, d.opts.Now(), d.opts.Lease, d.opts.Concurrency)
	if err != nil {
		return 0, err
	}
	ctx = context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	for _, dl := range due {
		wg.Go(func() { d.deliver(ctx, dl) })
	}
	wg.Wait()
	return len(due), nil
}

// deliver makes one attempt at dl and records its outcome: done on 2xx,
// else rescheduled by the backoff, or given up RetryFor after the first
// attempt.
func (d *Deliverer) deliver(ctx context.Context, dl onbehalf.Delivery) {
	ev := dl.Event
	at := d.opts.Now()
	reason := d.attempt(ctx, ev, at)
	end := d.opts.Now()
	d.opts.Observer.ObserveAttempt(reason)
	if reason == "" {
		d.opts.Observer.ObserveDelivered(end.Sub(ev.Time))
		if err := d.store.DeliveryDone(ctx, ev.ID, end); err != nil {
			d.log.Warn("webhook: delivered, but could not record it: the event will be sent again", "event_id", ev.ID, "type", ev.Type, "err", err)
		}
		return
	}
	failures := dl.Attempts + 1
	first := dl.FirstTried
	if first.IsZero() {
		first = at
	}
	next, ok := nextAttempt(failures, first, end, d.opts.RetryFor)
	if !ok {
		d.opts.Observer.ObserveGivenUp()
		d.log.Error("webhook: gave up delivering an event", "event_id", ev.ID, "type", ev.Type,
			"attempts", failures, "reason", reason, "since", first.UTC())
		if err := d.store.DeliveryDone(ctx, ev.ID, end); err != nil {
			d.log.Warn("webhook: could not record giving up an event", "event_id", ev.ID, "err", err)
		}
		return
	}
	d.log.Warn("webhook: delivery failed", "event_id", ev.ID, "type", ev.Type,
		"attempt", failures, "reason", reason, "next_attempt", next.UTC())
	if err := d.store.DeliveryFailed(ctx, ev.ID, at, next, reason); err != nil {
		d.log.Warn("webhook: could not reschedule an event: it is tried again when its lease ends", "event_id", ev.ID, "err", err)
	}
}
