package api

import (
	"encoding/json"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// The API's JSON shapes of connections and bots are written out here, field
// by field, rather than taken from the domain types: a connection holds
// its token pair, which no reply may ever carry, and the documented shape
// must not change when a domain type gains a field.

// connectionJSON is a connection in a reply (docs/api.md). Every field is
// present; values the connection lacks are null.
type connectionJSON struct {
	ID                 string             `json:"id"`
	ZoomUserID         string             `json:"zoom_user_id"`
	AccountID          *string            `json:"account_id"`
	Email              *string            `json:"email"`
	DisplayName        *string            `json:"display_name"`
	ExternalUserID     *string            `json:"external_user_id"`
	Metadata           json.RawMessage    `json:"metadata"`
	State              onbehalf.ConnState `json:"state"`
	DisconnectedReason *string            `json:"disconnected_reason"`
	DisconnectedCode   *string            `json:"disconnected_code"`
	Scopes             []string           `json:"scopes"`
	CreatedAt          stamp              `json:"created_at"`
	UpdatedAt          stamp              `json:"updated_at"`
	LastRefreshedAt    *stamp             `json:"last_refreshed_at"`
	LastMintedAt       *stamp             `json:"last_minted_at"`
}

// connectionView renders a connection, without its tokens.
func connectionView(c *onbehalf.Connection) connectionJSON {
	meta := c.Metadata
	if len(meta) == 0 {
		meta = json.RawMessage("null")
	}
	scopes := c.Scopes()
	if scopes == nil {
		scopes = []string{}
	}
	return connectionJSON{
		ID:                 c.ID,
		ZoomUserID:         c.ZoomUserID,
		AccountID:          optString(c.AccountID),
		Email:              optString(c.Email),
		DisplayName:        optString(c.DisplayName),
		ExternalUserID:     optString(c.ExternalUserID),
		Metadata:           meta,
		State:              c.State,
		DisconnectedReason: optString(c.DisconnectedReason),
		DisconnectedCode:   optString(c.DisconnectedCode()),
		Scopes:             scopes,
		CreatedAt:          stamp(c.CreatedAt),
		UpdatedAt:          stamp(c.UpdatedAt),
		LastRefreshedAt:    optTime(c.RefreshedAt),
		LastMintedAt:       optTime(c.MintedAt),
	}
}

// botJSON is a bot in a reply, with its timeline.
type botJSON struct {
	ID            string   `json:"id"`
	Platform      string   `json:"platform"`
	PlatformBotID string   `json:"platform_bot_id"`
	ConnectionID  string   `json:"connection_id"`
	ConnectionIDs []string `json:"connection_ids"`
	// ExternalUserID is the connection's external user when the bot was
	// created (null: none).
	ExternalUserID *string              `json:"external_user_id"`
	MeetingID      string               `json:"meeting_id"`
	BotName        string               `json:"bot_name"`
	Kinds          []onbehalf.TokenKind `json:"kinds"`
	Status         onbehalf.BotStatus   `json:"status"`
	StatusReason   *string              `json:"status_reason"`
	StatusAt       stamp                `json:"status_at"`
	// Failure is why the bot failed or was removed, in the one
	// vocabulary, with the platform's raw code beside it (null: none).
	Failure     *onbehalf.JoinFailure `json:"failure"`
	FailureCode *string               `json:"failure_code"`
	// Relay, RelayedFrom, RelayedTo: see onbehalf.Bot.
	Relay       bool           `json:"relay"`
	RelayedFrom *string        `json:"relayed_from"`
	RelayedTo   *string        `json:"relayed_to"`
	CreatedAt   stamp          `json:"created_at"`
	UpdatedAt   stamp          `json:"updated_at"`
	Timeline    []botEventJSON `json:"timeline"`
}

// botEventJSON is one entry of a bot's timeline: a status report of the
// platform, or a token fetch (its kind, the HTTP status answered and, when
// it failed, why: Zoom's code and message).
type botEventJSON struct {
	At         stamp              `json:"at"`
	Type       string             `json:"type"`
	Status     onbehalf.BotStatus `json:"status,omitempty"`
	Code       string             `json:"code,omitempty"`
	SubCode    string             `json:"sub_code,omitempty"`
	Kind       onbehalf.TokenKind `json:"kind,omitempty"`
	HTTPStatus int                `json:"http_status,omitempty"`
	// Failure is a status report's reason in the one vocabulary; a relay
	// entry names the other bot (relay_bot_id) and the new bot's
	// connection (connection_id).
	Failure      onbehalf.JoinFailure `json:"failure,omitempty"`
	RelayBotID   string               `json:"relay_bot_id,omitempty"`
	ConnectionID string               `json:"connection_id,omitempty"`
	// Why says why a fetch of a bot of several candidates got
	// connection_id's token.
	Why     string `json:"why,omitempty"`
	Message string `json:"message,omitempty"`
	// Count and LastAt: identical fetches in a row share one entry.
	Count  int    `json:"count,omitempty"`
	LastAt *stamp `json:"last_at,omitempty"`
}

// botView renders a bot and its timeline.
func botView(b *onbehalf.Bot) botJSON {
	kinds := b.Kinds
	if kinds == nil {
		kinds = []onbehalf.TokenKind{}
	}
	candidates := b.ConnectionIDs
	if len(candidates) == 0 {
		candidates = []string{b.ConnectionID}
	}
	tl := make([]botEventJSON, len(b.Timeline))
	for i, e := range b.Timeline {
		tl[i] = botEventJSON{At: stamp(e.At), Type: e.Type, Status: e.Status, Code: e.Code, SubCode: e.SubCode,
			Kind: e.Kind, HTTPStatus: e.HTTPStatus, Failure: e.Failure, RelayBotID: e.RelayBotID, ConnectionID: e.ConnectionID, Why: e.Why,
			Message: e.Message, LastAt: optTime(e.LastAt)}
		if e.Count > 1 {
			tl[i].Count = e.Count
		}
	}
	return botJSON{
		ID: b.ID, Platform: b.Platform, PlatformBotID: b.PlatformBotID, ConnectionID: b.ConnectionID, ConnectionIDs: candidates,
		ExternalUserID: optString(b.ExternalUserID), MeetingID: b.MeetingID, BotName: b.BotName, Kinds: kinds, Status: b.Status,
		StatusReason: optString(b.StatusReason), StatusAt: stamp(b.StatusAt),
		Failure: optFailure(b.Failure), FailureCode: optString(b.FailureCode),
		Relay: b.Relay, RelayedFrom: optString(b.RelayedFrom), RelayedTo: optString(b.RelayedTo),
		CreatedAt: stamp(b.CreatedAt), UpdatedAt: stamp(b.UpdatedAt), Timeline: tl,
	}
}

// optFailure is nil for no failure.
func optFailure(f onbehalf.JoinFailure) *onbehalf.JoinFailure {
	if f == "" {
		return nil
	}
	return &f
}

// optString is nil for "".
func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// optTime is nil for the zero time.
func optTime(t time.Time) *stamp {
	if t.IsZero() {
		return nil
	}
	st := stamp(t)
	return &st
}

// stamp is a time in a reply, written in onbehalf.TimeLayout (UTC,
// milliseconds) as every time the API and the events give.
type stamp time.Time

// MarshalJSON writes the time in onbehalf.TimeLayout.
func (t stamp) MarshalJSON() ([]byte, error) {
	return []byte(`"` + onbehalf.FormatTime(time.Time(t)) + `"`), nil
}

// UnmarshalJSON reads an RFC 3339 time (tests read replies back).
func (t *stamp) UnmarshalJSON(b []byte) error {
	var v time.Time
	if err := v.UnmarshalJSON(b); err != nil {
		return err
	}
	*t = stamp(v)
	return nil
}
