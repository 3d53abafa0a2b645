package store

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// The rules below are the store-neutral part of onbehalf.Store: what every
// implementation checks, how a grant changes a connection, and the words
// of its errors. An implementation calls them inside its write
// transaction, so that bbolt and PostgreSQL cannot drift apart.

// MaxKeyPart bounds an ID the product gives that keys an index (external
// user IDs, platform bot IDs).
const MaxKeyPart = 1024

// MaxDeliveryError bounds the failure reason kept with an event.
const MaxDeliveryError = 500

// LinkKeep is how long an expired connect link is kept (and answers
// "expired" rather than "unknown") before it is pruned.
const LinkKeep = 24 * time.Hour

// ReplayPruneBatch bounds how many expired replay keys one ClaimDelivery
// deletes.
const ReplayPruneBatch = 100

// MaxReplayKey bounds a replay key (callers pass a hash).
const MaxReplayKey = 128

// CheckReplayKey refuses an empty or oversized replay key.
func CheckReplayKey(key string) error {
	if key == "" || len(key) > MaxReplayKey {
		return onbehalf.Errorf(onbehalf.EINVALID, "A replay key must have 1 to %d bytes.", MaxReplayKey)
	}
	return nil
}

// LinkPruneBatch bounds how many expired links one CreateConnectLink
// prunes, so that pruning never makes a large write.
const LinkPruneBatch = 100

// CheckAuthorization refuses a grant a store cannot keep.
func CheckAuthorization(a onbehalf.Authorization) error {
	switch {
	case a.User.ID == "":
		return onbehalf.Errorf(onbehalf.EINVALID, "Zoom user has no ID.")
	case len(a.ExternalUserID) > MaxKeyPart:
		return onbehalf.FieldError("external_user_id", "external_user_id is longer than %d bytes.", MaxKeyPart)
	case GivenJSON(a.Metadata) && !json.Valid(a.Metadata):
		return onbehalf.FieldError("metadata", "metadata is not valid JSON.")
	}
	return nil
}

// GivenJSON reports whether a JSON value was given (not empty, not null).
func GivenJSON(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) > 0 && string(v) != "null"
}

// Grant returns the connection a fresh grant makes of old (nil: a new
// connection with the given ID), at now: revived, with the grant's pair
// and identity; the external user ID and metadata replaced when given.
// The stores refuse a grant naming another external user than old had
// before they call it (connection.conflict), so previous is set only for
// a caller that does not: it names the external user old had.
func Grant(old *onbehalf.Connection, a onbehalf.Authorization, id string, now time.Time) (n onbehalf.Connection, previous string) {
	if old != nil {
		n = *old
	} else {
		n = onbehalf.Connection{ID: id, CreatedAt: now}
	}
	if a.ExternalUserID != "" && a.ExternalUserID != n.ExternalUserID {
		if n.ExternalUserID != "" {
			previous, n.Metadata = n.ExternalUserID, nil
		}
		n.ExternalUserID = a.ExternalUserID
	}
	if GivenJSON(a.Metadata) {
		n.Metadata = bytes.Clone(a.Metadata)
	}
	u := a.User
	n.ZoomUserID, n.AccountID, n.Email, n.DisplayName = u.ID, u.AccountID, u.Email, u.Name()
	n.State, n.Token = onbehalf.StateConnected, a.Token
	n.UpdatedAt, n.RefreshedAt, n.GrantedAt = now, now, now
	n.DisconnectedAt, n.DisconnectedReason = time.Time{}, ""
	return n, previous
}

// ConnectionEvent is onbehalf.ConnectionEvent, with the external user the
// connection moved from when it moved.
func ConnectionEvent(typ string, t time.Time, c *onbehalf.Connection, previousExternalUserID string) onbehalf.Event {
	ev := onbehalf.ConnectionEvent(typ, t, c)
	if previousExternalUserID == "" {
		return ev
	}
	var d onbehalf.ConnectionEventData
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		return ev
	}
	d.PreviousExternalUserID = previousExternalUserID
	return onbehalf.NewEvent(typ, t, d)
}

// TokenFailedEvent is the token.failed event of a failed fetch (b is its
// bot, nil when the token URL named none).
func TokenFailedEvent(f onbehalf.TokenFetch, b *onbehalf.Bot, now time.Time) onbehalf.Event {
	d := onbehalf.BotEventData{ConnectionID: f.ConnectionID, Platform: f.Platform, Kind: f.Kind, HTTPStatus: f.HTTPStatus, Reason: f.Message}
	if b != nil {
		d.BotID, d.PlatformBotID, d.MeetingID = b.ID, b.PlatformBotID, b.MeetingID
		if d.ConnectionID == "" {
			d.ConnectionID = b.ConnectionID
		}
		if d.Platform == "" {
			d.Platform = b.Platform
		}
	}
	return onbehalf.NewEvent(onbehalf.EventTokenFailed, now, d)
}

// CheckBot refuses a bot a store cannot keep.
func CheckBot(b *onbehalf.Bot) error {
	switch {
	case b.Platform == "":
		return onbehalf.FieldError("platform", "The bot has no platform.")
	case b.PlatformBotID == "" || len(b.PlatformBotID) > MaxKeyPart:
		return onbehalf.FieldError("platform_bot_id", "The bot has no usable platform bot ID.")
	case b.ConnectionID == "":
		return onbehalf.FieldError("connection_id", "The bot has no connection.")
	}
	return nil
}

// NewBot returns b as CreateBot stores it at now: an ID made when it has
// none, CreatedAt, UpdatedAt, Status and StatusAt filled in when zero.
func NewBot(b onbehalf.Bot, now time.Time) (onbehalf.Bot, error) {
	if b.ID == "" {
		id, err := NewID()
		if err != nil {
			return b, err
		}
		b.ID = id
	}
	if b.CreatedAt.IsZero() {
		b.CreatedAt = now
	}
	b.CreatedAt, b.UpdatedAt = b.CreatedAt.UTC(), now
	if b.Status == "" {
		b.Status = onbehalf.BotCreated
	}
	if b.StatusAt.IsZero() {
		b.StatusAt = b.CreatedAt
	}
	return b, nil
}

// CheckAPIKey refuses an API key a store cannot keep.
func CheckAPIKey(k onbehalf.APIKey) error {
	switch {
	case k.ID == "":
		return onbehalf.FieldError("id", "The API key has no ID.")
	case len(k.Hash) != sha256.Size:
		return onbehalf.FieldError("hash", "The API key's hash is not a SHA-256 hash.")
	}
	return nil
}

// MaxLinkID bounds a connect link's ID.
const MaxLinkID = 64

// CheckConnectLink refuses a connect link a store cannot keep.
func CheckConnectLink(l onbehalf.ConnectLink) error {
	switch {
	case l.ID == "" || len(l.ID) > MaxLinkID:
		return onbehalf.FieldError("id", "A connect link's ID must have 1 to %d bytes.", MaxLinkID)
	case l.Secret == "":
		return onbehalf.FieldError("secret", "The connect link has no secret.")
	case l.ExpiresAt.IsZero():
		return onbehalf.FieldError("expires_at", "The connect link has no expiry.")
	case GivenJSON(l.Metadata) && !json.Valid(l.Metadata):
		return onbehalf.FieldError("metadata", "metadata is not valid JSON.")
	}
	return nil
}

// LinkKey is what a store keys a connect link by: the hex SHA-256 of its
// secret. The secret is a bearer credential for an hour, so a copy of the
// database cannot start a flow with it; every store uses the same key, so
// that a migration keeps links working.
func LinkKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// legacyLinkIDLen is how many hex digits of its key a link stored without
// an ID is named by.
const legacyLinkIDLen = 32

// LegacyLinkID is the ID of a link stored before links had one (by key
// only): "cl_" and the first 32 hex digits of its key, the shape of the
// IDs made since (NewLinkID). The PostgreSQL migration that added IDs
// wrote the same.
func LegacyLinkID(key string) string {
	return "cl_" + key[:min(len(key), legacyLinkIDLen)]
}

// LegacyLinkKeyPrefix is the key prefix a legacy ID names ("" when id is
// not of LegacyLinkID's shape).
func LegacyLinkKeyPrefix(id string) string {
	p, ok := strings.CutPrefix(id, "cl_")
	if !ok || len(p) != legacyLinkIDLen {
		return ""
	}
	if _, err := hex.DecodeString(p); err != nil || strings.ToLower(p) != p {
		return ""
	}
	return p
}

// CheckLinkUse says whether a link used at usedAt and revoked at revokedAt
// (zero: never), expiring at expiresAt, can be used at now: a link works
// once, within its lifetime, unless revoked.
func CheckLinkUse(usedAt, revokedAt, expiresAt, now time.Time) error {
	switch {
	case !revokedAt.IsZero():
		return ErrLinkRevoked()
	case !usedAt.IsZero():
		return onbehalf.Errorf(onbehalf.ECONFLICT, "This connect link was used already: ask for a new one.")
	case !now.Before(expiresAt):
		return onbehalf.Errorf(onbehalf.ECONFLICT, "This connect link has expired: ask for a new one.")
	}
	return nil
}

// ErrLinkRevoked is the error of using a revoked connect link.
func ErrLinkRevoked() error {
	return onbehalf.Errorf(onbehalf.ECONFLICT, "This connect link was revoked: ask for a new one.")
}

// CheckLinkRevoke says whether a link used at usedAt can be revoked: a
// used link is past revoking (delete its connection instead).
func CheckLinkRevoke(usedAt time.Time) error {
	if !usedAt.IsZero() {
		return onbehalf.Errorf(onbehalf.ECONFLICT, "This connect link was used already, so it cannot be revoked: delete the connection it made instead.")
	}
	return nil
}

// CheckLinkConnection refuses a connection ID a link cannot record.
func CheckLinkConnection(id string) error {
	if id == "" || len(id) > MaxKeyPart {
		return onbehalf.FieldError("connection_id", "A connection ID must have 1 to %d bytes.", MaxKeyPart)
	}
	return nil
}

// DeliveryReason cuts a delivery failure's reason to MaxDeliveryError
// bytes.
func DeliveryReason(reason string) string {
	if len(reason) > MaxDeliveryError {
		return reason[:MaxDeliveryError]
	}
	return reason
}

// PageOf cuts a listing that read one item past limit (to tell whether
// there is more) down to limit, and returns the cursor of the next page.
func PageOf[T any](items []T, limit int, position func(T) (time.Time, string)) ([]T, string) {
	if limit <= 0 || len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	at, id := position(items[limit-1])
	return items, EncodeCursor(at, id)
}

// Holds reports whether old belongs to another external user than the
// grant names: then Connect moves nothing (onbehalf.ErrConnectConflict).
// A connection with no external user yet may be claimed.
func Holds(old *onbehalf.Connection, a onbehalf.Authorization) bool {
	return old != nil && old.ExternalUserID != "" && a.ExternalUserID != "" && a.ExternalUserID != old.ExternalUserID
}

// Renew returns old with the fresh grant's pair and identity, keeping its
// external user and metadata: what a held connection gets from a grant
// refused for another external user (Zoom keeps one grant per user and
// app, so old's pair died when the new one was issued).
func Renew(old *onbehalf.Connection, a onbehalf.Authorization, now time.Time) onbehalf.Connection {
	a.ExternalUserID, a.Metadata = "", nil
	n, _ := Grant(old, a, "", now)
	return n
}

// ConflictEvents are the events of a refused move of old (as it was) to
// requested, renewed into n: connection.conflict, preceded by
// connection.reconnected when the renewal revived it.
func ConflictEvents(old, n *onbehalf.Connection, requested string, now time.Time) []onbehalf.Event {
	var evs []onbehalf.Event
	if old.State != onbehalf.StateConnected {
		evs = append(evs, onbehalf.ConnectionEvent(onbehalf.EventConnectionReconnected, now, n))
	}
	d := onbehalf.ConnectionEventData{ConnectionID: n.ID, ZoomUserID: n.ZoomUserID, ExternalUserID: n.ExternalUserID,
		State: n.State, RequestedExternalUserID: requested}
	return append(evs, onbehalf.NewEvent(onbehalf.EventConnectionConflict, now, d))
}

// CheckLinkBind checks a connect link's binding to a browser (see
// onbehalf.ConnectLinkStore.BindConnectLink): bound is the stored hash
// (nil: not bound yet), browser the caller's.
func CheckLinkBind(bound, browser []byte) error {
	if len(browser) == 0 {
		return onbehalf.FieldError("browser", "A connect link is bound to a browser: the browser value is missing.")
	}
	if bound != nil && subtle.ConstantTimeCompare(bound, browser) != 1 {
		return onbehalf.ErrLinkElsewhere()
	}
	return nil
}

// IdemPruneBatch bounds how many expired idempotency records one
// BeginIdempotent deletes.
const IdemPruneBatch = 100

// CheckIdemKey refuses an empty or oversized idempotency key (callers pass
// a hash).
func CheckIdemKey(key string) error {
	if key == "" || len(key) > MaxReplayKey {
		return onbehalf.Errorf(onbehalf.EINVALID, "An idempotency key must have 1 to %d bytes.", MaxReplayKey)
	}
	return nil
}

// Patch applies p to a copy of c at now, checking it first: metadata must
// be a JSON object or null.
func Patch(c *onbehalf.Connection, p onbehalf.ConnectionPatch, now time.Time) (onbehalf.Connection, error) {
	n := *c
	if p.Metadata != nil {
		m := bytes.TrimSpace(*p.Metadata)
		switch {
		case len(m) == 0 || bytes.Equal(m, []byte("null")):
			n.Metadata = nil
		case m[0] != '{' || !json.Valid(m):
			return n, onbehalf.FieldError("metadata", "metadata must be a JSON object.")
		default:
			n.Metadata = bytes.Clone(m)
		}
	}
	if p.ExternalUserID != nil {
		n.ExternalUserID = *p.ExternalUserID
	}
	if p.TeamConsent != nil {
		n.TeamConsent = *p.TeamConsent
	}
	n.UpdatedAt = now
	return n, nil
}

// ErrExternalUserTaken is the error of a patch that gives a connection an
// external user ID another connection has.
func ErrExternalUserTaken(other *onbehalf.Connection) error {
	return &onbehalf.Error{Code: onbehalf.ECONFLICT, Field: "external_user_id",
		Message: fmt.Sprintf("Connection %s has this external_user_id already: nothing was changed.", other.ID)}
}
