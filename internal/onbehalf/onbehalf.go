// Package onbehalf holds the domain types of the server and the small
// interfaces that its adapters (the stores, the Zoom client, the bot
// platforms, the web and API handlers) implement or consume. It imports
// nothing from the rest of the project.
package onbehalf

import (
	"encoding/json"
	"strings"
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

	// ExternalUserID is the product's own ID for the person (API connect
	// links); Metadata is the product's JSON object about them. Both are
	// optional and kept as given.
	ExternalUserID string          `json:"external_user_id,omitempty"`
	Metadata       json.RawMessage `json:"metadata,omitempty"`

	// TeamConsent: the person said yes to "let my teammates' bots join on
	// my behalf" (their own page): people connected from the same Zoom
	// account may name this connection as a further candidate of their
	// bots. It is read again at each token fetch, so withdrawing it takes
	// effect at the next one.
	TeamConsent bool `json:"team_consent,omitempty"`

	// Token holds the OAuth token pair. It is empty when disconnected.
	Token Token `json:"token,omitzero"`

	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	RefreshedAt time.Time `json:"refreshed_at,omitzero"`
	// MintedAt is when a token was last minted for the connection; it is
	// written in batches, so it may lag by a few seconds.
	MintedAt time.Time `json:"minted_at,omitzero"`
	// GrantedAt is when the current grant was stored (connected or
	// reconnected): a Zoom deauthorization from before it is about an
	// older grant and changes nothing. Zero for connections stored before
	// it was recorded (any deauthorization then applies, as it used to).
	GrantedAt time.Time `json:"granted_at,omitzero"`

	DisconnectedAt     time.Time `json:"disconnected_at,omitzero"`
	DisconnectedReason string    `json:"disconnected_reason,omitempty"`
}

// DisconnectRefreshFailed is the machine code of a connection whose
// refresh token Zoom refused (the grant was revoked, or a rotation was
// lost): the one way a connection becomes disconnected (a deauthorization
// deletes it).
const DisconnectRefreshFailed = "refresh_failed"

// DisconnectedCode is the machine code beside DisconnectedReason: "" while
// connected. It is derived, not stored, so that connections disconnected
// by any earlier version read the same.
func (c *Connection) DisconnectedCode() string {
	if c.State != StateDisconnected {
		return ""
	}
	return DisconnectRefreshFailed
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

// GrantedSince reports whether the connection's current grant was stored
// after t: a Zoom deauthorization at t is then about an earlier grant (a
// late or replayed app_deauthorized) and must not delete it. False when
// either time is unknown, so that such a deauthorization still applies.
func (c *Connection) GrantedSince(t time.Time) bool {
	return !c.GrantedAt.IsZero() && !t.IsZero() && t.Before(c.GrantedAt)
}

// Scopes returns the scopes the connection's grant holds ("" when Zoom did
// not say).
func (c *Connection) Scopes() []string { return strings.Fields(c.Token.Scope) }

// HasScope reports whether the grant holds a scope, or whether Zoom did not
// say which scopes it holds (then nothing is refused in advance: Zoom will
// answer for itself).
func (c *Connection) HasScope(scope string) bool {
	if c.Token.Scope == "" {
		return true
	}
	for _, s := range c.Scopes() {
		if s == scope {
			return true
		}
	}
	return false
}

// Authorization is a fresh grant of a Zoom user, as the OAuth callback (or
// the API's code exchange) obtained it, with what the product said about
// the person.
type Authorization struct {
	User           ZoomUser
	Token          Token
	ExternalUserID string
	Metadata       json.RawMessage
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

// Due is a connection whose access token expires at Expiry; the keep-alive
// scheduler refreshes it before then.
type Due struct {
	ConnID string
	Expiry time.Time
}
