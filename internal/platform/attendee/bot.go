package attendee

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
)

// metadataBotID is the key of this server's bot ID in the bot's metadata,
// which Attendee echoes as bot_metadata in its callbacks and webhooks.
const metadataBotID = "onbehalf_bot_id"

// stateChange is the webhook trigger of bot status changes.
const stateChange = "bot.state_change"

// PlanTokenURLs implements onbehalf.Platform: one URL for every kind
// asked, since Attendee's bot calls its zoom_tokens_url once and reads
// every token from the one JSON reply.
func (a *Adapter) PlanTokenURLs(kinds []onbehalf.TokenKind) ([]onbehalf.TokenURLPlan, error) {
	if len(kinds) == 0 {
		return nil, onbehalf.FieldError("kinds", "No token kind given: an Attendee bot needs at least one of obf, zak or join.")
	}
	for i, k := range kinds {
		if !k.Valid() {
			return nil, onbehalf.FieldError("kinds", "Unknown token kind %q: Attendee takes obf, zak and join.", onbehalf.Clip(string(k), 20))
		}
		if onbehalf.HasKind(kinds[:i], k) {
			return nil, onbehalf.FieldError("kinds", "Token kind %q is given twice.", k)
		}
	}
	ordered, _ := onbehalf.ParseKinds(onbehalf.KindsString(kinds)) // canonical order
	return []onbehalf.TokenURLPlan{{Path: TokenPath, Kinds: ordered}}, nil
}

// CreateBot implements onbehalf.Platform: POST {base}/api/v1/bots with
// "Authorization: Token <key>" and
//
//	{"meeting_url", "bot_name", "callback_settings": {"zoom_tokens_url"},
//	 "metadata": {"onbehalf_bot_id"},
//	 "webhooks": [{"url": <status URL>, "triggers": ["bot.state_change"]}]}
//
// merged with the caller's platform_options (webhooks the caller gives are
// kept, the status webhook added to them; Attendee takes two per bot).
// Attendee answers 201 with the bot, its ID in "id". Attendee accepts only
// https URLs for zoom_tokens_url and webhooks: an http URL fails here,
// before any request.
//
// A bot with webhooks of its own gets no project-level webhooks from
// Attendee (bots/webhook_utils.py, trigger_webhook): a product that relies
// on them must list them in platform_options.webhooks.
func (a *Adapter) CreateBot(ctx context.Context, req onbehalf.BotRequest) (*onbehalf.CreatedBot, error) {
	switch {
	case req.Meeting.URL == "":
		return nil, onbehalf.FieldError("meeting_url", "Missing meeting URL for the Attendee bot.")
	case strings.TrimSpace(req.BotName) == "":
		return nil, onbehalf.FieldError("bot_name", "Attendee needs a bot name.")
	case strings.IndexFunc(req.BotName, func(r rune) bool { return r > 0xFFFF }) >= 0:
		// Attendee's serializer: "Bot name cannot contain emojis or rare
		// script characters."
		return nil, onbehalf.FieldError("bot_name", "Attendee does not take emojis or rare script characters in a bot name.")
	}
	tokenURL, err := a.tokenURL(req.TokenURLs)
	if err != nil {
		return nil, err
	}
	body := map[string]any{
		"meeting_url":       req.Meeting.URL,
		"bot_name":          req.BotName,
		"callback_settings": map[string]any{"zoom_tokens_url": tokenURL},
	}
	protected := []string{"meeting_url", "bot_name", "callback_settings.zoom_tokens_url"}
	if req.BotID != "" {
		body["metadata"] = map[string]any{metadataBotID: req.BotID}
		protected = append(protected, "metadata."+metadataBotID)
	}
	if err := platform.MergeOptions(body, req.Options, protected...); err != nil {
		return nil, err
	}
	secrets := []string{a.apiKey, tokenURL}
	if req.StatusURL != "" {
		if err := a.checkHTTPS(req.StatusURL, "status webhook URL"); err != nil {
			return nil, err
		}
		if err := addStatusWebhook(body, req.StatusURL); err != nil {
			return nil, err
		}
		secrets = append(secrets, req.StatusURL)
	}
	call := platform.Call{
		Title:   Title,
		Method:  http.MethodPost,
		URL:     a.baseURL + "/api/v1/bots",
		Header:  http.Header{"Authorization": {"Token " + a.apiKey}},
		Body:    body,
		Secrets: secrets,
		Hint:    hint,
	}
	return platform.CreateBot(ctx, call, a.hc, "a bot ID (id)", func(b idAnswer) string { return b.ID })
}

// idAnswer is the part of a create-bot answer that names the bot: Attendee
// answers with the bot.
type idAnswer struct {
	ID string `json:"id"`
}

// CheckTokenURLs refuses the token URLs Attendee would refuse: http ones
// (onbehalf.TokenURLChecker), as CreateBot does.
func (a *Adapter) CheckTokenURLs(urls []onbehalf.TokenURL) error {
	_, err := a.tokenURL(urls)
	return err
}

// tokenURL returns the one token URL of a bot, checked.
func (a *Adapter) tokenURL(urls []onbehalf.TokenURL) (string, error) {
	if len(urls) == 0 {
		return "", onbehalf.FieldError("kinds", "An Attendee bot needs a token URL.")
	}
	for _, u := range urls[1:] {
		if u.URL != urls[0].URL {
			return "", onbehalf.Errorf(onbehalf.EINTERNAL, "Attendee takes one token URL for every kind (got %d).", len(urls))
		}
	}
	if err := a.checkHTTPS(urls[0].URL, "token URL"); err != nil {
		return "", err
	}
	return urls[0].URL, nil
}

// checkHTTPS refuses a URL Attendee would refuse (its schemas require
// ^https://), so that the person learns why before a bot is asked for.
func (a *Adapter) checkHTTPS(raw, what string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return onbehalf.Errorf(onbehalf.EINTERNAL, "The Attendee %s is not a valid URL.", what)
	}
	if u.Scheme == "https" {
		return nil
	}
	return onbehalf.Errorf(onbehalf.EINVALID,
		"Attendee only accepts https %ss, and this server's is %s://%s. Set BASE_URL to an https URL that reaches this server (for example an ngrok URL).",
		what, u.Scheme, u.Host)
}

// addStatusWebhook adds the bot's status webhook to the webhooks of body,
// after those the caller's options gave.
func addStatusWebhook(body map[string]any, statusURL string) error {
	hooks := []any{}
	switch v := body["webhooks"].(type) {
	case nil:
	case []any:
		hooks = v
	default:
		return onbehalf.FieldError("platform_options", "platform_options.webhooks must be a list of {\"url\", \"triggers\"} objects.")
	}
	body["webhooks"] = append(hooks, map[string]any{"url": statusURL, "triggers": []string{stateChange}})
	return nil
}

// hint returns advice for statuses that usually mean a configuration error.
func hint(status int) string {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return " (check " + VarAPIKey + ": Attendee → Settings → API Keys, of the Attendee server at " + VarAPIURL + ")"
	case http.StatusNotFound:
		return " (check " + VarAPIURL + ": the base URL of the Attendee server, e.g. " + DefaultAPIURL + ")"
	}
	return ""
}

// RemoveBot implements onbehalf.Platform: POST
// {base}/api/v1/bots/{id}/leave (Attendee's "Leave Meeting"; the bot moves
// to leaving, then ended). DELETE /api/v1/bots/{id} would only delete a
// bot still scheduled.
func (a *Adapter) RemoveBot(ctx context.Context, platformBotID string) error {
	return platform.RemoveBot(ctx, platform.Call{
		Title:   Title,
		Method:  http.MethodPost,
		URL:     a.baseURL + "/api/v1/bots/" + url.PathEscape(platformBotID) + "/leave",
		Header:  http.Header{"Authorization": {"Token " + a.apiKey}},
		Secrets: []string{a.apiKey},
		Hint:    hint,
	}, a.hc)
}
