package onbehalf

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestParseWebhookSecret(t *testing.T) {
	key := []byte("0123456789abcdef0123") // 20 bytes: padded and raw differ
	for _, ok := range []string{
		WebhookSecretPrefix + base64.StdEncoding.EncodeToString(key),
		WebhookSecretPrefix + base64.RawStdEncoding.EncodeToString(key),
	} {
		got, err := ParseWebhookSecret(ok)
		if err != nil || string(got) != string(key) {
			t.Errorf("%s: %q %v", ok, got, err)
		}
	}
	short := WebhookSecretPrefix + base64.StdEncoding.EncodeToString(key[:MinWebhookKey-1])
	for _, bad := range []string{"", WebhookSecretPrefix, base64.StdEncoding.EncodeToString(key), WebhookSecretPrefix + "not*base64", short} {
		_, err := ParseWebhookSecret(bad)
		if err == nil {
			t.Errorf("%q accepted", bad)
			continue
		}
		if rest := strings.TrimPrefix(bad, WebhookSecretPrefix); rest != "" && strings.Contains(err.Error(), rest) {
			t.Errorf("error echoes the secret: %v", err)
		}
	}
}
