// Package zoom is the client of Zoom's OAuth endpoints (through
// golang.org/x/oauth2) and of the few REST calls onbehalf makes. Zoom's
// errors become *onbehalf.Error values whose messages carry Zoom's code and
// message but never a token.
package zoom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"golang.org/x/oauth2"
)

// Options configure a Client.
type Options struct {
	ClientID, ClientSecret string
	RedirectURI            string
	// OAuthURL is the base of /oauth/authorize, /oauth/token, /oauth/revoke.
	OAuthURL string
	// APIURL is the base of the REST API, e.g. https://api.zoom.us/v2.
	APIURL string
	// Timeout bounds each call to Zoom. Default 10s.
	Timeout time.Duration
	// Transport is the HTTP transport; default NewTransport().
	Transport http.RoundTripper
}

// Client talks to Zoom. It is safe for concurrent use.
type Client struct {
	oauth     *oauth2.Config
	apiURL    string
	revokeURL string
	timeout   time.Duration
	http      *http.Client
	mintBase  string
}

var _ onbehalf.Zoom = (*Client)(nil)

// NewTransport returns the HTTP transport used for Zoom: keep-alive
// connections pooled generously, since every token callback makes one call.
func NewTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 512
	t.MaxIdleConnsPerHost = 256
	t.IdleConnTimeout = 90 * time.Second
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = 0 // bounded by the per-call context
	// Zoom's answers are a few hundred bytes: gzip costs more than it saves.
	t.DisableCompression = true
	return t
}

// New returns a Client.
func New(o Options) *Client {
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Transport == nil {
		o.Transport = NewTransport()
	}
	base := strings.TrimRight(o.OAuthURL, "/")
	api := strings.TrimRight(o.APIURL, "/")
	return &Client{
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
		apiURL:    api,
		revokeURL: base + "/oauth/revoke",
		timeout:   o.Timeout,
		http:      &http.Client{Transport: o.Transport},
		mintBase:  api + "/users/me/token?type=",
	}
}

// AuthCodeURL returns the URL of Zoom's consent page for state, with a PKCE
// S256 challenge derived from verifier.
func (c *Client) AuthCodeURL(state, verifier string) string {
	return c.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
}

// Exchange trades an authorization code (and its PKCE verifier) for a token pair.
func (c *Client) Exchange(ctx context.Context, code, verifier string) (onbehalf.Token, error) {
	ctx, cancel := c.context(ctx)
	defer cancel()
	t, err := c.oauth.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return onbehalf.Token{}, oauthError(err, "exchanging the authorization code")
	}
	return fromOAuth(t), nil
}

// Refresh exchanges a refresh token for a new pair. Zoom rotates refresh
// tokens; a rejected grant is ECONFLICT.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (onbehalf.Token, error) {
	ctx, cancel := c.context(ctx)
	defer cancel()
	// An oauth2.Token with no access token is invalid, so Token() refreshes
	// exactly once.
	t, err := c.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return onbehalf.Token{}, oauthError(err, "refreshing the token")
	}
	// When a response carries no refresh token, x/oauth2 keeps the old one,
	// which is what a non-rotating server means.
	return fromOAuth(t), nil
}

// Revoke revokes the grant that token (access or refresh) belongs to.
func (c *Client) Revoke(ctx context.Context, token string) error {
	ctx, cancel := c.context(ctx)
	defer cancel()
	form := url.Values{"token": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.revokeURL, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.oauth.ClientID), url.QueryEscape(c.oauth.ClientSecret))
	resp, err := c.http.Do(req)
	if err != nil {
		return transportError(err, "revoking the token")
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return &onbehalf.Error{Code: onbehalf.EUPSTREAM, Message: fmt.Sprintf("Zoom refused to revoke the token (HTTP %d).", resp.StatusCode),
			Err: errors.New(clip(string(body)))}
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

// MintToken mints a token of the given kind (GET /users/me/token).
func (c *Client) MintToken(ctx context.Context, accessToken string, kind onbehalf.TokenKind, meetingID string) (string, error) {
	u := c.mintBase + kind.ZoomType()
	if kind == onbehalf.KindOBF {
		u += "&meeting_id=" + url.QueryEscape(meetingID)
	}
	body, err := c.getBody(ctx, u, accessToken, "minting the token")
	if err != nil {
		return "", err
	}
	tok, ok := tokenField(body)
	if !ok {
		var out struct {
			Token string `json:"token"`
		}
		if err := json.Unmarshal(body, &out); err != nil {
			return "", onbehalf.WrapError(err, onbehalf.EUPSTREAM, "Zoom answered minting the token with invalid JSON.")
		}
		tok = out.Token
	}
	if tok == "" {
		return "", onbehalf.Errorf(onbehalf.EUPSTREAM, "Zoom answered with an empty token.")
	}
	return tok, nil
}

// tokenField reads {"token":"…"} without a JSON decoder when the body is
// exactly that and the token needs no unescaping (the usual answer); ok is
// false for anything else, which then goes through encoding/json.
func tokenField(body []byte) (string, bool) {
	const prefix, suffix = `{"token":"`, `"}`
	b := bytes.TrimSpace(body)
	if !bytes.HasPrefix(b, []byte(prefix)) || !bytes.HasSuffix(b, []byte(suffix)) || len(b) < len(prefix)+len(suffix) {
		return "", false
	}
	v := b[len(prefix) : len(b)-len(suffix)]
	if bytes.ContainsAny(v, "\\\"") {
		return "", false
	}
	return string(v), true
}

// get performs an authenticated GET and decodes a JSON 200 into out.
func (c *Client) get(ctx context.Context, u, accessToken string, out any, what string) error {
	body, err := c.getBody(ctx, u, accessToken, what)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return onbehalf.WrapError(err, onbehalf.EUPSTREAM, "Zoom answered "+what+" with invalid JSON.")
	}
	return nil
}

// getBody performs an authenticated GET and returns the body of a 200.
func (c *Client) getBody(ctx context.Context, u, accessToken, what string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header["Authorization"] = []string{"Bearer " + accessToken}
	req.Header["Accept"] = acceptJSON
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, transportError(err, what)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, transportError(err, what)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, apiError(resp.StatusCode, body, what)
	}
	return body, nil
}

// acceptJSON is the Accept header of REST calls, allocated once.
var acceptJSON = []string{"application/json"}

// context bounds an OAuth call and hands x/oauth2 our HTTP client.
func (c *Client) context(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.http)
	return context.WithTimeout(ctx, c.timeout)
}

// apiError turns Zoom's {"code":124,"message":"..."} into an *onbehalf.Error.
// A 401 is EUNAUTHORIZED: the access token was rejected.
func apiError(status int, body []byte, what string) error {
	var z struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	msg := fmt.Sprintf("Zoom error while %s: HTTP %d", what, status)
	if json.Unmarshal(body, &z) == nil && (z.Code != 0 || z.Message != "") {
		msg = fmt.Sprintf("Zoom error %d while %s: %s (HTTP %d)", z.Code, what, clip(z.Message), status)
	}
	code := onbehalf.EUPSTREAM
	if status == http.StatusUnauthorized {
		code = onbehalf.EUNAUTHORIZED
	}
	return &onbehalf.Error{Code: code, Message: msg}
}

// oauthError classifies an x/oauth2 error. A rejected grant (the refresh
// token or code is dead) is ECONFLICT.
func oauthError(err error, what string) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return transportError(err, what)
	}
	var z struct {
		Reason string `json:"reason"`
		Error  string `json:"error"`
	}
	_ = json.Unmarshal(re.Body, &z)
	code := re.ErrorCode
	if code == "" {
		code = z.Error
	}
	reason := z.Reason
	if reason == "" {
		reason = re.ErrorDescription
	}
	msg := fmt.Sprintf("Zoom refused %s: %s", what, code)
	if code == "" {
		msg = fmt.Sprintf("Zoom refused %s (HTTP %d)", what, re.Response.StatusCode)
	}
	if reason != "" && !strings.Contains(reason, "code ") {
		msg += " (" + clip(reason) + ")"
	}
	out := &onbehalf.Error{Code: onbehalf.EUPSTREAM, Message: msg + ".", Err: fmt.Errorf("oauth2: HTTP %d", re.Response.StatusCode)}
	if code == "invalid_grant" {
		out.Code = onbehalf.ECONFLICT
	}
	return out
}

// transportError classifies a failure to reach Zoom.
func transportError(err error, what string) error {
	err = scrubURL(err)
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return onbehalf.WrapError(err, onbehalf.ETIMEOUT, "Zoom did not answer in time while "+what+".")
	}
	if errors.Is(err, context.Canceled) {
		return onbehalf.WrapError(err, onbehalf.ETIMEOUT, "The request was cancelled while "+what+".")
	}
	return onbehalf.WrapError(err, onbehalf.EUPSTREAM, "Could not reach Zoom while "+what+".")
}

// scrubURL drops the query of a *url.Error so logs never hold one.
func scrubURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if i := strings.IndexByte(ue.URL, '?'); i >= 0 {
			return &url.Error{Op: ue.Op, URL: ue.URL[:i], Err: ue.Err}
		}
	}
	return err
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

func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
