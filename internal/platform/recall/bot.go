package recall

import (
	"context"
	"net/http"
	"net/url"

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
			return nil, onbehalf.FieldError("kinds", "Unknown token kind %q: Recall.ai takes obf, zak and join.", onbehalf.Clip(string(k), 20))
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
	zoom, urls, err := platform.OneKindFields(Title, "one kind", req.TokenURLs, zoomFields)
	if err != nil {
		return nil, err
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
		Secrets: append([]string{a.apiKey}, urls...),
		Hint:    hint,
	}
	return platform.CreateBot(ctx, call, a.hc, "a bot ID (id)", func(b idAnswer) string { return b.ID })
}

// idAnswer is the part of a create-bot answer that names the bot.
type idAnswer struct {
	ID string `json:"id"`
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

// Token routes. Recall's bots GET exactly the URL they were given, and each
// zoom field takes one URL that answers one bare token, so every route
// serves one kind. The routes without /recall/ and the /recall/ aliases of
// obf and zak are those of URLs handed out before platforms had their own
// paths: they keep working, plain and signed.
const (
	PathOBF       = "/recall/obf-callback"
	PathZAK       = "/recall/zak-callback"
	PathJoin      = "/recall/join-callback"
	LegacyPathOBF = "/obf-callback"
	LegacyPathZAK = "/zak-callback"
)

// TokenRoutes implements onbehalf.Platform.
func (a *Adapter) TokenRoutes() []onbehalf.TokenRoute {
	get := []string{http.MethodGet}
	route := func(path string, def, kind onbehalf.TokenKind) onbehalf.TokenRoute {
		return onbehalf.TokenRoute{Methods: get, Path: path, Default: def, Kinds: []onbehalf.TokenKind{kind}}
	}
	return []onbehalf.TokenRoute{
		route(LegacyPathOBF, onbehalf.KindOBF, onbehalf.KindOBF),
		route(PathOBF, onbehalf.KindOBF, onbehalf.KindOBF),
		route(LegacyPathZAK, onbehalf.KindZAK, onbehalf.KindZAK),
		route(PathZAK, onbehalf.KindZAK, onbehalf.KindZAK),
		// No URL of the join kind was handed out before kinds were signed:
		// every URL of this route names its kind.
		route(PathJoin, "", onbehalf.KindJoin),
	}
}

// AuthenticateToken implements onbehalf.Platform. With a verification
// secret, every request from Recall carries webhook-id, webhook-timestamp
// and webhook-signature over an empty body (GET); the signature is checked
// in constant time, within 5 minutes of our clock, and its webhook-id is
// bound to the URL asked for (path and raw query), so that captured headers
// open no other URL. Without a secret there is nothing to check: the signed
// token URL is the credential.
func (a *Adapter) AuthenticateToken(r *http.Request, body []byte) (func(served bool), error) {
	if a.tokens == nil {
		return nil, nil
	}
	return a.tokens.Verify(r.Header, body, a.now(), r.URL.Path+"?"+r.URL.RawQuery)
}

// ReadTokenClaims implements onbehalf.Platform: Recall appends nothing to
// a token URL and names neither its bot nor the meeting.
func (a *Adapter) ReadTokenClaims(r *http.Request, body []byte) (onbehalf.TokenClaims, error) {
	return onbehalf.TokenClaims{}, nil
}

// WriteTokens implements onbehalf.Platform: the bare token as text/plain,
// which is all Recall reads (a JSON body would reach Zoom as the token).
// Every route serves one kind, so there is one token.
func (a *Adapter) WriteTokens(w http.ResponseWriter, r *http.Request, tokens []onbehalf.MintedToken) {
	if len(tokens) != 1 {
		a.WriteTokenError(w, r, http.StatusInternalServerError, "Internal error: a Recall.ai token URL serves exactly one token.")
		return
	}
	platform.WriteText(w, http.StatusOK, tokens[0].Token)
}

// WriteTokenError implements onbehalf.Platform: the message as text/plain
// with the status. Recall's bot fails the join on any non-2xx answer, and
// the message is what its logs and the bot's debug view show.
func (a *Adapter) WriteTokenError(w http.ResponseWriter, r *http.Request, status int, message string) {
	platform.WriteText(w, status, message)
}

// RemoveBot implements onbehalf.Platform: POST
// {base}/api/v1/bot/{id}/leave_call/ (Recall's "Leave Call", which removes
// the bot from the meeting for good; docs.recall.ai/reference/bot_leave_call_create).
func (a *Adapter) RemoveBot(ctx context.Context, platformBotID string) error {
	return platform.RemoveBot(ctx, platform.Call{
		Title:   Title,
		Method:  http.MethodPost,
		URL:     a.baseURL + "/api/v1/bot/" + url.PathEscape(platformBotID) + "/leave_call/",
		Header:  http.Header{"Authorization": {"Token " + a.apiKey}},
		Secrets: []string{a.apiKey},
		Hint:    hint,
	}, a.hc)
}
