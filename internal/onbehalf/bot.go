package onbehalf

import "time"

// BotStatus is the small status vocabulary every platform's words are
// mapped to.
type BotStatus string

// Bot statuses, in the order a bot normally goes through them.
const (
	// BotCreated: the platform accepted the bot.
	BotCreated BotStatus = "created"
	// BotJoining: the bot is on its way into the meeting.
	BotJoining BotStatus = "joining"
	// BotWaiting: the bot waits for its person to join (OBF), or in the
	// waiting room.
	BotWaiting BotStatus = "waiting"
	// BotInCall: the bot is in the meeting.
	BotInCall BotStatus = "in_call"
	// BotDone: the bot left (the meeting ended, or its person left).
	BotDone BotStatus = "done"
	// BotFailed: the bot could not join or was thrown out; the reason says
	// why.
	BotFailed BotStatus = "failed"
)

// Final reports whether no later status can follow: once a bot is final,
// later reports only go on its timeline (ApplyStatusReport).
func (s BotStatus) Final() bool { return s == BotDone || s == BotFailed }

// Bot is a bot this server asked a platform to create, with its timeline.
type Bot struct {
	ID            string `json:"id"`
	Platform      string `json:"platform"`
	PlatformBotID string `json:"platform_bot_id"`
	ConnectionID  string `json:"connection_id"`
	// ConnectionIDs are the bot's candidates in order of preference
	// (connection_ids, at most MaxCandidates): whose OBF token a fetch
	// gets is chosen among them. ConnectionID is the first. Empty for a
	// bot of one connection (and for bots made before candidates).
	ConnectionIDs []string `json:"connection_ids,omitempty"`
	// TeamOf is, for a bot that may use teammates' tokens, the connection
	// of the person who sent it: every other candidate (the first of a
	// relayed bot too) must still consent towards them at each fetch.
	// Relays carry it. "" for a bot of the person's own connections.
	TeamOf string `json:"team_of,omitempty"`
	// Relay: when the platform reports the bot removed because its
	// on-behalf user left, a new bot is sent for the next candidate.
	Relay bool `json:"relay,omitempty"`
	// RelayedFrom is the bot this one replaced; RelayedTo the bot that
	// replaced this one ("" when none).
	RelayedFrom string `json:"relayed_from,omitempty"`
	RelayedTo   string `json:"relayed_to,omitempty"`
	// Failure is why the bot failed or was removed, in the one vocabulary
	// (FailureCode: the platform's raw code beside it); "" while none.
	Failure     JoinFailure `json:"failure,omitempty"`
	FailureCode string      `json:"failure_code,omitempty"`
	// ExternalUserID is the connection's external user when the bot was
	// created ("" for bots created before it was kept, or none).
	ExternalUserID string `json:"external_user_id,omitempty"`
	MeetingID      string `json:"meeting_id"`
	// MeetingURL is the canonical join URL the platform got (with the
	// passcode), kept so that a relay sends the next bot to the same
	// meeting; "" for bots made before it was kept. Never in API replies.
	MeetingURL string      `json:"meeting_url,omitempty"`
	BotName    string      `json:"bot_name,omitempty"`
	Kinds      []TokenKind `json:"kinds"`
	Status     BotStatus   `json:"status"`
	// StatusReason is the platform's words (or Zoom's) for the status.
	StatusReason string `json:"status_reason,omitempty"`
	// StatusAt is when the status changed, by the platform's clock when it
	// said.
	StatusAt  time.Time `json:"status_at"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// JoinAt is the join time the bot was scheduled for on its platform
	// (JoinScheduler); zero for a bot that joins when created.
	JoinAt time.Time `json:"join_at,omitzero"`
	// Timeline holds the status reports and token fetches, oldest first,
	// at most MaxTimeline, each message at most MaxTimelineMessage bytes.
	Timeline []BotEvent `json:"timeline"`
}

// MaxTimeline bounds a bot's timeline; the oldest entries go first, but
// the first entry and the final status reports stay (see evict).
const MaxTimeline = 200

// BotEvent is one entry of a bot's timeline: a status report from the
// platform, or a token fetch seen by this server.
type BotEvent struct {
	At time.Time `json:"at"`
	// Type is "status" or "token".
	Type string `json:"type"`

	// Status report: the mapped status, the platform's code and sub-code,
	// and the platform's event ID (used to drop duplicates).
	Status  BotStatus `json:"status,omitempty"`
	Code    string    `json:"code,omitempty"`
	SubCode string    `json:"sub_code,omitempty"`
	EventID string    `json:"event_id,omitempty"`
	// Failure is the status report's reason in the one vocabulary.
	Failure JoinFailure `json:"failure,omitempty"`

	// Relay: the other bot (the one this bot was relayed to, or from)
	// and, in ConnectionID, the connection the new bot got.
	RelayBotID string `json:"relay_bot_id,omitempty"`

	// Token fetch: the kind, the HTTP status answered and, when it failed,
	// the reason (Zoom's code and message).
	Kind       TokenKind `json:"kind,omitempty"`
	HTTPStatus int       `json:"http_status,omitempty"`
	// ConnectionID is, for a bot of several candidates, whose token the
	// fetch got, and Why says why that one ("in a meeting", "next after
	// …").
	ConnectionID string `json:"connection_id,omitempty"`
	Why          string `json:"why,omitempty"`

	// Message is the human-readable part (a status reason, a token error).
	Message string `json:"message,omitempty"`

	// Count is how many identical token fetches in a row this entry
	// stands for (0 and 1: one), and LastAt when the last of them came: a
	// platform that fetches again and again fills one entry, not the
	// whole timeline, so the status reports stay readable.
	Count  int       `json:"count,omitempty"`
	LastAt time.Time `json:"last_at,omitzero"`
}

// Timeline entry types.
const (
	BotEventStatus = "status"
	BotEventToken  = "token"
	// BotEventRelay links a bot removed because its person left to the
	// bot sent for the next candidate (on both timelines).
	BotEventRelay = "relay"
)

// StatusReport is a platform's bot status webhook, mapped.
type StatusReport struct {
	Platform      string
	PlatformBotID string
	// EventID identifies the report at the platform, when it has one
	// (duplicates are dropped).
	EventID string
	Status  BotStatus
	Code    string
	SubCode string
	Message string
	// Failure is Code (and SubCode) in the one vocabulary, when the
	// report is a failed join or a removal; "" otherwise.
	Failure JoinFailure
	// At is the platform's timestamp of the change (zero: when received).
	At time.Time

	// RelayTo, when set, makes the report this server's relay of the bot
	// to the bot of that ID (RelayConnectionID: the connection it got):
	// ApplyStatusReport then sets Bot.RelayedTo if it is still empty, a
	// compare-and-swap inside the store's write, and puts the relay on
	// the timeline; the other fields but EventID, Message and At are
	// unused.
	RelayTo           string
	RelayConnectionID string
	// RelayEvent, with RelayTo, is the bot.relayed event the store writes
	// in the same transaction as the link, when the link is made: the
	// event is never lost between the two (nil: none).
	RelayEvent *Event
}

// TokenFetch is a platform's token request, as served: it goes on the
// bot's timeline (when the URL names a bot) and, when it failed, becomes a
// token.failed event.
type TokenFetch struct {
	ConnectionID string
	BotID        string
	Platform     string
	At           time.Time
	Kind         TokenKind
	HTTPStatus   int
	// Message is the failure's reason, "" on success.
	Message string
	// Why says, for a bot of several candidates, why ConnectionID's
	// token was served.
	Why string
}

// BotFilter selects bots for a listing.
type BotFilter struct {
	ConnectionID string
	Platform     string
	// Limit bounds the page (default and maximum set by the caller).
	Limit int
	// Cursor is the opaque position returned by the previous page.
	Cursor string
}
