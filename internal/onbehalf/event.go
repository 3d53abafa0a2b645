package onbehalf

import (
	"encoding/json"
	"time"
)

// Event types: what the product hears through outgoing webhooks and the
// event stream.
const (
	EventConnectionCreated      = "connection.created"
	EventConnectionReconnected  = "connection.reconnected"
	EventConnectionDisconnected = "connection.disconnected"
	EventConnectionDeleted      = "connection.deleted"
	// EventConnectionRecovered: a connection whose Zoom token refreshes
	// were failing (Zoom down, slow or rate limiting; not a dead grant)
	// refreshed again. Once per recovery, per instance.
	EventConnectionRecovered = "connection.recovered"
	EventBotCreated          = "bot.created"
	EventBotStatusChanged    = "bot.status_changed"
	EventTokenFailed         = "token.failed"
)

// EventConnectionConflict says that a Zoom user connected for one external
// user completed a connect for another: nothing moved (Store.Connect).
const EventConnectionConflict = "connection.conflict"

// EventConnectionAtRisk says that a bot is due soon (within
// AT_RISK_WINDOW) and its connection cannot refresh or lacks a scope the
// bot's kinds need: act before the meeting.
const EventConnectionAtRisk = "connection.at_risk"

// EventBotRelayed says that a bot removed because its on-behalf user left
// was replaced by a new bot for the next candidate (relay).
const EventBotRelayed = "bot.relayed"

// TimeLayout writes every time the product reads, in API replies and in
// events: RFC 3339 in UTC with milliseconds, always three digits, so that
// times compare as text and parse the same everywhere.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// FormatTime writes t in TimeLayout, in UTC.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// EventTypes lists every event type.
var EventTypes = []string{
	EventConnectionCreated, EventConnectionReconnected, EventConnectionDisconnected,
	EventConnectionDeleted, EventBotCreated, EventBotStatusChanged, EventTokenFailed,
	EventConnectionConflict,
	EventConnectionRecovered, EventConnectionAtRisk, EventBotRelayed,
}

// Event is a state change the product must hear about. It is written in
// the same transaction as the change (the outbox) and delivered at least
// once.
type Event struct {
	// ID is unique and stable across retries (the webhook-id).
	ID string `json:"id"`
	// Seq orders events in one store (SSE ids, Last-Event-ID).
	Seq  int64     `json:"seq"`
	Type string    `json:"type"`
	Time time.Time `json:"timestamp"`
	// Data names the connection (connection_id) and, for bot events, the
	// bot; never a token.
	Data json.RawMessage `json:"data"`
}

// Delivery is an event due for delivery to the webhook receiver.
type Delivery struct {
	Event    Event
	Attempts int
	// FirstTried is the first attempt's time (zero before it); retries
	// stop 24 h after it.
	FirstTried time.Time
}

// ConnectionEventData is the data of connection.* events.
type ConnectionEventData struct {
	ConnectionID   string          `json:"connection_id"`
	ZoomUserID     string          `json:"zoom_user_id,omitempty"`
	ExternalUserID string          `json:"external_user_id,omitempty"`
	Metadata       json.RawMessage `json:"metadata,omitempty"`
	State          ConnState       `json:"state,omitempty"`
	Reason         string          `json:"reason,omitempty"`
	// PreviousExternalUserID is kept for events written when a connection
	// could move to another external user; none is written now (a
	// connection never moves: connection.conflict).
	PreviousExternalUserID string `json:"previous_external_user_id,omitempty"`
	// RequestedExternalUserID is, in connection.conflict, the external
	// user the refused connect was for (ExternalUserID keeps the holder).
	RequestedExternalUserID string `json:"requested_external_user_id,omitempty"`
}

// BotEventData is the data of bot.* and token.failed events.
type BotEventData struct {
	ConnectionID   string    `json:"connection_id"`
	ExternalUserID string    `json:"external_user_id,omitempty"`
	BotID          string    `json:"bot_id,omitempty"`
	Platform       string    `json:"platform,omitempty"`
	PlatformBotID  string    `json:"platform_bot_id,omitempty"`
	MeetingID      string    `json:"meeting_id,omitempty"`
	Status         BotStatus `json:"status,omitempty"`
	Previous       BotStatus `json:"previous_status,omitempty"`
	Reason         string    `json:"reason,omitempty"`
	Kind           TokenKind `json:"kind,omitempty"`
	HTTPStatus     int       `json:"http_status,omitempty"`
	// Failure is why the bot failed or was removed, in the one
	// vocabulary, and FailureCode the platform's raw code beside it.
	Failure     JoinFailure `json:"failure,omitempty"`
	FailureCode string      `json:"failure_code,omitempty"`
	// RelayedFrom and RelayedTo link a relayed bot to its predecessor
	// and successor (bot.relayed names both).
	RelayedFrom string `json:"relayed_from,omitempty"`
	RelayedTo   string `json:"relayed_to,omitempty"`
	// ConnectionIDs are the bot's candidates when it has several, and
	// Relay says it is replaced for the next one when its user leaves.
	ConnectionIDs []string `json:"connection_ids,omitempty"`
	Relay         bool     `json:"relay,omitempty"`
}

// NewEvent returns an event of the given type at t with data encoded as
// JSON; the store gives it its ID and sequence number.
func NewEvent(typ string, t time.Time, data any) Event {
	raw, err := json.Marshal(data)
	if err != nil {
		raw = []byte("{}")
	}
	return Event{Type: typ, Time: t.UTC(), Data: raw}
}

// ConnectionEvent returns a connection.* event about c.
func ConnectionEvent(typ string, t time.Time, c *Connection) Event {
	d := ConnectionEventData{
		ConnectionID: c.ID, ZoomUserID: c.ZoomUserID, ExternalUserID: c.ExternalUserID,
		Metadata: c.Metadata, State: c.State, Reason: c.DisconnectedReason,
	}
	if typ == EventConnectionDeleted {
		d.State = ""
	}
	return NewEvent(typ, t, d)
}

// NewBotEvent returns a bot.* event about b; previous is the status it had.
func NewBotEvent(typ string, t time.Time, b *Bot, previous BotStatus) Event {
	return NewEvent(typ, t, BotEventData{
		ConnectionID: b.ConnectionID, ExternalUserID: b.ExternalUserID, BotID: b.ID, Platform: b.Platform, PlatformBotID: b.PlatformBotID,
		MeetingID: b.MeetingID, Status: b.Status, Previous: previous, Reason: b.StatusReason,
		Failure: b.Failure, FailureCode: b.FailureCode, RelayedFrom: b.RelayedFrom, RelayedTo: b.RelayedTo,
		ConnectionIDs: b.ConnectionIDs, Relay: b.Relay,
	})
}
