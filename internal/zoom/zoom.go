// Package zoom is the client of Zoom's OAuth endpoints (through
// golang.org/x/oauth2) and of the few REST calls onbehalf makes: a user's
// profile, OBF tokens, ZAKs and hosts' join tokens, with a user's grant of
// the General app (onbehalf.Zoom) or, in account mode, with an account
// token of a Server-to-Server app (onbehalf.AccountZoom, account.go).
// Zoom's errors become *onbehalf.Error values whose messages carry Zoom's
// code and message but never a token or a secret.
package zoom

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Options configure a Client.
type Options struct {
	// ClientID, ClientSecret and RedirectURI are those of the user-level
	// "General app".
	ClientID, ClientSecret string
	RedirectURI            string
	// ClientSecrets, when set, replaces ClientSecret: the app's secrets in
	// the order to try them (ZOOM_CLIENT_SECRET=new,old during Zoom's
	// secret rotation, secrets.go).
	ClientSecrets []string
	// OAuthURL is the base of /oauth/authorize, /oauth/token, /oauth/revoke.
	OAuthURL string
	// APIURL is the base of the REST API, e.g. https://api.zoom.us/v2.
	APIURL string
	// Timeout bounds each call to Zoom but Refresh. Default 10s.
	Timeout time.Duration
	// RefreshTimeout bounds Refresh (ZOOM_REFRESH_TIMEOUT): longer than
	// Timeout, since a refresh runs detached from its callers and an
	// answer given up is a rotated pair lost. Default 60s.
	RefreshTimeout time.Duration
	// AccountID, S2SClientID and S2SClientSecret are those of a
	// Server-to-Server OAuth app (account mode, ZOOM_ACCOUNT_ID,
	// ZOOM_S2S_CLIENT_ID, ZOOM_S2S_CLIENT_SECRET). Without all three,
	// AccountToken is EUNAVAILABLE.
	AccountID, S2SClientID, S2SClientSecret string
	// Transport is the HTTP transport; default NewTransport().
	Transport http.RoundTripper
}

// Default timeouts of a Client.
const (
	DefaultTimeout        = 10 * time.Second
	DefaultRefreshTimeout = 60 * time.Second
)

// Client talks to Zoom, for the General app (user grants) and, when
// configured, for the Server-to-Server app (account mode). It is safe for
// concurrent use.
type Client struct {
	oauth          *oauth2.Config // the first secret's; AuthCodeURL needs no secret
	secrets        *secretSet
	account        *clientcredentials.Config // nil without account mode
	apiURL         string
	revokeURL      string
	timeout        time.Duration
	refreshTimeout time.Duration
	http           *http.Client
	mintBase       string
}

var (
	_ onbehalf.Zoom        = (*Client)(nil)
	_ onbehalf.AccountZoom = (*Client)(nil)
)

// NewTransport returns the HTTP transport used for Zoom: keep-alive
// connections pooled generously, since every token callback makes one call.
func NewTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	// A burst at the top of the hour keeps about (callbacks per second ×
	// Zoom's latency) calls in flight, ~1,000 at 10,000/s and 100 ms: keep
	// that many connections instead of dialling them again (over HTTP/1.1;
	// HTTP/2 multiplexes on a few).
	t.MaxIdleConns = 2048
	t.MaxIdleConnsPerHost = 1024
	t.IdleConnTimeout = 90 * time.Second
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = 0 // bounded by the per-call context
	// Zoom's answers are a few hundred bytes: gzip costs more than it saves.
	t.DisableCompression = true
	return t
}

// New returns a Client.
func New(o Options) *Client {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.RefreshTimeout <= 0 {
		o.RefreshTimeout = DefaultRefreshTimeout
	}
	if o.Transport == nil {
		o.Transport = NewTransport()
	}
	base := strings.TrimRight(o.OAuthURL, "/")
	api := strings.TrimRight(o.APIURL, "/")
	c := &Client{
		oauth: &oauth2.Config{
			ClientID:     o.ClientID,
			ClientSecret: o.ClientSecret,
			RedirectURL:  o.RedirectURI,
			Endpoint: oauth2.Endpoint{
				AuthURL:  base + "/oauth/authorize",
				TokenURL: base + "/oauth/token",
				// Explicit: auto-detection retries a failed request with the
				// other style, which would send a refresh token twice.
				AuthStyle: oauth2.AuthStyleInHeader,
			},
		},
		apiURL:         api,
		revokeURL:      base + "/oauth/revoke",
		timeout:        o.Timeout,
		refreshTimeout: o.RefreshTimeout,
		http:           &http.Client{Transport: o.Transport},
		mintBase:       api + "/users/me/token?type=",
	}
	if len(o.ClientSecrets) > 0 {
		c.oauth.ClientSecret = o.ClientSecrets[0]
	}
	c.secrets = newSecretSet(c.oauth, o.ClientSecrets)
	if o.AccountID != "" && o.S2SClientID != "" && o.S2SClientSecret != "" {
		c.account = accountConfig(base+"/oauth/token", o.AccountID, o.S2SClientID, o.S2SClientSecret)
	}
	return c
}

// AuthCodeURL returns the URL of Zoom's consent page for state, with a PKCE
// S256 challenge derived from verifier.
func (c *Client) AuthCodeURL(state, verifier string) string {
	return c.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
}

// Exchange trades an authorization code (and its PKCE verifier) for a token pair.
func (c *Client) Exchange(ctx context.Context, code, verifier string) (onbehalf.Token, error) {
	ctx, cancel := c.context(ctx, c.timeout)
	defer cancel()
	var t *oauth2.Token
	err := c.secrets.try(func(cfg *oauth2.Config) (err error) {
		t, err = cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		return err
	})
	if err != nil {
		// A rejected code (expired, used, wrong verifier) is Zoom's
		// answer, not a dead grant.
		return onbehalf.Token{}, oauthError(err, "exchanging the authorization code", onbehalf.EUPSTREAM)
	}
	return fromOAuth(t), nil
}

// Refresh exchanges a refresh token for a new pair, within RefreshTimeout
// (not Timeout). Zoom rotates refresh tokens: once Zoom has answered, the
// one sent is dead.
//
// A rejected grant (invalid_grant: the refresh token was revoked, rotated
// or expired) is EDISCONNECTED; a rejected client (invalid_client, a
// configuration error) is EUPSTREAM and says nothing about the grant.
//
// A 200 answer without a refresh_token (Zoom always sends one) keeps the
// one sent, so that nothing is lost: the returned Token's RefreshToken is
// then refreshToken itself. Since Zoom rotates, a caller detects that
// answer by comparing the two; the token sent is then most likely dead at
// Zoom, and the pair Zoom issued is lost.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (onbehalf.Token, error) {
	ctx, cancel := c.context(ctx, c.refreshTimeout)
	defer cancel()
	// An oauth2.Token with no access token is invalid, so Token() refreshes
	// exactly once.
	var t *oauth2.Token
	err := c.secrets.try(func(cfg *oauth2.Config) (err error) {
		t, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
		return err
	})
	if err != nil {
		return onbehalf.Token{}, oauthError(err, "refreshing the token", onbehalf.EDISCONNECTED)
	}
	return fromOAuth(t), nil
}

// Revoke revokes the grant that token (access or refresh) belongs to.
func (c *Client) Revoke(ctx context.Context, token string) error {
	ctx, cancel := c.context(ctx, c.timeout)
	defer cancel()
	err := c.secrets.try(func(cfg *oauth2.Config) error { return c.revoke(ctx, cfg, token) })
	var rc revokeRefused
	if errors.As(err, &rc) {
		return &onbehalf.Error{Code: onbehalf.EUPSTREAM, Message: fmt.Sprintf("Zoom refused to revoke the token (HTTP %d).", rc.status), Err: err}
	}
	return err
}

// revoke makes one revocation with cfg's client credentials.
func (c *Client) revoke(ctx context.Context, cfg *oauth2.Config, token string) error {
	form := url.Values{"token": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.revokeURL, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(cfg.ClientID), url.QueryEscape(cfg.ClientSecret))
	resp, err := c.http.Do(req)
	if err != nil {
		return transportError(err, "revoking the token")
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return revokeRefused{status: resp.StatusCode, invalidClient: oauthBodyError(body) == "invalid_client", body: clip(string(body))}
	}
	return nil
}

// Me returns the user that owns accessToken (GET /users/me).
func (c *Client) Me(ctx context.Context, accessToken string) (onbehalf.ZoomUser, error) {
	var u onbehalf.ZoomUser
	err := c.get(ctx, c.apiURL+"/users/me", accessToken, &u, "reading your Zoom profile")
	if err == nil && u.ID == "" {
		err = onbehalf.Errorf(onbehalf.EUPSTREAM, "Zoom returned a profile with no user ID.")
	}
	return u, err
}

// context bounds an OAuth call by d and hands x/oauth2 our HTTP client.
func (c *Client) context(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.http)
	return context.WithTimeout(ctx, d)
}

func fromOAuth(t *oauth2.Token) onbehalf.Token {
	scope, _ := t.Extra("scope").(string)
	return onbehalf.Token{
		AccessToken:  t.AccessToken,
		RefreshToken: t.RefreshToken,
		Expiry:       t.Expiry.UTC(),
		Scope:        scope,
	}
}
