package onbehalf

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// WebhookSecretPrefix starts every Standard Webhooks secret: the ones
// Recall.ai and Svix (Meeting BaaS) show, and the one outgoing webhooks are
// signed with.
const WebhookSecretPrefix = "whsec_"

// MinWebhookKey is the shortest key a whsec_ secret may hold, in bytes.
// The Standard Webhooks spec asks senders for at least 24 (Svix's and
// this server's own are 24 and 32); 16 is the bar outgoing secrets always
// had here (a shorter WEBHOOK_SECRET never started), and the platforms'
// secrets are longer.
const MinWebhookKey = 16

// errWebhookSecret is the one way a whsec_ secret is wrong; it never holds
// the value.
var errWebhookSecret = errors.New("must be " + WebhookSecretPrefix + " followed by the base64 of at least " +
	strconv.Itoa(MinWebhookKey) + " bytes")

// ParseWebhookSecret returns the key of a Standard Webhooks secret:
// whsec_ then standard base64, padded or not, of at least MinWebhookKey
// bytes. It is the one parser of such secrets, so that the configuration
// accepts at start exactly what signing and verifying accept later.
func ParseWebhookSecret(secret string) ([]byte, error) {
	b64, ok := strings.CutPrefix(secret, WebhookSecretPrefix)
	if !ok {
		return nil, errWebhookSecret
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(b64)
	}
	if err != nil || len(key) < MinWebhookKey {
		return nil, errWebhookSecret
	}
	return key, nil
}
