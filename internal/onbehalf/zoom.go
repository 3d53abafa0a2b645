package onbehalf

import (
	"context"
	"time"
)

// Zoom is the part of Zoom's API the token manager needs.
type Zoom interface {
	// Refresh exchanges a refresh token for a new token pair. Zoom rotates
	// refresh tokens: the old one stops working once this succeeds. A
	// rejected grant is an *Error with code EDISCONNECTED.
	Refresh(ctx context.Context, refreshToken string) (Token, error)
	// MintToken mints a token of the given kind with a user's access token:
	// OBF and ZAK through GET /users/me/token, a host's join token through
	// GET /meetings/{id}/jointoken/local_recording. meetingID is required
	// unless the kind is KindZAK. A rejected access token is an *Error with
	// code EUNAUTHORIZED.
	MintToken(ctx context.Context, accessToken string, kind TokenKind, meetingID string) (string, error)
}

// AccountZoom is Zoom for a Server-to-Server OAuth app (account mode): an
// account token minted with grant_type=account_credentials, and tokens
// minted for any user of that account.
type AccountZoom interface {
	// AccountToken gets a new account access token.
	AccountToken(ctx context.Context) (Token, error)
	// MintTokenFor mints a token of the given kind for a user of the
	// account (Zoom user ID or email) through GET /users/{userId}/token.
	MintTokenFor(ctx context.Context, accessToken, userID string, kind TokenKind, meetingID string) (string, error)
}

// TokenMinter mints Zoom tokens for a connection, refreshing its token pair
// as needed.
type TokenMinter interface {
	Mint(ctx context.Context, connID string, kind TokenKind, meetingID string) (string, error)
}

// Refresher refreshes a connection's token pair when its access token
// expires before a time. It shares the callbacks' single-flight path, so a
// scheduled refresh and a callback never both spend one refresh token; a
// connection refreshed meanwhile is skipped (refreshed is false).
type Refresher interface {
	RefreshIfExpiring(ctx context.Context, connID string, before time.Time) (refreshed bool, err error)
}

// PresenceScope is the optional Zoom scope that lets the server read a
// connected user's presence status (GET /users/me/presence_status): a user
// whom Zoom reports in a meeting is tried first among a bot's candidates.
// Zoom's presence does not name the meeting.
const PresenceScope = "user:read:presence_status"

// RefreshState is what one instance knows of a connection's recent Zoom
// refreshes beyond the store (failures that were not a dead grant live in
// memory, as connection.recovered does): what the person's page shows.
type RefreshState struct {
	// Failing: the last refreshes failed (Fails in a row, the last for
	// Reason, a sentence without its final period); token requests fail
	// fast until Until.
	Failing bool
	Fails   int
	Reason  string
	Until   time.Time
	// RecoveredAt is when failing refreshes last worked again (zero:
	// not lately), after RecoveredAfter failures.
	RecoveredAt    time.Time
	RecoveredAfter int
}
