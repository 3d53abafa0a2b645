package api

import (
	"context"
	"strings"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/ratelimit"
)

// who names the person a token is minted for, by exactly one identifier:
// a connection, a Zoom user (connected, or of the account in account
// mode), the product's own user ID (of exactly one connection), or an
// email of a user of the account (account mode).
type who struct {
	ConnectionID   string `json:"connection_id,omitempty"`
	ZoomUserID     string `json:"zoom_user_id,omitempty"`
	ExternalUserID string `json:"external_user_id,omitempty"`
	Email          string `json:"email,omitempty"`
}

// maxByExternal is how many connections of one external user an
// ambiguity error lists.
const maxByExternal = 10

// accountHint says how to turn account mode on.
const accountHint = "Account mode (tokens for users of your Zoom account without a connection) is off: set ZOOM_ACCOUNT_ID, ZOOM_S2S_CLIENT_ID and ZOOM_S2S_CLIENT_SECRET (a Zoom Server-to-Server OAuth app), then restart."

// field names the identifier given.
func (w who) field() string {
	switch {
	case w.ConnectionID != "":
		return "connection_id"
	case w.ZoomUserID != "":
		return "zoom_user_id"
	case w.ExternalUserID != "":
		return "external_user_id"
	}
	return "email"
}

// check requires exactly one valid identifier; prefix starts the field
// names of errors ("participants[3].").
func (w who) check(prefix string) error {
	n := 0
	for _, v := range []string{w.ConnectionID, w.ZoomUserID, w.ExternalUserID, w.Email} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return onbehalf.FieldError(prefix+"connection_id", "Name exactly one of connection_id, zoom_user_id, external_user_id or email in %s (%d given).",
			strings.TrimSuffix(prefix, ".")+orBody(prefix), n)
	}
	f := prefix + w.field()
	switch {
	case w.ConnectionID != "":
		return checkID(f, w.ConnectionID, maxID)
	case w.ZoomUserID != "":
		return checkID(f, w.ZoomUserID, maxID)
	case w.ExternalUserID != "":
		return checkExternalUserID(f, w.ExternalUserID, true)
	}
	if err := checkID(f, w.Email, 254); err != nil {
		return err
	}
	if !strings.Contains(w.Email, "@") {
		return onbehalf.FieldError(f, "Bad %s: not an email address.", f)
	}
	return nil
}

// orBody names the request body when there is no prefix.
func orBody(prefix string) string {
	if prefix == "" {
		return "the body"
	}
	return ""
}

// mint mints a token of kind for w: by connection through the token
// manager (refreshing as needed, one refresh per connection whatever the
// number of callers), or through the account minter for a user of the
// account with no connection. Errors name the field (prefix + the
// identifier) and say what to do.
func (s *server) mint(ctx context.Context, w who, prefix string, kind onbehalf.TokenKind, meetingID string) (string, error) {
	field := prefix + w.field()
	connID, account, err := s.resolve(ctx, w, field)
	if err != nil {
		return "", err
	}
	if account != "" {
		return s.mintAccount(ctx, account, field, kind, meetingID)
	}
	if kind == onbehalf.KindZAK && !s.o.AllowZAK {
		return "", onbehalf.ZAKRefused()
	}
	if err := s.limitConn(connID); err != nil {
		return "", err
	}
	tok, err := s.o.Minter.Mint(ctx, connID, kind, meetingID)
	if err == nil && tok == "" {
		err = onbehalf.Errorf(onbehalf.EUPSTREAM, "Zoom returned an empty token.")
	}
	if err != nil {
		return "", explainMint(err, field)
	}
	if s.o.Recorder != nil {
		s.o.Recorder.Record(onbehalf.TokenFetch{ConnectionID: connID, Platform: "api", At: s.o.Now(), Kind: kind, HTTPStatus: 200})
	}
	return tok, nil
}

// resolve finds the connection w names, or the account user to mint for
// when account mode is on and no connection matches.
func (s *server) resolve(ctx context.Context, w who, field string) (connID, account string, err error) {
	switch {
	case w.ConnectionID != "":
		return w.ConnectionID, "", nil
	case w.ZoomUserID != "":
		c, err := s.o.Store.ConnectionByZoomUser(ctx, w.ZoomUserID)
		switch {
		case err == nil:
			return c.ID, "", nil
		case onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND:
			return "", "", err
		case s.o.Account != nil:
			return "", w.ZoomUserID, nil
		}
		return "", "", &onbehalf.Error{Code: onbehalf.ENOTFOUND, Field: field, Message: "No connection for this Zoom user: send them a connect link (POST /api/v1/connect-links). " + accountHint}
	case w.ExternalUserID != "":
		conns, next, err := s.o.Store.ListConnections(ctx, onbehalf.ConnectionFilter{ExternalUserID: w.ExternalUserID, Limit: maxByExternal})
		switch {
		case err != nil:
			return "", "", err
		case len(conns) == 0:
			return "", "", &onbehalf.Error{Code: onbehalf.ENOTFOUND, Field: field, Message: "No connection for this external user: send them a connect link (POST /api/v1/connect-links)."}
		case len(conns) > 1:
			ids := make([]string, len(conns))
			for i, c := range conns {
				ids[i] = c.ID
			}
			more := ""
			if next != "" {
				more = " and more"
			}
			return "", "", &onbehalf.Error{Code: onbehalf.ECONFLICT, Field: field, Message: "This external user has several Zoom connections (" +
				strings.Join(ids, ", ") + more + "): name one with connection_id or zoom_user_id."}
		}
		return conns[0].ID, "", nil
	}
	if s.o.Account == nil {
		return "", "", &onbehalf.Error{Code: onbehalf.ENOTFOUND, Field: field, Message: "Tokens by email are for users of your Zoom account (account mode). " + accountHint}
	}
	return "", w.Email, nil
}

// mintAccount mints for a user of the account (account mode).
func (s *server) mintAccount(ctx context.Context, user, field string, kind onbehalf.TokenKind, meetingID string) (string, error) {
	if err := s.limitConn("account:" + strings.ToLower(user)); err != nil {
		return "", err
	}
	tok, err := s.o.Account.Mint(ctx, user, kind, meetingID)
	if err != nil {
		// The minter names its input zoom_user_id; the caller may have
		// said email, or be an item of a batch.
		if f := onbehalf.ErrorField(err); f == "zoom_user_id" || (f == "" && onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND) {
			e := onbehalf.Recode(err, onbehalf.ErrorCode(err))
			e.Field = field
			err = e
		}
		return "", err
	}
	return tok, nil
}

// limitConn takes one mint from the connection's budget (shared with the
// token callbacks).
func (s *server) limitConn(key string) error {
	if s.o.PerConnection == nil {
		return nil
	}
	if ok, wait := s.o.PerConnection.Allow(key, s.o.Now()); !ok {
		return ratelimit.TooMany(wait, "Too many tokens for this connection (RATE_LIMIT_PER_CONNECTION).")
	}
	return nil
}

// explainMint says what to do about the token manager's errors a caller
// must act on.
func explainMint(err error, field string) error {
	switch onbehalf.ErrorCode(err) {
	case onbehalf.ENOTFOUND:
		return errNoConnection(field)
	case onbehalf.EDISCONNECTED:
		return &onbehalf.Error{Code: onbehalf.EDISCONNECTED, Field: field, Err: err, Message: "This Zoom connection no longer works (" +
			onbehalf.Inner(onbehalf.ErrorMessage(err)) + "). The user must connect Zoom again (send a new connect link, POST /api/v1/connect-links); the connection keeps its ID."}
	}
	return err
}
