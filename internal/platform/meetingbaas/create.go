package meetingbaas

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
)

// DefaultBotName is the bot_name sent when the request has none: Meeting
// BaaS requires one.
const DefaultBotName = "Meeting notetaker"

// ExtraBotID is the key of this server's bot ID in the bot's "extra"
// object, which Meeting BaaS echoes in its webhooks and appends to the
// token URLs.
const ExtraBotID = "onbehalf_bot_id"

// zoomFields are the zoom_config fields by the kind of token the URL in
// them serves.
var zoomFields = map[onbehalf.TokenKind]string{
	onbehalf.KindOBF: "obf_token_url",
	onbehalf.KindZAK: "zak_token_url",
}

// CreateBot implements onbehalf.Platform: POST {base}/v2/bots with the
// x-meeting-baas-api-key header and
//
//	{"meeting_url", "bot_name", "zoom_config": {"obf_token_url", "zak_token_url"},
//	 "extra": {"onbehalf_bot_id"},
//	 "callback_enabled": true, "callback_config": {"url": <status URL>, "method": "POST"}}
//
// merged with the caller's platform_options (e.g. timeout_config, or
// zoom_config.credential_id of an app-only credential so that Zoom names
// your app rather than "Meeting Baas"). Meeting BaaS answers 201
// {"success": true, "data": {"bot_id"}}.
//
// The per-bot callback goes to req.StatusURL, which this server signed:
// Meeting BaaS sends it bot.completed and bot.failed (with the reason,
// e.g. WAITING_FOR_AUTHORIZED_USER_TIMEOUT), so a person learns why the
// bot ended even without MEETINGBAAS_WEBHOOK_SECRET; the progress in
// between only comes through the account webhook.
func (a *Adapter) CreateBot(ctx context.Context, req onbehalf.BotRequest) (*onbehalf.CreatedBot, error) {
	if req.Meeting.URL == "" {
		return nil, onbehalf.FieldError("meeting_url", "Missing meeting URL for the Meeting BaaS bot.")
	}
	if len(req.TokenURLs) == 0 {
		return nil, onbehalf.FieldError("kinds", "A Meeting BaaS bot needs at least one token URL.")
	}
	zoom, urls, err := platform.OneKindFields(Title, "one of obf or zak", req.TokenURLs, zoomFields)
	if err != nil {
		return nil, err
	}
	name := req.BotName
	name = cmp.Or(name, DefaultBotName)
	body := map[string]any{"meeting_url": req.Meeting.URL, "bot_name": name, "zoom_config": zoom}
	protected := []string{"meeting_url", "bot_name", "zoom_config.obf_token_url", "zoom_config.zak_token_url"}
	if req.BotID != "" {
		body["extra"] = map[string]any{ExtraBotID: req.BotID}
		protected = append(protected, "extra."+ExtraBotID)
	}
	if req.StatusURL != "" {
		body["callback_enabled"] = true
		body["callback_config"] = map[string]any{"url": req.StatusURL, "method": http.MethodPost}
		protected = append(protected, "callback_enabled", "callback_config")
	}
	if err := platform.MergeOptions(body, req.Options, protected...); err != nil {
		return nil, err
	}
	call := platform.Call{
		Title:   Title,
		Method:  http.MethodPost,
		URL:     a.baseURL + "/v2/bots",
		Header:  http.Header{http.CanonicalHeaderKey(APIKeyHeader): {a.apiKey}},
		Body:    body,
		Secrets: append([]string{a.apiKey, req.StatusURL}, urls...),
		Hint:    hint,
		Message: errorMessage,
	}
	return platform.CreateBot(ctx, call, a.hc, "a bot ID (data.bot_id)", func(c created) string { return c.Data.BotID })
}

// created is the part of a create-bot answer that names the bot.
type created struct {
	Data struct {
		BotID string `json:"bot_id"`
	} `json:"data"`
}

// hint returns advice for the statuses whose cause a person can fix.
func hint(status int) string {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return " (check " + VarAPIKey + ": a key with Full or Sending access)"
	case http.StatusNotFound:
		return " (check " + VarAPIURL + ")"
	case http.StatusPaymentRequired:
		return " (the Meeting BaaS account has too few tokens left: top it up in the dashboard)"
	}
	return ""
}

// errorMessage renders a Meeting BaaS error body as one message with its
// code and retryAfter, so that a person sees them too (platform.Call's
// Message):
//
//	{"success": false, "error": "Insufficient tokens", "code": "FST_ERR_INSUFFICIENT_TOKENS", "statusCode": 402}
//
// becomes "Insufficient tokens (FST_ERR_INSUFFICIENT_TOKENS)". ok is false
// for bodies of any other shape, which platform.Call reads as usual.
func errorMessage(raw []byte) (string, bool) {
	var e map[string]any
	if json.Unmarshal(raw, &e) != nil {
		return "", false
	}
	str := func(k string) string {
		s, _ := e[k].(string)
		return strings.TrimSpace(s)
	}
	code := str("code")
	if code == "" {
		return "", false
	}
	msg := str("message")
	if msg == "" {
		msg = str("error")
	}
	if d := str("details"); d != "" && d != msg {
		msg += ": " + d
	}
	if msg == "" {
		msg = "no message"
	}
	msg += " (" + code
	if n, ok := e["retryAfter"].(float64); ok && n > 0 && n < 1e6 {
		msg += "; retry after " + strconv.Itoa(int(n)) + " s"
	}
	return msg + ")", true
}

// RemoveBot implements onbehalf.Platform: POST
// {base}/v2/bots/{bot_id}/leave with an empty JSON object (its API refuses
// a JSON request without a body); Meeting BaaS answers 200
// {"success": true}, and a bot that already ended is its 409.
func (a *Adapter) RemoveBot(ctx context.Context, platformBotID string) error {
	return platform.RemoveBot(ctx, platform.Call{
		Title:   Title,
		Method:  http.MethodPost,
		URL:     a.baseURL + "/v2/bots/" + url.PathEscape(platformBotID) + "/leave",
		Header:  http.Header{http.CanonicalHeaderKey(APIKeyHeader): {a.apiKey}},
		Body:    struct{}{},
		Secrets: []string{a.apiKey},
		Hint:    hint,
		Message: errorMessage,
	}, a.hc)
}
