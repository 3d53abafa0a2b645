package events

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Names of the settings, as errors name them.
const (
	VarWebhookURL    = "WEBHOOK_URL"
	VarWebhookSecret = "WEBHOOK_SECRET"
)

// secretBytes is the size of a secret's key: as long as the HMAC-SHA256
// output, the size the Standard Webhooks spec recommends.
const secretBytes = 32

// NewSecret returns a new webhook secret, "whsec_" and the base64 of 32
// random bytes, for `onbehalf webhook-secret`: the form receivers'
// Standard Webhooks libraries take as it is.
func NewSecret() string {
	key := make([]byte, secretBytes)
	rand.Read(key) // never fails: crypto/rand crashes the program instead
	return onbehalf.WebhookSecretPrefix + base64.StdEncoding.EncodeToString(key)
}

// CheckConfig reports every problem with a webhook receiver's URL and
// secret at once (EINVALID errors naming the variable), so that the
// server can refuse to start with one clear message. The secret never
// appears in an error.
func CheckConfig(webhookURL, secret string) error {
	var errs []error
	u, err := url.Parse(webhookURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, onbehalf.FieldError(VarWebhookURL,
			"%s must be an absolute http(s) URL, the endpoint of your webhook receiver.", VarWebhookURL))
	}
	if _, err := parseSecret(secret); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// parseSecret returns the key of a whsec_ secret (onbehalf's one parser),
// or an EINVALID error naming the variable.
func parseSecret(secret string) ([]byte, error) {
	key, err := onbehalf.ParseWebhookSecret(secret)
	if err != nil {
		return nil, onbehalf.FieldError(VarWebhookSecret,
			"%s %s: run `onbehalf webhook-secret` to make one.", VarWebhookSecret, err)
	}
	return key, nil
}

// signer signs webhook requests with the Standard Webhooks library, so
// that what receivers verify with the same library is what we sign.
type signer struct {
	wh *standardwebhooks.Webhook
}

// newSigner returns the signer of a whsec_ secret.
func newSigner(secret string) (*signer, error) {
	key, err := parseSecret(secret)
	if err != nil {
		return nil, err
	}
	wh, err := standardwebhooks.NewWebhookRaw(key)
	if err != nil {
		return nil, onbehalf.WrapError(err, onbehalf.EINVALID, "Bad webhook secret.")
	}
	return &signer{wh: wh}, nil
}

// sign sets the webhook-id, webhook-timestamp and webhook-signature
// headers of a request whose body is payload.
func (s *signer) sign(h http.Header, id string, at time.Time, payload []byte) error {
	sig, err := s.wh.Sign(id, at, payload)
	if err != nil {
		return onbehalf.WrapError(err, onbehalf.EINTERNAL, "Could not sign the webhook.")
	}
	h.Set(standardwebhooks.HeaderWebhookID, id)
	h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10))
	h.Set(standardwebhooks.HeaderWebhookSignature, sig)
	return nil
}

// newClient returns the deliverer's own HTTP client: a whole-request
// timeout, and redirects returned as they are (a 3xx is a failed
// delivery: a signed request is not replayed to a place the receiver's
// configuration does not name).
func newClient(timeout time.Duration) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = DefaultConcurrency
	return &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
