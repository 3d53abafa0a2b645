package meetingbaasdemo

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
)

// maxTokenBody bounds how much of a token URL's answer a bot reads.
const maxTokenBody = 64 << 10

// Fetch makes the bot fetch its token of kind as a Meeting BaaS bot does:
// GET the URL of zoom_config.obf_token_url (obf) or zak_token_url (zak)
// with the bot ID (BotIDParam) and, when the bot has an extra object,
// extra=<URL-encoded JSON> appended, no header of its own, giving up after
// FetchTimeout. The answer is usable when it is a 2xx text/plain body
// holding one ASCII token (surrounding white space trimmed). Meeting BaaS
// bots do not name the meeting and send no credential, so t.Meeting and
// t.NoCredentials change nothing.
func (f *Fake) Fetch(ctx context.Context, platformBotID string, kind onbehalf.TokenKind, t platformdemo.Tamper) platformdemo.Fetched {
	b := f.bot(platformBotID)
	if b == nil {
		return platformdemo.Fetched{Body: "meetingbaasdemo: no bot " + platformBotID}
	}
	raw := b.tokenURLs[kind]
	if raw == "" {
		return platformdemo.Fetched{Body: "meetingbaasdemo: the bot has no token URL for " + string(kind)}
	}
	if t.URL != nil {
		raw = t.URL(raw)
	}
	ctx, cancel := context.WithTimeout(ctx, f.o.FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.appendParams(raw, b), nil)
	if err != nil {
		return platformdemo.Fetched{Body: "meetingbaasdemo: bad token URL: " + err.Error()}
	}
	resp, err := f.o.Client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return platformdemo.Fetched{Body: "meetingbaasdemo: the token URL did not answer within " + f.o.FetchTimeout.String()}
		}
		return platformdemo.Fetched{Body: "meetingbaasdemo: token fetch failed: " + err.Error()}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBody))
	got := platformdemo.Fetched{Status: resp.StatusCode, Body: string(body)}
	if err != nil {
		got.Body = "meetingbaasdemo: reading the answer failed: " + err.Error()
		return got
	}
	if tok, ok := usableToken(resp, body); ok {
		got.Tokens = map[onbehalf.TokenKind]string{kind: tok}
	}
	return got
}

// appendParams appends what a Meeting BaaS bot (Node.js) appends to a
// token URL, encoded as encodeURIComponent does, leaving the URL's own
// query as it was.
func (f *Fake) appendParams(raw string, b *bot) string {
	add := f.o.BotIDParam + "=" + encodeURIComponent(b.id)
	if b.extra != nil {
		add += "&extra=" + encodeURIComponent(string(b.extra))
	}
	switch {
	case !strings.Contains(raw, "?"):
		return raw + "?" + add
	case strings.HasSuffix(raw, "?") || strings.HasSuffix(raw, "&"):
		return raw + add
	}
	return raw + "&" + add
}

// encodeURIComponent escapes s as JavaScript's encodeURIComponent does:
// every byte but A–Z a–z 0–9 - _ . ! ~ * ' ( ) as %XX.
func encodeURIComponent(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// usableToken returns the token of an answer a Meeting BaaS bot can use:
// 2xx, text/plain, one ASCII token.
func usableToken(resp *http.Response, body []byte) (string, bool) {
	if resp.StatusCode/100 != 2 {
		return "", false
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/plain" {
		return "", false
	}
	tok := strings.TrimSpace(string(body))
	if tok == "" {
		return "", false
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] <= ' ' || tok[i] > '~' {
			return "", false
		}
	}
	return tok, true
}
