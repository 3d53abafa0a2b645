package zoom

import (
	"context"
	"net/url"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Account mode: a Server-to-Server OAuth app gets account access tokens
// with grant_type=account_credentials and mints tokens for the users of
// its account, with no per-user grant.

// accountConfig is the account_credentials grant of a Server-to-Server
// app: POST {oauth}/oauth/token, Basic client_id:client_secret, form
// grant_type=account_credentials&account_id=… (x/oauth2 lets the grant
// type be replaced).
func accountConfig(tokenURL, accountID, clientID, clientSecret string) *clientcredentials.Config {
	return &clientcredentials.Config{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		TokenURL:     tokenURL,
		EndpointParams: url.Values{
			"grant_type": {"account_credentials"},
			"account_id": {accountID},
		},
		// Explicit: auto-detection would retry a refused request with the
		// secret in the body.
		AuthStyle: oauth2.AuthStyleInHeader,
	}
}

// AccountMode reports whether the Server-to-Server app is configured.
func (c *Client) AccountMode() bool { return c.account != nil }

// AccountToken gets a new account access token (about an hour, no refresh
// token): callers cache it. Without account mode it is EUNAVAILABLE;
// refused credentials (invalid_client, unsupported_grant_type when they
// are a General app's) are EUPSTREAM with Zoom's words.
func (c *Client) AccountToken(ctx context.Context) (onbehalf.Token, error) {
	if c.account == nil {
		return onbehalf.Token{}, onbehalf.Errorf(onbehalf.EUNAVAILABLE,
			"Account mode is not configured: set ZOOM_ACCOUNT_ID, ZOOM_S2S_CLIENT_ID and ZOOM_S2S_CLIENT_SECRET.")
	}
	ctx, cancel := c.context(ctx, c.timeout)
	defer cancel()
	t, err := c.account.Token(ctx)
	if err != nil {
		return onbehalf.Token{}, oauthError(err, "getting the account token", onbehalf.EUPSTREAM)
	}
	return fromOAuth(t), nil
}

// MintTokenFor mints a token of the given kind for a user of the account
// (Zoom user ID or email) with an account access token: OBF and ZAK
// through GET /users/{userId}/token, a join token through GET
// /meetings/{meetingId}/jointoken/local_recording (Zoom checks that the
// meeting's host is in the account; userID is not sent for that kind).
//
// Zoom decides what an account app may mint for whom; its refusals are
// EUPSTREAM with its code and message. A user Zoom does not know in the
// account (code 1001) is ENOTFOUND; a rejected account token is
// EUNAUTHORIZED (get a new one and try again).
func (c *Client) MintTokenFor(ctx context.Context, accessToken, userID string, kind onbehalf.TokenKind, meetingID string) (string, error) {
	if userID == "" {
		return "", onbehalf.FieldError("zoom_user_id", "Missing Zoom user ID or email.")
	}
	base := c.apiURL + "/users/" + url.PathEscape(userID) + "/token?type="
	var (
		tok string
		err error
	)
	switch kind {
	case onbehalf.KindOBF:
		tok, err = c.mint(ctx, base+"onbehalf&meeting_id="+url.QueryEscape(meetingID), accessToken, whatOBF)
	case onbehalf.KindZAK:
		tok, err = c.mint(ctx, base+"zak", accessToken, whatZAK)
	case onbehalf.KindJoin:
		return c.MintToken(ctx, accessToken, kind, meetingID)
	default:
		return "", unknownKind(kind)
	}
	if code, _, ok := APIErrorCode(err); ok && code == zoomUserNotFound {
		return "", onbehalf.Recode(err, onbehalf.ENOTFOUND)
	}
	return tok, err
}
