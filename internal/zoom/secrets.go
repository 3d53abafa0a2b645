package zoom

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"golang.org/x/oauth2"
)

// Zoom lets an app rotate its client secret: a new secret is made while the
// old one still works, then the old one is revoked. During that window the
// server holds both (ZOOM_CLIENT_SECRET=new,old). A call to Zoom's OAuth
// endpoints (token, revoke) that Zoom refuses with invalid_client is tried
// once more with the other secret; the secret Zoom accepted is preferred
// from then on, so that a finished rotation costs one refused call, not
// one per call.
//
// Retrying is safe: Zoom authenticates the client before it looks at the
// grant, so a refused client spent no refresh token and no code.

// secretSet is the client secrets of the General app and which one to try
// first.
type secretSet struct {
	configs []*oauth2.Config // one per secret, in configured order
	pref    atomicIndex      // index of the secret to try first
}

// newSecretSet returns the secrets of base's client: secrets in order
// (base.ClientSecret when none).
func newSecretSet(base *oauth2.Config, secrets []string) *secretSet {
	if len(secrets) == 0 {
		secrets = []string{base.ClientSecret}
	}
	s := &secretSet{}
	for _, sec := range secrets {
		cfg := *base
		cfg.ClientSecret = sec
		s.configs = append(s.configs, &cfg)
	}
	return s
}

// try calls f with the preferred secret's config, and once more with the
// other's when Zoom refused the client; the config Zoom accepted becomes
// the preferred one. f returns the raw error (before classification).
func (s *secretSet) try(f func(cfg *oauth2.Config) error) error {
	first := s.pref.load()
	err := f(s.configs[first])
	if len(s.configs) < 2 || !invalidClient(err) {
		return err
	}
	other := (first + 1) % len(s.configs)
	if err2 := f(s.configs[other]); !invalidClient(err2) {
		// Zoom accepted the other secret (whatever it said about the
		// grant): prefer it.
		s.pref.cas(first, other)
		return err2
	}
	return err
}

// invalidClient reports whether err is Zoom refusing the client's
// credentials: invalid_client from x/oauth2 or from Revoke.
func invalidClient(err error) bool {
	if err == nil {
		return false
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode == "invalid_client" || oauthBodyError(re.Body) == "invalid_client"
	}
	var rc revokeRefused
	return errors.As(err, &rc) && rc.invalidClient
}

// oauthBodyError returns the "error" field of an OAuth JSON error body.
func oauthBodyError(body []byte) string {
	var z struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(body, &z)
	return z.Error
}

// revokeRefused is a refused revocation, kept in the chain of Revoke's
// error so that a refused client can be told apart.
type revokeRefused struct {
	status        int
	invalidClient bool
	body          string
}

func (e revokeRefused) Error() string { return e.body }

// SecretCheck is what Zoom said about one configured client secret.
type SecretCheck struct {
	// Index is the secret's place in ZOOM_CLIENT_SECRET (0: the first,
	// the new one during a rotation).
	Index int
	// Accepted is true when Zoom authenticated the client with it.
	Accepted bool
	// Preferred is true for the secret the client tries first.
	Preferred bool
	// Err is set when Zoom's answer could not tell (Zoom unreachable, an
	// unexpected answer); Accepted is then false.
	Err error
}

// CheckClientSecrets asks Zoom which of the configured client secrets it
// accepts, without creating anything: it exchanges a made-up
// authorization code with each (Zoom authenticates the client before it
// looks at the code, so invalid_client means the secret is refused and a
// refused code means it is accepted). For `onbehalf doctor`. It never
// returns a secret.
func (c *Client) CheckClientSecrets(ctx context.Context) []SecretCheck {
	pref := c.secrets.pref.load()
	out := make([]SecretCheck, 0, len(c.secrets.configs))
	for i, cfg := range c.secrets.configs {
		r := SecretCheck{Index: i, Preferred: i == pref}
		r.Accepted, r.Err = c.checkSecret(ctx, cfg)
		out = append(out, r)
	}
	return out
}

// probeCode is the made-up authorization code CheckClientSecrets sends.
const probeCode = "onbehalf-secret-check"

// checkSecret exchanges the made-up code with cfg's credentials.
func (c *Client) checkSecret(ctx context.Context, cfg *oauth2.Config) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {probeCode}, "redirect_uri": {cfg.RedirectURL}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.Endpoint.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// As golang.org/x/oauth2 sends them (AuthStyleInHeader).
	req.SetBasicAuth(url.QueryEscape(cfg.ClientID), url.QueryEscape(cfg.ClientSecret))
	resp, err := c.http.Do(req)
	if err != nil {
		return false, transportError(err, "checking the client secret")
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	switch e := oauthBodyError(body); {
	case e == "invalid_client" || resp.StatusCode == http.StatusUnauthorized:
		return false, nil
	case e == "invalid_grant" || e == "invalid_request":
		return true, nil
	default:
		return false, onbehalf.Errorf(onbehalf.EUPSTREAM, "Zoom answered HTTP %d (%s): cannot tell whether it accepts the secret.", resp.StatusCode, clip(e))
	}
}

// atomicIndex is an index read and swapped without a lock.
type atomicIndex struct{ v atomic.Int32 }

func (a *atomicIndex) load() int { return int(a.v.Load()) }

func (a *atomicIndex) cas(old, new int) { a.v.CompareAndSwap(int32(old), int32(new)) }
