package tokenurl

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// domainStatus starts the message of a signed status webhook URL.
const domainStatus = "onbehalf-status-url\x00v1\x00"

// StatusURL returns the per-bot status webhook URL of a bot on a platform:
// base + "/webhooks/" + platform + "?bot=<bot ID>&sig=<signature>". A
// platform that takes a per-bot webhook URL posts the bot's status there;
// the signature proves the request came to the URL this server gave, for
// that bot, so no platform secret is needed. It does not expire: a bot
// reports until it is done.
func (s *Signer) StatusURL(base, platform, botID string) string {
	return base + "/webhooks/" + platform + "?" + ParamBot + "=" + url.QueryEscape(botID) + "&" + ParamSig + "=" + s.statusSig(platform, botID)
}

// VerifyStatus checks the signature of a per-bot status URL; the error is
// EUNAUTHORIZED.
func (s *Signer) VerifyStatus(platform, botID, sig string) error {
	want := s.statusSig(platform, botID)
	if botID == "" || !hmac.Equal([]byte(sig), []byte(want)) {
		return onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Status webhook refused: bad signature on the per-bot URL.")
	}
	return nil
}

func (s *Signer) statusSig(platform, botID string) string {
	m := hmac.New(sha256.New, s.Key)
	var buf [128]byte
	m.Write(appendMessage(buf[:0], domainStatus, platform, botID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
