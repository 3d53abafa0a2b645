package meetstream

import (
	"context"
	"net/http"
	"net/url"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
)

// TokenPath is where MeetStream's bots fetch tokens: one path for OBF and
// ZAK, the signed URL's kinds say which.
const TokenPath = "/" + Name + "/token"

// createBotPath is MeetStream's create-bot endpoint under the base URL.
const createBotPath = "/api/v1/bots/create_bot"

// statusReplay is MeetStream's answer to a create-bot request it already
// served (an idempotent replay): the bot exists, and the body names it.
const statusReplay = http.StatusInsufficientStorage // 507

// botIDAttribute is the custom_attributes key that carries this server's
// bot ID; MeetStream echoes custom_attributes in its webhooks.
const botIDAttribute = "onbehalf_bot_id"

// oneURL says what MeetStream takes, for every refusal of other kinds.
const oneURL = "MeetStream takes one token URL per bot, either obf (zoom.obf_url) or zak (zoom.zak_url), and no host join token: ask for obf or for zak."

// PlanTokenURLs implements onbehalf.Platform: one URL at TokenPath
// serving obf or zak. MeetStream answers 400 to a bot with both zoom.obf_url
// and zoom.zak_url and has no field for a host join token, so any other set
// is EINVALID.
func (a *Adapter) PlanTokenURLs(kinds []onbehalf.TokenKind) ([]onbehalf.TokenURLPlan, error) {
	if len(kinds) != 1 || (kinds[0] != onbehalf.KindOBF && kinds[0] != onbehalf.KindZAK) {
		return nil, onbehalf.FieldError("kinds", "%s", oneURL)
	}
	return []onbehalf.TokenURLPlan{{Path: TokenPath, Kinds: []onbehalf.TokenKind{kinds[0]}}}, nil
}

// createBotResponse is the part of MeetStream's create-bot answer the
// adapter reads: bot_id, or id in some answers (MeetStream's own client
// reads either).
type createBotResponse struct {
	BotID flexString `json:"bot_id"`
	ID    flexString `json:"id"`
}

// CreateBot implements onbehalf.Platform: POST {base}/api/v1/bots/create_bot
// with Authorization: Token <key> and
//
//	{"meeting_link", "bot_name", "zoom": {"obf_url"} or {"zak_url"},
//	 "callback_url" (req.StatusURL), "custom_attributes": {"onbehalf_bot_id"}}
//
// merged with req.Options. 201 (any 2xx) or 507 (an idempotent replay:
// the bot of an identical earlier request, named in the body) with bot_id
// is a bot.
func (a *Adapter) CreateBot(ctx context.Context, req onbehalf.BotRequest) (*onbehalf.CreatedBot, error) {
	field, tokenURL, err := zoomField(req.TokenURLs)
	if err != nil {
		return nil, err
	}
	if req.Meeting.URL == "" {
		return nil, onbehalf.FieldError("meeting_url", "Missing meeting URL: MeetStream needs the Zoom meeting link.")
	}
	body := map[string]any{
		"meeting_link": req.Meeting.URL,
		"zoom":         map[string]any{field: tokenURL},
	}
	// What this server sets; the other token field is protected too, since
	// MeetStream refuses a bot with both.
	protected := []string{"meeting_link", "zoom.obf_url", "zoom.zak_url"}
	secrets := []string{a.apiKey, tokenURL}
	if req.BotName != "" {
		body["bot_name"] = req.BotName // else MeetStream's default, or the options'
		protected = append(protected, "bot_name")
	}
	if req.StatusURL != "" {
		body["callback_url"] = req.StatusURL
		protected = append(protected, "callback_url")
		secrets = append(secrets, req.StatusURL)
	}
	if req.BotID != "" {
		body["custom_attributes"] = map[string]any{botIDAttribute: req.BotID}
		protected = append(protected, "custom_attributes."+botIDAttribute)
	}
	if err := platform.MergeOptions(body, req.Options, protected...); err != nil {
		return nil, err
	}
	call := platform.Call{
		Title:   Title,
		Method:  http.MethodPost,
		URL:     a.baseURL + createBotPath,
		Header:  http.Header{"Authorization": {"Token " + a.apiKey}},
		Body:    body,
		Secrets: secrets,
		Hint:    hint,
		OK:      []int{statusReplay},
	}
	return platform.CreateBot(ctx, call, a.hc, "a bot_id", func(out createBotResponse) string {
		if out.BotID != "" {
			return string(out.BotID)
		}
		return string(out.ID)
	})
}

// zoomField returns the zoom field and the URL of the one token URL a
// MeetStream bot gets.
func zoomField(urls []onbehalf.TokenURL) (field, tokenURL string, err error) {
	if len(urls) != 1 || len(urls[0].Kinds) != 1 {
		return "", "", onbehalf.FieldError("kinds", "%s", oneURL)
	}
	switch urls[0].Kinds[0] {
	case onbehalf.KindOBF:
		field = "obf_url"
	case onbehalf.KindZAK:
		field = "zak_url"
	default:
		return "", "", onbehalf.FieldError("kinds", "%s", oneURL)
	}
	u, perr := url.Parse(urls[0].URL)
	if perr != nil || u.Host == "" {
		return "", "", onbehalf.Errorf(onbehalf.EINTERNAL, "The MeetStream token URL is not an absolute URL.")
	}
	if u.Query().Has("meeting_number") {
		// MeetStream appends it: it would arrive twice.
		return "", "", onbehalf.Errorf(onbehalf.EINTERNAL, "The MeetStream token URL must not carry meeting_number: MeetStream appends it.")
	}
	return field, urls[0].URL, nil
}

// hint names the variables to check when MeetStream refuses the key or the
// URL.
func hint(status int) string {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return " (check " + VarAPIKey + ")"
	case http.StatusNotFound:
		return " (check " + VarAPIURL + " and " + VarAPIKey + ")"
	}
	return ""
}

// RemoveBot implements onbehalf.Platform: GET
// {base}/api/v1/bots/{bot_id}/remove_bot (MeetStream's "Remove Bot": a
// GET, as its API has it), which makes the bot leave the meeting and keeps
// its recording.
func (a *Adapter) RemoveBot(ctx context.Context, platformBotID string) error {
	return platform.RemoveBot(ctx, platform.Call{
		Title:   Title,
		Method:  http.MethodGet,
		URL:     a.baseURL + "/api/v1/bots/" + url.PathEscape(platformBotID) + "/remove_bot",
		Header:  http.Header{"Authorization": {"Token " + a.apiKey}},
		Secrets: []string{a.apiKey},
		Hint:    hint,
	}, a.hc)
}
