// Package connect is the one connect flow of the server, shared by the
// browser's OAuth callback (package web) and the API's code exchange
// (package api): exchange the code, read the Zoom user, check who may
// connect, store the grant (upsert by Zoom user, keeping the connection
// ID, with its events), and give the grant back to Zoom when it cannot be
// kept, so that nothing stays alive at Zoom that nobody holds.
package connect

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// RevokeTimeout bounds giving back a grant that could not be kept.
const RevokeTimeout = 10 * time.Second

// Zoom is what the flow needs from the Zoom client after the exchange.
type Zoom interface {
	Me(ctx context.Context, accessToken string) (onbehalf.ZoomUser, error)
	// Revoke gives back a grant that could not be kept.
	Revoke(ctx context.Context, token string) error
}

// Connector stores grants: the token manager, which serializes that with
// refreshes (onbehalf.Store.Connect says how).
type Connector interface {
	Connect(ctx context.Context, a onbehalf.Authorization) (*onbehalf.Connection, bool, error)
}

// Service runs the connect flow.
type Service struct {
	Zoom      Zoom
	Connector Connector
	// Policy limits who may connect through the pages (Request.Limited).
	Policy Policy
	Logger *slog.Logger
}

// Request is one connect.
type Request struct {
	// Exchange trades the authorization code for a token pair (with the
	// PKCE verifier, or the product's redirect URI).
	Exchange func(ctx context.Context) (onbehalf.Token, error)
	// ExternalUserID and Metadata are what the product said about the
	// person (a connect link, or the API call); empty for the pages.
	ExternalUserID string
	Metadata       json.RawMessage
	// Limited applies Policy: a connect through the pages that no connect
	// link of the product started.
	Limited bool
}

// Result is a stored connection.
type Result struct {
	Conn    *onbehalf.Connection
	Created bool
	User    onbehalf.ZoomUser
}

// Connect runs the flow. Every failure after the exchange gives the grant
// back to Zoom, except a conflict (onbehalf.ConnectConflict): the grant
// then belongs to the Zoom user's existing connection, which the store
// renewed with it (Zoom's revoke would uninstall the app for that user and
// kill the connection a forwarded link must leave alone).
func (s *Service) Connect(ctx context.Context, r Request) (*Result, error) {
	tok, err := r.Exchange(ctx)
	if err != nil {
		return nil, err
	}
	user, err := s.Zoom.Me(ctx, tok.AccessToken)
	if err != nil {
		if onbehalf.ErrorCode(err) == onbehalf.EUNAUTHORIZED {
			err = &onbehalf.Error{Code: onbehalf.EUPSTREAM, Message: onbehalf.ErrorMessage(err) + " Check that the Zoom app has the user:read:user scope.", Err: err}
		}
		s.giveBack(ctx, tok, "reading the zoom user failed")
		return nil, err
	}
	if r.Limited {
		if err := s.Policy.Check(user); err != nil {
			s.log().InfoContext(ctx, "zoom user refused by ALLOWED_ZOOM_ACCOUNTS / ALLOWED_EMAIL_DOMAINS", "zoom_user", user.ID, "account", user.AccountID)
			s.giveBack(ctx, tok, "the zoom user may not connect here")
			return nil, err
		}
	}
	conn, created, err := s.Connector.Connect(ctx, onbehalf.Authorization{User: user, Token: tok, ExternalUserID: r.ExternalUserID, Metadata: r.Metadata})
	if err != nil {
		if _, ok := errors.AsType[*onbehalf.ConnectConflict](err); ok {
			s.log().WarnContext(ctx, "connect refused: the zoom user is connected for another external user", "err", err)
			return nil, err
		}
		s.giveBack(ctx, tok, "storing the connection failed")
		return nil, err
	}
	return &Result{Conn: conn, Created: created, User: user}, nil
}

// giveBack revokes a grant that was obtained but is not kept. It runs
// detached from the caller's context: a client that went away must not
// leave the grant alive.
func (s *Service) giveBack(ctx context.Context, tok onbehalf.Token, why string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RevokeTimeout)
	defer cancel()
	if err := s.Zoom.Revoke(ctx, tok.AccessToken); err != nil {
		s.log().WarnContext(ctx, "revoking a zoom grant that is not kept failed", "why", why, "err", err)
		return
	}
	s.log().InfoContext(ctx, "zoom grant given back", "why", why)
}

func (s *Service) log() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}
