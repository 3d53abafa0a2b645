package zoom

import (
	"context"
	"net/url"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"golang.org/x/oauth2"
)

// ExchangeRedirect trades an authorization code that Zoom sent to another
// redirect URI than this server's (a product's backend that owns the Zoom
// redirect, POST /api/v1/connections) for a token pair. The code was
// obtained without PKCE, and Zoom checks that redirectURI is the one the
// authorization request named, byte for byte.
//
// A code Zoom refuses (expired, used, issued for another redirect URI) is
// the caller's mistake, so it is EINVALID about the field "code", with
// Zoom's words but never the code itself; other failures are EUPSTREAM or
// ETIMEOUT as for Exchange.
func (c *Client) ExchangeRedirect(ctx context.Context, code, redirectURI string) (onbehalf.Token, error) {
	if code == "" {
		return onbehalf.Token{}, onbehalf.FieldError("code", "Missing code: the authorization code Zoom sent to your redirect URI.")
	}
	if u, err := url.Parse(redirectURI); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return onbehalf.Token{}, onbehalf.FieldError("redirect_uri", "Bad redirect_uri: it must be the absolute http(s) URL the authorization request named.")
	}
	ctx, cancel := c.context(ctx, c.timeout)
	defer cancel()
	var t *oauth2.Token
	err := c.secrets.try(func(cfg *oauth2.Config) (err error) {
		t, err = cfg.Exchange(ctx, code, oauth2.SetAuthURLParam("redirect_uri", redirectURI))
		return err
	})
	if err != nil {
		err = oauthError(err, "exchanging the authorization code", onbehalf.EINVALID)
		if onbehalf.ErrorCode(err) == onbehalf.EINVALID {
			e := onbehalf.Recode(err, onbehalf.EINVALID)
			e.Field = "code"
			e.Message += " Check that the code is fresh (Zoom's codes live 5 minutes and work once) and that redirect_uri is the one the authorization request named."
			return onbehalf.Token{}, e
		}
		return onbehalf.Token{}, err
	}
	return fromOAuth(t), nil
}
