package recall

import (
	"context"
	"net/http"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
)

// zoomFields are the create-bot fields of the zoom object, by the kind of
// token the URL in them serves.
var zoomFields = map[onbehalf.TokenKind]string{
	onbehalf.KindOBF:  "obf_token_url",
	onbehalf.KindZAK:  "zak_url",
	onbehalf.KindJoin: "join_token_url",
}

// paths are the planned paths by kind.
var paths = map[onbehalf.TokenKind]string{
	onbehalf.KindOBF:  PathOBF,
	onbehalf.KindZAK:  PathZAK,
	onbehalf.KindJoin: PathJoin,
}

// metadataBotID is the key of this server's bot ID in Recall's bot
// metadata, which Recall echoes in its webhooks (data.bot.metadata).
const metadataBotID = "onbehalf_bot_id"

// PlanTokenURLs implements onbehalf.Platform: one URL per kind, since each
// of Recall's zoom fields takes one URL answering one bare token.
func (a *Adapter) PlanTokenURLs(kinds []onbehalf.TokenKind) ([]onbehalf.TokenURLPlan, error) {
	if len(kinds) == 0 {
		return nil, onbehalf.FieldError("kinds", "No token kind given: a Recall.ai bot needs at least one of obf, zak or join.")
	}
	plans := make([]onbehalf.TokenURLPlan, 0, len(kinds))
	for i, k := range kinds {
		if !k.Valid() {
			return nil, onbehalf.FieldError("kinds", "Unknown token kind %q: Recall.ai takes obf, zak and join.", clip(string(k), 20))
		}
		if onbehalf.HasKind(kinds[:i], k) {
			return nil, onbehalf.FieldError("kinds", "Token kind %q is given twice.", k)
		}
	}
	for _, k := range onbehalf.Kinds { // canonical order
		if onbehalf.HasKind(kinds, k) {
			plans = append(plans, onbehalf.TokenURLPlan{Path: paths[k], Kinds: []onbehalf.TokenKind{k}})
		}
	}
	return plans, nil
}

// CreateBot implements onbehalf.Platform: POST {base}/api/v1/bot/ with
// "Authorization: Token <key>" and
//
//	{"meeting_url", "bot_name", "zoom": {"obf_token_url", "zak_url", "join_token_url"},
//	 "metadata": {"onbehalf_bot_id"}}
//
// merged with the caller's platform_options; Recall answers 201 with the
// bot's "id". Recall takes no per-bot status webhook URL (status webhooks
// are set up in its dashboard), so req.StatusURL is not used.
func (a *Adapter) CreateBot(ctx context.Context, req onbehalf.BotRequest) (*onbehalf.CreatedBot, error) {
	if req.Meeting.URL == "" {
		return nil, onbehalf.FieldError("meeting_url", "Missing meeting URL for the Recall.ai bot.")
	}
	if len(req.TokenURLs) == 0 {
		return nil, onbehalf.FieldError("kinds", "A Recall.ai bot needs at least one token URL.")
	}
	zoom := map[string]any{}
	secrets := []string{a.apiKey}
	for _, u := range req.TokenURLs {
		if len(u.Kinds) != 1 || zoomFields[u.Kinds[0]] == "" {
			return nil, onbehalf.Errorf(onbehalf.EINTERNAL, "A Recall.ai token URL must serve exactly one kind (got %v).", u.Kinds)
		}
		field := zoomFields[u.Kinds[0]]
		if _, dup := zoom[field]; dup {
			return nil, onbehalf.Errorf(onbehalf.EINTERNAL, "Two Recall.ai token URLs serve %s.", u.Kinds[0])
		}
		zoom[field] = u.URL
		secrets = append(secrets, u.URL)
	}
	body := map[string]any{"meeting_url": req.Meeting.URL, "zoom": zoom}
	if req.BotName != "" {
		body["bot_name"] = req.BotName
	}
	protected := []string{"meeting_url", "bot_name", "zoom.obf_token_url", "zoom.zak_url", "zoom.join_token_url"}
	if req.BotID != "" {
		body["metadata"] = map[string]any{metadataBotID: req.BotID}
		protected = append(protected, "metadata."+metadataBotID)
	}
	if err := platform.MergeOptions(body, req.Options, protected...); err != nil {
		return nil, err
	}
	call := platform.Call{
		Title:   Title,
		Method:  http.MethodPost,
		URL:     a.baseURL + "/api/v1/bot/", // Recall (Django) needs the trailing slash
		Header:  http.Header{"Authorization": {"Token " + a.apiKey}},
		Body:    body,
		Secrets: secrets,
		Hint:    hint,
	}
	var created struct {
		ID string `json:"id"`
	}
	if err := call.Do(ctx, a.hc, &created); err != nil {
		return nil, err
	}
	if created.ID == "" {
		return nil, call.Unexpected("a bot ID (id)")
	}
	return &onbehalf.CreatedBot{PlatformBotID: created.ID}, nil
}

// hint returns advice for statuses that usually mean a configuration error.
func hint(status int) string {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return " (check " + VarAPIKey + " and " + VarRegion + ": a key works only in its workspace's region)"
	case http.StatusNotFound:
		return " (check " + VarRegion + " and " + VarAPIURL + ")"
	}
	return ""
}

// clip shortens s to at most n bytes for a message.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
