// Package onbehalf holds the domain types of the server and the small
// interfaces that its adapters (bbolt store, Zoom client, bot platform
// clients, web handlers) implement or consume. It imports nothing from the
// rest of the project.
package onbehalf

import (
	"context"
	"time"
)

// ConnState is the lifecycle state of a Zoom connection.
type ConnState string

// Connection states.
const (
	// StateConnected means the connection holds a usable token pair.
	StateConnected ConnState = "connected"
	// StateDisconnected means Zoom rejected the refresh token (or the user
	// disconnected); the record and its ID are kept, the tokens are wiped.
	StateDisconnected ConnState = "disconnected"
)

// Connection is one Zoom user's authorization of this app.
//
// ID is random and opaque; it is what token URLs carry as user_id. The same
// Zoom user authorizing again updates the same Connection and keeps its ID.
type Connection struct {
	ID          string    `json:"id"`
	ZoomUserID  string    `json:"zoom_user_id"`
	AccountID   string    `json:"account_id,omitempty"`
	Email       string    `json:"email,omitempty"`
	DisplayName string    `json:"display_name,omitempty"`
	State       ConnState `json:"state"`

	// Token holds the OAuth token pair. It is empty when disconnected.
	Token Token `json:"token,omitzero"`

	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	RefreshedAt time.Time `json:"refreshed_at,omitzero"`

	DisconnectedAt     time.Time `json:"disconnected_at,omitzero"`
	DisconnectedReason string    `json:"disconnected_reason,omitempty"`
}

// Token is an OAuth access/refresh token pair as issued by Zoom.
type Token struct {
	AccessToken  string    `json:"access_token,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	Scope        string    `json:"scope,omitempty"`
}

// Connected reports whether the connection holds a usable token pair.
func (c *Connection) Connected() bool {
	return c.State == StateConnected && c.Token.RefreshToken != ""
}

// ZoomUser is the identity returned by Zoom's GET /users/me.
type ZoomUser struct {
	ID          string `json:"id"`
	AccountID   string `json:"account_id"`
	Email       string `json:"email"`
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name"`
	DisplayName string `json:"display_name"`
	Status      string `json:"status"`
}

// Name returns the best human-readable name of the user.
func (u ZoomUser) Name() string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	switch {
	case u.FirstName != "" && u.LastName != "":
		return u.FirstName + " " + u.LastName
	case u.FirstName != "":
		return u.FirstName
	}
	return u.LastName
}

// TokenKind names a kind of Zoom token minted for a connection.
type TokenKind string

// Token kinds.
const (
	// KindOBF is an On-Behalf-Of token, bound to one meeting.
	KindOBF TokenKind = "obf"
	// KindZAK is a Zoom Access Key: the bot signs in as the user.
	KindZAK TokenKind = "zak"
)

// ZoomType returns the value of the type parameter of Zoom's
// GET /users/me/token for this kind.
func (k TokenKind) ZoomType() string {
	if k == KindOBF {
		return "onbehalf"
	}
	return string(k)
}

// ConnectionStore persists connections. Implementations return an *Error
// with code ENOTFOUND for unknown IDs.
type ConnectionStore interface {
	// Connection returns the connection with the given ID.
	Connection(ctx context.Context, id string) (*Connection, error)
	// UpsertConnection stores a freshly authorized connection for a Zoom
	// user. When a connection already exists for that Zoom user, it is
	// updated in place and keeps its ID; otherwise a new ID is assigned.
	// It returns the stored connection.
	UpsertConnection(ctx context.Context, user ZoomUser, tok Token) (*Connection, error)
	// SaveToken commits a refreshed token pair for a connection. It is
	// durable (fsynced) when it returns nil.
	SaveToken(ctx context.Context, id string, tok Token) (*Connection, error)
	// MarkDisconnected wipes the token pair of a connection and records
	// when and why it stopped working. The record and its ID are kept.
	MarkDisconnected(ctx context.Context, id, reason string) error
}

// Zoom is the part of Zoom's API the token manager needs.
type Zoom interface {
	// Refresh exchanges a refresh token for a new token pair. Zoom rotates
	// refresh tokens: the old one stops working once this succeeds.
	// A rejected grant is an *Error with code ECONFLICT.
	Refresh(ctx context.Context, refreshToken string) (Token, error)
	// MintToken mints a token of the given kind with an access token.
	// meetingID is required for KindOBF and ignored otherwise. A rejected
	// access token is an *Error with code EUNAUTHORIZED.
	MintToken(ctx context.Context, accessToken string, kind TokenKind, meetingID string) (string, error)
}

// TokenMinter mints Zoom tokens for a connection, refreshing its token pair
// as needed.
type TokenMinter interface {
	Mint(ctx context.Context, connID string, kind TokenKind, meetingID string) (string, error)
}

// BotRequest asks a bot platform to send a bot to a meeting.
type BotRequest struct {
	MeetingURL  string
	BotName     string
	OBFTokenURL string
	ZAKURL      string
}

// Bot is a bot created on a bot platform.
type Bot struct {
	ID string
}

// BotLauncher creates bots on a bot platform. Platform errors are *Error
// values with code EUPSTREAM whose message carries the platform's status
// and message.
type BotLauncher interface {
	CreateBot(ctx context.Context, req BotRequest) (*Bot, error)
}

// Due is a connection whose access token expires at Expiry; the keep-alive
// scheduler refreshes it before then.
type Due struct {
	ConnID string
	Expiry time.Time
}

// DueLister lists connected connections whose access token expires before
// a time, soonest first.
type DueLister interface {
	DueBefore(ctx context.Context, before time.Time, limit int) ([]Due, error)
}

// Refresher refreshes a connection's token pair when its access token
// expires before a time. It shares the callbacks' single-flight path, so a
// scheduled refresh and a callback never both spend one refresh token; a
// connection refreshed meanwhile is skipped (refreshed is false).
type Refresher interface {
	RefreshIfExpiring(ctx context.Context, connID string, before time.Time) (refreshed bool, err error)
}
