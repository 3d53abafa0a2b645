package tokens

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"golang.org/x/sync/singleflight"
)

// Account mints tokens for the users of one Zoom account with a
// Server-to-Server OAuth app (account mode): no per-user connection, one
// account token for everyone. The account token is cached until
// AccountMargin before it expires and fetched once for all the callers
// that need a new one at the same time; a token Zoom rejects early (the
// app was deactivated, its scopes changed) is fetched again once.
//
// Zoom decides which kinds an account app may mint for whom: ZAK for the
// account's users is the documented case, OBF tokens are documented as
// minted with the user's own grant. Its refusals are relayed in its own
// words, with what to do.
//
// Set Zoom; every other field has a default. Fields must not change once
// it is in use. Its methods are safe for concurrent use.
type Account struct {
	Zoom onbehalf.AccountZoom
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Margin: a cached account token is replaced when it expires within
	// it. Default AccountMargin.
	Margin time.Duration
	// Logger gets account token fetches; never a token. Default
	// slog.Default().
	Logger *slog.Logger

	mu     sync.Mutex
	tok    onbehalf.Token
	flight singleflight.Group

	fetches atomic.Int64
}

// AccountMargin is how long before its expiry a cached account token is
// replaced.
const AccountMargin = 5 * time.Minute

// accountTTL is the lifetime assumed for an account token whose answer
// said none (Zoom's are an hour).
const accountTTL = time.Hour

// maxAccountUser bounds a Zoom user ID or email.
const maxAccountUser = 256

// Mint mints a token of the given kind for a user of the account, named by
// Zoom user ID or email: OBF and ZAK through GET /users/{userId}/token, a
// host's join token through the meeting's join token endpoint. meetingID
// is required unless the kind is KindZAK.
//
// Errors: EINVALID (bad input, naming the field), ENOTFOUND (Zoom knows
// no such user in the account), EUPSTREAM (Zoom said no: its code and
// message), ETIMEOUT.
func (a *Account) Mint(ctx context.Context, userOrEmail string, kind onbehalf.TokenKind, meetingID string) (string, error) {
	if err := checkAccountMint(userOrEmail, kind, meetingID); err != nil {
		return "", err
	}
	tok, err := a.token(ctx, "")
	if err != nil {
		return "", err
	}
	out, err := a.Zoom.MintTokenFor(ctx, tok, userOrEmail, kind, meetingID)
	if onbehalf.ErrorCode(err) == onbehalf.EUNAUTHORIZED {
		// Zoom rejected an account token before its expiry: get a new one
		// (once for every caller that saw the same rejection) and retry
		// once.
		a.logger().Info("zoom rejected the account token; fetching a new one")
		if tok, err = a.token(ctx, tok); err != nil {
			return "", err
		}
		out, err = a.Zoom.MintTokenFor(ctx, tok, userOrEmail, kind, meetingID)
		if onbehalf.ErrorCode(err) == onbehalf.EUNAUTHORIZED {
			err = &onbehalf.Error{Code: onbehalf.EUPSTREAM, Err: err, Message: onbehalf.ErrorMessage(err) +
				" Zoom rejected a brand-new account token: check that the Server-to-Server app is activated and has the admin scopes (user:read:token:admin, user:read:zak:admin, meeting:read:local_recording_token:admin)."}
		}
	}
	if err != nil {
		return "", explainAccount(err, kind)
	}
	if out == "" {
		return "", onbehalf.Errorf(onbehalf.EUPSTREAM, "Zoom returned an empty token.")
	}
	return out, nil
}

// AccountFetches returns how many account tokens were fetched since
// start.
func (a *Account) AccountFetches() int64 { return a.fetches.Load() }

// checkAccountMint checks a mint's input before any call to Zoom.
func checkAccountMint(user string, kind onbehalf.TokenKind, meetingID string) error {
	switch {
	case user == "":
		return onbehalf.FieldError("zoom_user_id", "Missing Zoom user ID or email of a user of the account.")
	case len(user) > maxAccountUser || strings.ContainsFunc(user, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return onbehalf.FieldError("zoom_user_id", "Bad Zoom user ID or email: too long, or it has blanks or control characters.")
	case !kind.Valid():
		return onbehalf.FieldError("kind", "Unknown token kind: use obf, zak or join.")
	case kind.NeedsMeeting():
		return onbehalf.CheckMeetingID("meeting_id", meetingID)
	}
	return nil
}

// explainAccount adds what to do to Zoom's refusals.
func explainAccount(err error, kind onbehalf.TokenKind) error {
	switch onbehalf.ErrorCode(err) {
	case onbehalf.ENOTFOUND:
		return &onbehalf.Error{Code: onbehalf.ENOTFOUND, Err: err, Message: onbehalf.ErrorMessage(err) +
			" No user with this ID or email in the Zoom account of the Server-to-Server app (ZOOM_ACCOUNT_ID)."}
	case onbehalf.EUPSTREAM:
		if kind == onbehalf.KindOBF {
			return &onbehalf.Error{Code: onbehalf.EUPSTREAM, Err: err, Message: onbehalf.ErrorMessage(err) +
				" Zoom documents OBF tokens as minted with the user's own OAuth grant: connect this user (a connect link) and mint by connection."}
		}
	}
	return err
}

// token returns a live account access token: the cached one unless it
// expires within the margin or is rejected (the token Zoom just rejected;
// "" for none), else a new one fetched once for all concurrent callers.
// The fetch goes on when the caller gives up, so that the others get it.
func (a *Account) token(ctx context.Context, rejected string) (string, error) {
	if tok, ok := a.cached(rejected); ok {
		return tok, nil
	}
	ch := a.flight.DoChan("account", func() (any, error) {
		if tok, ok := a.cached(rejected); ok {
			return tok, nil // fetched by the flight before this one
		}
		return a.fetch(context.WithoutCancel(ctx))
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	case <-ctx.Done():
		return "", onbehalf.WrapError(ctx.Err(), onbehalf.ETIMEOUT, "Timed out waiting for Zoom's account token.")
	}
}

// cached returns the cached account token when it lives beyond the margin
// and is not the rejected one.
func (a *Account) cached(rejected string) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.tok
	if t.AccessToken == "" || t.AccessToken == rejected || t.Expiry.Sub(a.now()) < a.margin() {
		return "", false
	}
	return t.AccessToken, true
}

// fetch gets a new account token from Zoom and caches it.
func (a *Account) fetch(ctx context.Context) (string, error) {
	a.fetches.Add(1)
	t, err := a.Zoom.AccountToken(ctx)
	if err != nil {
		a.logger().Warn("fetching the zoom account token failed", "err", err)
		return "", err
	}
	if t.AccessToken == "" {
		return "", onbehalf.Errorf(onbehalf.EUPSTREAM, "Zoom returned an empty account token.")
	}
	if t.Expiry.IsZero() {
		t.Expiry = a.now().Add(accountTTL)
	}
	a.mu.Lock()
	a.tok = onbehalf.Token{AccessToken: t.AccessToken, Expiry: t.Expiry}
	a.mu.Unlock()
	a.logger().Debug("fetched a zoom account token", "expires", t.Expiry)
	return t.AccessToken, nil
}

func (a *Account) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Account) margin() time.Duration {
	if a.Margin > 0 {
		return a.Margin
	}
	return AccountMargin
}

func (a *Account) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}
