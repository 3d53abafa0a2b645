package onbehalf

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Store is everything the server keeps: one implementation per database
// (bbolt, PostgreSQL), each passing the conformance suite in
// internal/store/storetest. Consumers take the smallest part they need.
//
// Every method that changes what the product must hear about writes the
// event in the same transaction (the outbox). Every write of a token pair
// and every "disconnected" is a compare-and-swap on the refresh token it
// replaces. A write that fails because the store cannot write (disk full,
// read-only) is an ESTORAGE error and changes nothing.
type Store interface {
	ConnectionStore
	DueLister
	DueClaimer
	RefreshLocker
	BotStore
	EventStore
	APIKeyStore
	ConnectLinkStore
	ReplayStore
	IdempotencyStore
	MetaStore
}

// ConnectionStore keeps connections. Unknown IDs are ENOTFOUND.
type ConnectionStore interface {
	// Connection returns the connection with the given ID.
	Connection(ctx context.Context, id string) (*Connection, error)
	// ConnectionByZoomUser returns the connection of a Zoom user.
	ConnectionByZoomUser(ctx context.Context, zoomUserID string) (*Connection, error)
	// Connect stores a fresh grant. The Zoom user's existing connection is
	// updated in place and keeps its ID (revived when disconnected;
	// external user ID and metadata replaced when given), else a new one
	// is made. It writes connection.created or connection.reconnected and
	// reports which (created). Metadata that is not a JSON object is
	// EINVALID (field "metadata").
	//
	// A connection never moves from one external user to another: when
	// the Zoom user's connection has an external user and the grant names
	// another, its external user and metadata stay, the fresh grant only
	// replaces its token pair (Zoom keeps one grant per user and app, so
	// the old pair is dead already), connection.conflict is written (and
	// connection.reconnected when it was disconnected), and the error is
	// ErrConnectConflict's. A connection with no external user yet is
	// claimed by the first one named.
	Connect(ctx context.Context, a Authorization) (c *Connection, created bool, err error)
	// SaveToken commits a refreshed pair if the stored refresh token is
	// still from; otherwise it is ECONFLICT and nothing is written. A
	// disconnected connection is EDISCONNECTED, a deleted one ENOTFOUND, a
	// pair without a refresh token EINVALID. The pair is durable when it
	// returns nil.
	SaveToken(ctx context.Context, id, from string, tok Token) (*Connection, error)
	// MarkDisconnected wipes the pair and records when and why, if the
	// stored refresh token is still from (else ECONFLICT, nothing
	// written). The record, its ID and its Zoom user stay, so that the
	// same user authorizing again revives it. It writes
	// connection.disconnected; an already disconnected connection is
	// returned unchanged, with no event.
	MarkDisconnected(ctx context.Context, id, from, reason string) (*Connection, error)
	// DeleteConnection deletes a connection, its tokens, its personal data
	// and its index entries, and returns it as it was (tokens included, to
	// revoke them). It writes connection.deleted.
	DeleteConnection(ctx context.Context, id string) (*Connection, error)
	// DeleteByZoomUser deletes the connection of a Zoom user
	// (deauthorization), as DeleteConnection. at is when Zoom says the
	// user removed the app: a connection granted since (GrantedSince) is
	// kept and the call is ECONFLICT, nothing written; a zero at deletes
	// whatever the grant's time.
	DeleteByZoomUser(ctx context.Context, zoomUserID string, at time.Time) (*Connection, error)
	// ListConnections lists connections by filter, oldest first, and the
	// cursor of the next page ("" after the last).
	ListConnections(ctx context.Context, f ConnectionFilter) ([]*Connection, string, error)
	// NoteMinted records when tokens were last minted for connections
	// (the caller batches it); it only moves MintedAt forward, and unknown
	// IDs are skipped.
	NoteMinted(ctx context.Context, at map[string]time.Time) error
	// CountConnections counts connections by state; every state is in the
	// map.
	CountConnections(ctx context.Context) (map[ConnState]int, error)
	// UpdateConnection changes what the product keeps on a connection
	// (PATCH /api/v1/connections/{id}): nil fields of p stay. An external
	// user ID another connection has is ECONFLICT (field
	// "external_user_id"), metadata that is not a JSON object (or null)
	// EINVALID. It writes no event and leaves the grant alone.
	UpdateConnection(ctx context.Context, id string, p ConnectionPatch) (*Connection, error)
}

// ConnectionPatch is a change of a connection's product fields.
type ConnectionPatch struct {
	// ExternalUserID, when set, replaces it ("" removes it).
	ExternalUserID *string
	// Metadata, when set, replaces it (JSON null removes it).
	Metadata *json.RawMessage
	// TeamConsent, when set, replaces the person's yes or no to their
	// teammates' bots.
	TeamConsent *bool
}

// ConnectionFilter selects connections for a listing. Empty fields select
// everything.
type ConnectionFilter struct {
	ExternalUserID string
	ZoomUserID     string
	State          ConnState
	// Limit bounds the page (<= 0: no bound); the caller sets the default
	// and maximum.
	Limit int
	// Cursor is the opaque position returned by the previous page
	// (store.EncodeCursor, shared by every store); a cursor the store did
	// not write is EINVALID with field "cursor".
	Cursor string
}

// DueLister lists connected connections whose access token expires before
// a time, soonest first, at most limit, whoever claimed them: for those
// that only look (the keep-alive lag metric), which must see every overdue
// connection and take no work from the keep-alive.
type DueLister interface {
	DueBefore(ctx context.Context, before time.Time, limit int) ([]Due, error)
}

// DueClaimer shares the keep-alive's work between instances by claims.
// A claim only spreads the work: what keeps one refresh token from being
// spent twice is the refresh lease and the compare-and-swap of SaveToken,
// so a claim that runs out while its owner still works costs duplicated
// work, never a second refresh.
type DueClaimer interface {
	// ClaimDue lists as DueBefore, but only the connections no other
	// owner's claim holds, and claims those it returns for owner until
	// claim from now (by the store's clock). Two owners claiming at once
	// never get the same connection; an owner sees its own claims again
	// (its next pass finds what it put off). A claim ends when it runs out
	// or when the connection's token pair is written (SaveToken,
	// MarkDisconnected, Connect): after a refresh the next cycle is
	// anybody's. When the claim cannot be written (the store cannot
	// write), it lists without claiming.
	ClaimDue(ctx context.Context, owner string, before time.Time, limit int, claim time.Duration) ([]Due, error)
}

// RefreshLocker serializes the refreshes of one connection across
// instances. It is a lease, not a guarantee: the compare-and-swap of
// SaveToken is the fence. A single-process store keeps the lease in memory
// by the same rules (owner, expiry by its clock). Holders take it for a
// short ttl and renew it (LockRefresh again) while their refresh runs, so
// that a holder that dies blocks the connection for one ttl at most.
type RefreshLocker interface {
	// LockRefresh takes the connection's refresh lease for owner until
	// ttl from now (the holder taking it again renews it); Held is false
	// while another owner holds it.
	LockRefresh(ctx context.Context, id, owner string, ttl time.Duration) (RefreshLease, error)
	// UnlockRefresh gives the lease back, if owner holds it.
	UnlockRefresh(ctx context.Context, id, owner string) error
}

// RefreshLease is what LockRefresh got.
type RefreshLease struct {
	// Held: the caller holds the lease now.
	Held bool
	// Abandoned: the lease was taken over from another owner whose lease
	// ran out without being given back; that owner likely died in the
	// middle of a refresh, and Zoom may have rotated the refresh token
	// without the store hearing of it.
	Abandoned bool
}

// BotStore keeps bots and their timelines.
type BotStore interface {
	// CreateBot stores a new bot and writes bot.created. It fills ID,
	// CreatedAt, UpdatedAt, Status and StatusAt when empty; a known ID or
	// platform bot ID is ECONFLICT.
	CreateBot(ctx context.Context, b *Bot) error
	// Bot returns a bot by this server's ID.
	Bot(ctx context.Context, id string) (*Bot, error)
	// BotByPlatformID returns a bot by its platform's ID.
	BotByPlatformID(ctx context.Context, platform, platformBotID string) (*Bot, error)
	// ListBots lists bots by filter, newest first, and the cursor of the
	// next page.
	ListBots(ctx context.Context, f BotFilter) ([]*Bot, string, error)
	// ApplyStatus puts a platform's status report on its bot's timeline
	// (ENOTFOUND for an unknown bot) as ApplyStatusReport says, and writes
	// bot.status_changed when the status changed.
	ApplyStatus(ctx context.Context, r StatusReport) (b *Bot, changed bool, err error)
	// RecordTokenFetches puts token fetches on their bots' timelines as
	// ApplyTokenFetch says (fetches of unknown bots are skipped), writes
	// bot.status_changed for each status change and token.failed for each
	// failed fetch.
	RecordTokenFetches(ctx context.Context, fetches []TokenFetch) error
}

// EventStore is the outbox and the event log.
type EventStore interface {
	// AppendEvent writes an event that goes with no stored change (a
	// failure that lived in memory, such as connection.recovered) into
	// the outbox, in a transaction of its own, exactly as events written
	// with a change: it gets its ID and Seq there, is pending delivery
	// when events are delivered, and a zero Time is the store's now.
	AppendEvent(ctx context.Context, e Event) error
	// EventsAfter returns the events whose Seq is greater than after,
	// oldest first, at most limit (<= 0: all).
	EventsAfter(ctx context.Context, after int64, limit int) ([]Event, error)
	// LastEventSeq returns the Seq of the newest event (0 when none);
	// pruning never lowers it.
	LastEventSeq(ctx context.Context) (int64, error)
	// EventSeq returns the Seq of the event with the given ID (a stream
	// resuming after the event its client saw last); ENOTFOUND when no
	// such event is kept.
	EventSeq(ctx context.Context, id string) (int64, error)
	// WatchEvents sets fn (nil: none) to be called after each transaction
	// of this process that wrote events has committed, so that the
	// outbox's readers look at once rather than at their next poll; fn
	// must not block. Events of other processes are found by polling.
	WatchEvents(fn func())
	// ClaimDeliveries returns up to limit events due for delivery at now,
	// in Seq order, and leases them until now+lease, so that no other
	// instance delivers them meanwhile.
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error)
	// DeliveryDone ends an event's delivery (delivered, or given up). On a
	// delivery that is over already it changes nothing; an unknown ID is
	// ENOTFOUND (likewise DeliveryFailed).
	DeliveryDone(ctx context.Context, id string, at time.Time) error
	// DeliveryFailed schedules an event's next attempt at next.
	DeliveryFailed(ctx context.Context, id string, at, next time.Time, reason string) error
	// PendingDeliveries counts the events not yet delivered.
	PendingDeliveries(ctx context.Context) (int, error)
	// PruneEvents deletes events older than before whose delivery is over.
	PruneEvents(ctx context.Context, before time.Time) (int, error)
}

// APIKey is a key of the integration API, stored hashed.
type APIKey struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Hash is SHA-256 of the whole key; the key itself is never stored.
	Hash []byte `json:"hash"`
	// Prefix is the key's first characters, to recognize it in a list.
	Prefix    string    `json:"prefix"`
	CreatedAt time.Time `json:"created_at"`
	// LastUsedAt is when the key was last accepted, to the minute or so
	// (NoteAPIKeyUsed); zero: never, or before it was recorded.
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// APIKeyStore keeps API keys.
type APIKeyStore interface {
	// CreateAPIKey stores a key; the caller makes its ID.
	CreateAPIKey(ctx context.Context, k APIKey) error
	// APIKeys lists the keys.
	APIKeys(ctx context.Context) ([]APIKey, error)
	// APIKeyByHash returns the key with the given hash (ENOTFOUND).
	APIKeyByHash(ctx context.Context, hash []byte) (*APIKey, error)
	// RevokeAPIKey deletes a key by ID (ENOTFOUND).
	RevokeAPIKey(ctx context.Context, id string) error
	// NoteAPIKeyUsed records that a key was accepted at at; it only moves
	// LastUsedAt forward, and an unknown ID is no error. Callers call it
	// at most once a minute per key.
	NoteAPIKeyUsed(ctx context.Context, id string, at time.Time) error
}

// ConnectLink is a one-time link that starts the Zoom OAuth flow for one
// of the product's users.
type ConnectLink struct {
	// ID names the link in the API (GET, revoke); it grants nothing.
	ID string `json:"id"`
	// Secret is the bearer secret in the link's URL: stores keep only its
	// hash, so a link read back by ID has none.
	Secret         string          `json:"-"`
	ExternalUserID string          `json:"external_user_id"`
	Metadata       json.RawMessage `json:"metadata,omitempty"`
	ReturnTo       string          `json:"return_to,omitempty"`
	CreatedAt      time.Time       `json:"created_at,omitzero"`
	ExpiresAt      time.Time       `json:"expires_at"`
	// UsedAt is when the OAuth flow came back with it (zero: unused).
	UsedAt time.Time `json:"used_at,omitzero"`
	// RevokedAt is when the product revoked it (zero: not revoked).
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	// ConnectionID is the connection the link made ("" while none).
	ConnectionID string `json:"connection_id,omitempty"`
	// Browser is the hash of the per-browser value of the browser the
	// link was first opened in (nil: not opened yet); see
	// BindConnectLink.
	Browser []byte `json:"browser,omitempty"`
}

// LinkStatus is where a connect link stands.
type LinkStatus string

// The statuses of a connect link.
const (
	LinkPending LinkStatus = "pending"
	LinkUsed    LinkStatus = "used"
	LinkExpired LinkStatus = "expired"
	LinkRevoked LinkStatus = "revoked"
)

// Status is the link's status at now: revoked and used are final, an
// unused link expires at ExpiresAt.
func (l *ConnectLink) Status(now time.Time) LinkStatus {
	switch {
	case !l.RevokedAt.IsZero():
		return LinkRevoked
	case !l.UsedAt.IsZero():
		return LinkUsed
	case !now.Before(l.ExpiresAt):
		return LinkExpired
	}
	return LinkPending
}

// ConnectLinkStore keeps connect links. The browser's calls name a link by
// its secret, the API's by its ID.
type ConnectLinkStore interface {
	// CreateConnectLink stores a link: its ID (ECONFLICT when taken) and
	// the hash of its Secret, both made by the caller.
	CreateConnectLink(ctx context.Context, l ConnectLink) error
	// ConnectLink returns the link with the given secret (ENOTFOUND when
	// unknown).
	ConnectLink(ctx context.Context, secret string) (*ConnectLink, error)
	// ConnectLinkByID returns the link with the given ID (ENOTFOUND).
	ConnectLinkByID(ctx context.Context, id string) (*ConnectLink, error)
	// UseConnectLink marks a link used at now and returns it; a used,
	// revoked or expired link is ECONFLICT, an unknown one ENOTFOUND.
	UseConnectLink(ctx context.Context, secret string, now time.Time) (*ConnectLink, error)
	// LinkConnectLink records the connection a used link made (the link
	// is named by its secret); an unknown link is ENOTFOUND.
	LinkConnectLink(ctx context.Context, secret, connectionID string) error
	// RevokeConnectLink revokes a link by ID at now and returns it: a
	// pending or expired link becomes revoked, a revoked one stays as it
	// is, a used one is ECONFLICT, an unknown one ENOTFOUND.
	RevokeConnectLink(ctx context.Context, id string, now time.Time) (*ConnectLink, error)
	// BindConnectLink binds a link to the browser that opens it first:
	// the first call stores browser (a hash of a random per-browser
	// value), later calls with the same hash pass, another hash is
	// ECONFLICT with ErrLinkElsewhere's message. A used, revoked or
	// expired link is ECONFLICT, an unknown one ENOTFOUND.
	BindConnectLink(ctx context.Context, secret string, browser []byte, now time.Time) (*ConnectLink, error)
}

// ConnectConflict is the detail of Store.Connect's ECONFLICT when the
// Zoom user is connected for another external user than the grant names.
type ConnectConflict struct {
	// ConnectionID, ZoomUserID and ExternalUserID are the holder's.
	ConnectionID, ZoomUserID, ExternalUserID string
	// RequestedExternalUserID is the external user the grant named.
	RequestedExternalUserID string
}

// Error implements error.
func (c *ConnectConflict) Error() string {
	return fmt.Sprintf("zoom user %s is connected for external user %q (connection %s), not %q",
		c.ZoomUserID, c.ExternalUserID, c.ConnectionID, c.RequestedExternalUserID)
}

// ErrConnectConflict is the error of a connect that would move held's
// connection to the external user requested: nothing moved.
func ErrConnectConflict(held *Connection, requested string) *Error {
	return &Error{Code: ECONFLICT,
		Message: fmt.Sprintf("This Zoom user is already connected for external user %q (connection %s); nothing was changed. "+
			"To connect it for %q instead, delete that connection first.", held.ExternalUserID, held.ID, requested),
		Err: &ConnectConflict{ConnectionID: held.ID, ZoomUserID: held.ZoomUserID, ExternalUserID: held.ExternalUserID, RequestedExternalUserID: requested}}
}

// ErrLinkElsewhere is the error of a connect link opened in a browser
// other than the one that opened it first.
func ErrLinkElsewhere() *Error {
	return Errorf(ECONFLICT, "This connect link was already opened in another browser. Ask the app that sent you here for a new one.")
}

// ReplayStore remembers signed deliveries (Zoom webhooks) while their
// signature is valid, for every instance of an install, so that a request
// delivered twice, to any instance, is acted on once. Keys are what the
// caller derives from the signed content (a hash); expired keys are pruned
// as new ones come.
type ReplayStore interface {
	// ClaimDelivery records key until expires and reports whether it is
	// new: false while the same key is recorded and not expired.
	ClaimDelivery(ctx context.Context, key string, expires time.Time) (first bool, err error)
	// ReleaseDelivery forgets key, so that a delivery whose action failed
	// can be retried as it was; an unknown key is no error.
	ReleaseDelivery(ctx context.Context, key string) error
}

// IdempotentResponse is the answer an API request made with an
// Idempotency-Key gave, replayed to its retries.
type IdempotentResponse struct {
	Status int `json:"status"`
	// Header holds the few headers worth replaying (Location).
	Header map[string]string `json:"header,omitempty"`
	Body   []byte            `json:"body,omitempty"`
}

// IdempotentRecord is what the store keeps under an idempotency key.
type IdempotentRecord struct {
	// Hash is the fingerprint of the request that claimed the key
	// (method, path, body): a retry must bring the same.
	Hash []byte `json:"hash"`
	// Done is false while the first request runs; Response is its answer
	// once Done.
	Done     bool               `json:"done"`
	Response IdempotentResponse `json:"response"`
	// LockedUntil bounds a run: a request still not done past it (its
	// instance died) no longer holds the key.
	LockedUntil time.Time `json:"locked_until"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// IdempotencyStore keeps the answers of API requests made with an
// Idempotency-Key, for every instance of an install, so that a retry is
// answered as the first request was instead of acting twice. Keys are
// what the caller derives (a hash of the API key and the header);
// expired records are pruned as new keys come.
type IdempotencyStore interface {
	// BeginIdempotent claims key for a request with fingerprint hash, to
	// run until lockUntil and be remembered until expires. When the key
	// is free (unknown, expired, or held by a run past its LockedUntil)
	// it records the claim and returns nil: the caller runs the request
	// and ends with FinishIdempotent or ReleaseIdempotent. Otherwise it
	// returns the record as stored, whatever its hash, and changes
	// nothing.
	BeginIdempotent(ctx context.Context, key string, hash []byte, lockUntil, expires time.Time) (*IdempotentRecord, error)
	// FinishIdempotent stores the answer of the run that claimed key.
	// An unknown key is ENOTFOUND.
	FinishIdempotent(ctx context.Context, key string, r IdempotentResponse) error
	// ReleaseIdempotent forgets key (a run whose answer must not be
	// replayed: a retry runs again); an unknown key is no error.
	ReleaseIdempotent(ctx context.Context, key string) error
}

// MetaStore keeps server secrets and settings, and reports the store's
// health.
type MetaStore interface {
	// Secret returns the secret stored under name (sealed at rest),
	// creating it with generate on first use; with a nil generate a
	// missing secret is ENOTFOUND.
	Secret(ctx context.Context, name string, generate func() (string, error)) (string, error)
	// Meta returns a setting ("" and false when unset); SetMeta writes one.
	Meta(ctx context.Context, name string) (string, bool, error)
	SetMeta(ctx context.Context, name, value string) error
	// Ping checks that the store can be read.
	Ping(ctx context.Context) error
	// Writable reports whether the store could write the last time it
	// tried (or probed): nil, or an ESTORAGE error whose message says why
	// in words an operator understands. No refresh starts while it fails.
	Writable(ctx context.Context) error
	// Health is Writable plus warnings an operator must see although
	// writes still work (an emergency disk reserve used up): what /healthz
	// and the home page report.
	Health(ctx context.Context) error
	// Close closes the store.
	Close() error
}
