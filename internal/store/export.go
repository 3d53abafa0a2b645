package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// What moves a whole store to another (onbehalf migrate: bbolt to
// PostgreSQL): the records onbehalf.Store does not show as they are
// (events with their delivery state, connect links by key, secrets by
// name). A source store exports into a Sink; a target store's import is
// one.

// Delivery is an event's delivery state, as a store keeps it.
type Delivery struct {
	// Pending: not delivered yet; Due is the next attempt (or the end of
	// the lease of an attempt in flight).
	Pending    bool
	Due        time.Time
	Attempts   int
	FirstTried time.Time
	LastTried  time.Time
	LastError  string
	// DoneAt is when the delivery ended (delivered, or given up).
	DoneAt time.Time
}

// EventRecord is an event with its delivery state; its ID and Seq are
// kept by the copy.
type EventRecord struct {
	Event    onbehalf.Event
	Delivery Delivery
}

// LinkRecord is a connect link as stored: by key (LinkKey of its secret,
// which no store keeps) and ID, with its metadata in clear.
type LinkRecord struct {
	Key            string
	ID             string
	ExternalUserID string
	ReturnTo       string
	Metadata       json.RawMessage
	CreatedAt      time.Time
	ExpiresAt      time.Time
	UsedAt         time.Time
	RevokedAt      time.Time
	ConnectionID   string
	Browser        []byte
}

// Sink receives a store's records, in clear (tokens included): the target
// seals them with its own keys. Connections come before the bots and
// events that name them, events in Seq order.
type Sink interface {
	// Connection receives a connection, tokens and personal data included.
	Connection(ctx context.Context, c *onbehalf.Connection) error
	// Bot receives a bot with its timeline.
	Bot(ctx context.Context, b *onbehalf.Bot) error
	// Event receives an event and its delivery state.
	Event(ctx context.Context, e EventRecord) error
	// EventSeq receives the source's last event sequence number, which the
	// target must never go below (pruned events included).
	EventSeq(ctx context.Context, last int64) error
	// APIKey receives an API key (its hash).
	APIKey(ctx context.Context, k onbehalf.APIKey) error
	// Link receives a connect link.
	Link(ctx context.Context, l LinkRecord) error
	// Secret receives a server secret in clear.
	Secret(ctx context.Context, name, value string) error
	// Setting receives a setting (MetaStore.Meta).
	Setting(ctx context.Context, name, value string) error
}
