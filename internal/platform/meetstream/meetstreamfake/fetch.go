package meetstreamfake

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformtest"
)

// minTextToken is the length a text/plain answer must exceed to count as a
// token.
const minTextToken = 50

// maxAnswer bounds how much of a token answer a bot reads.
const maxAnswer = 1 << 20

// Fetch makes bot platformBotID fetch its token of kind as MeetStream's
// bots do, changed by t:
//
//   - GET the token URL, plus meeting_number=<id> for OBF (not for ZAK),
//     with X-Bot-Id and, when the bot has one, X-Webhook-Secret;
//   - a 405, or a 2xx answer that is not a usable token, is retried once
//     as POST to the same URL (query kept, meeting_number not appended)
//     with JSON {"bot_id", "meeting_number" (OBF), "webhook_secret"?};
//   - a 400 on the GET is final, any other non-2xx fails;
//   - a usable answer is JSON {"token"}, {"zak"} or {"obf"}, or a
//     text/plain token longer than 50 characters.
func (f *Fake) Fetch(ctx context.Context, platformBotID string, kind onbehalf.TokenKind, t platformtest.Tamper) platformtest.Fetched {
	b := f.find(platformBotID)
	if b == nil {
		return platformtest.Fetched{Body: "meetstreamfake: no bot " + platformBotID}
	}
	if b.kind != kind {
		return platformtest.Fetched{Body: "meetstreamfake: the bot has no " + string(kind) + " token URL"}
	}
	target := b.tokenURL
	if t.URL != nil {
		target = t.URL(target)
	}
	meeting := b.meetingNumber
	if t.Meeting != "" {
		meeting = t.Meeting
	}
	secret := f.o.WebhookSecret
	if t.NoCredentials {
		secret = ""
	}
	getURL := target
	if kind == onbehalf.KindOBF {
		getURL = appendQuery(target, "meeting_number", meeting)
	}
	got := f.try(ctx, http.MethodGet, getURL, nil, platformBotID, secret, kind)
	switch {
	case got.Status/100 == 2 && got.Tokens != nil: // a token
		return got
	case got.Status == http.StatusMethodNotAllowed, got.Status/100 == 2: // retried as POST
	default: // 400 is final, and so is any other failure
		return got
	}
	body := map[string]any{"bot_id": platformBotID}
	if kind == onbehalf.KindOBF {
		body["meeting_number"] = jsonMeeting(meeting)
	}
	if secret != "" {
		body["webhook_secret"] = secret
	}
	raw, _ := json.Marshal(body)
	return f.try(ctx, http.MethodPost, target, raw, platformBotID, secret, kind)
}

// try makes one token request and reads the answer as the bot does.
func (f *Fake) try(ctx context.Context, method, target string, body []byte, botID, secret string, kind onbehalf.TokenKind) platformtest.Fetched {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return platformtest.Fetched{Body: "meetstreamfake: " + err.Error()}
	}
	req.Header.Set("X-Bot-Id", botID)
	if secret != "" {
		req.Header.Set("X-Webhook-Secret", secret)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "meetstreamfake-bot")
	resp, err := f.hc.Do(req)
	if err != nil {
		return platformtest.Fetched{Body: "meetstreamfake: " + err.Error()}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	got := platformtest.Fetched{Status: resp.StatusCode, Body: string(raw)}
	if resp.StatusCode/100 == 2 {
		if tok := usable(resp.Header.Get("Content-Type"), raw); tok != "" {
			got.Tokens = map[onbehalf.TokenKind]string{kind: tok}
		}
	}
	return got
}

// usable returns the token of an answer, or "" when the bot cannot use it.
func usable(contentType string, raw []byte) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	trimmed := bytes.TrimSpace(raw)
	if mt == "application/json" || strings.HasSuffix(mt, "+json") || bytes.HasPrefix(trimmed, []byte("{")) {
		var m map[string]any
		if json.Unmarshal(trimmed, &m) != nil {
			return ""
		}
		for _, k := range []string{"token", "zak", "obf"} {
			if s, ok := m[k].(string); ok && s != "" {
				return s
			}
		}
		return ""
	}
	if len(trimmed) > minTextToken {
		return string(trimmed)
	}
	return ""
}

// appendQuery appends name=value to a URL's query without re-encoding what
// is there (the signed parameters stay byte for byte).
func appendQuery(target, name, value string) string {
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	return target + sep + name + "=" + url.QueryEscape(value)
}

// jsonMeeting is a meeting number as the POST body carries it: a JSON
// number when it is one.
func jsonMeeting(m string) any {
	if m != "" && strings.Trim(m, "0123456789") == "" {
		return json.Number(m)
	}
	return m
}
