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
	CreatedAt          time.Time          `json:"created_at"`
	UpdatedAt          time.Time          `json:"updated_at"`
	LastRefreshedAt    *time.Time         `json:"last_refreshed_at"`
	LastMintedAt       *time.Time         `json:"last_minted_at"`
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
		CreatedAt:          c.CreatedAt.UTC(),
		UpdatedAt:          c.UpdatedAt.UTC(),
		LastRefreshedAt:    optTime(c.RefreshedAt),
		LastMintedAt:       optTime(c.MintedAt),
	}
}

// botJSON is a bot in a reply, with its timeline.
type botJSON struct {
	ID             string               `json:"id"`
	Platform       string               `json:"platform"`
	PlatformBotID  string               `json:"platform_bot_id"`
	ConnectionID   string               `json:"connection_id"`
	ConnectionIDs  []string             `json:"connection_ids,omitempty"`
	ExternalUserID *string              `json:"external_user_id"`
	MeetingID      string               `json:"meeting_id"`
	BotName        string               `json:"bot_name"`
	Kinds          []onbehalf.TokenKind `json:"kinds"`
	Status         onbehalf.BotStatus   `json:"status"`
	StatusReason   *string              `json:"status_reason"`
	StatusAt       time.Time            `json:"status_at"`
	CreatedAt      time.Time            `json:"created_at"`
	UpdatedAt      time.Time            `json:"updated_at"`
	Timeline       []botEventJSON       `json:"timeline"`
}

// botEventJSON is one entry of a bot's timeline: a status report of the
// platform, or a token fetch (its kind, the HTTP status answered and, when
// it failed, why: Zoom's code and message).
type botEventJSON struct {
	At         time.Time          `json:"at"`
	Type       string             `json:"type"`
	Status     onbehalf.BotStatus `json:"status,omitempty"`
	Code       string             `json:"code,omitempty"`
	SubCode    string             `json:"sub_code,omitempty"`
	Kind       onbehalf.TokenKind `json:"kind,omitempty"`
	HTTPStatus int                `json:"http_status,omitempty"`
	// ConnectionID and Why: whose token a fetch of a bot of several
	// candidates got, and why that one.
	ConnectionID string `json:"connection_id,omitempty"`
	Why          string `json:"why,omitempty"`
	Message      string `json:"message,omitempty"`
	// Count and LastAt: identical fetches in a row share one entry.
	Count  int        `json:"count,omitempty"`
	LastAt *time.Time `json:"last_at,omitempty"`
}

// botView renders a bot and its timeline.
func botView(b *onbehalf.Bot) botJSON {
	kinds := b.Kinds
	if kinds == nil {
		kinds = []onbehalf.TokenKind{}
	}
	tl := make([]botEventJSON, len(b.Timeline))
	for i, e := range b.Timeline {
		tl[i] = botEventJSON{At: e.At.UTC(), Type: e.Type, Status: e.Status, Code: e.Code, SubCode: e.SubCode,
			Kind: e.Kind, HTTPStatus: e.HTTPStatus, ConnectionID: e.ConnectionID, Why: e.Why, Message: e.Message, LastAt: optTime(e.LastAt)}
		if e.Count > 1 {
			tl[i].Count = e.Count
		}
	}
	return botJSON{
		ID: b.ID, Platform: b.Platform, PlatformBotID: b.PlatformBotID, ConnectionID: b.ConnectionID, ConnectionIDs: b.ConnectionIDs, ExternalUserID: optString(b.ExternalUserID),
		MeetingID: b.MeetingID, BotName: b.BotName, Kinds: kinds, Status: b.Status,
		StatusReason: optString(b.StatusReason), StatusAt: b.StatusAt.UTC(),
		CreatedAt: b.CreatedAt.UTC(), UpdatedAt: b.UpdatedAt.UTC(), Timeline: tl,
	}
}

// optString is nil for "".
func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// optTime is nil for the zero time.
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}
