package onbehalf

import (
	"context"
	"encoding/json"
	"net/http"
)

// Platform is a bot platform adapter (Recall.ai, MeetStream, Attendee,
// Meeting BaaS): one package under internal/platform each. It knows how
// the platform creates bots, how the platform's bots fetch tokens from this
// server (where, authenticated how, with which extra fields) and how the
// reply must look. The generic token handler drives every platform the
// same way:
//
//	per-IP limit → AuthenticateToken → URL syntax → signed URL →
//	ReadTokenClaims checked against the URL → per-connection limit →
//	mint → WriteTokens (or WriteTokenError)
type Platform interface {
	// Name is the platform's key: the launch form's and the API's value,
	// and the first segment of its paths ("recall").
	Name() string
	// Title is the platform's name for people ("Recall.ai").
	Title() string

	// PlanTokenURLs says how many token URLs a bot that needs kinds gets,
	// at which paths, each serving which kinds (Recall: one URL per kind;
	// Attendee: one URL for all). Kinds the platform cannot take are an
	// EINVALID error that says so.
	PlanTokenURLs(kinds []TokenKind) ([]TokenURLPlan, error)
	// CreateBot asks the platform for a bot that fetches its tokens from
	// req.TokenURLs. Errors carry the platform's status and message, never
	// the API key or a token URL.
	CreateBot(ctx context.Context, req BotRequest) (*CreatedBot, error)
	// RemoveBot asks the platform to make its bot leave the meeting now
	// (DELETE /api/v1/bots/{id}). The platform not knowing the bot is
	// ENOTFOUND; other errors carry the platform's status and message,
	// never the API key.
	RemoveBot(ctx context.Context, platformBotID string) error

	// TokenRoutes lists the paths where the platform's bots fetch tokens.
	TokenRoutes() []TokenRoute
	// AuthenticateToken checks the platform's own credentials on a token
	// request (a header secret, a request signature), before anything reads
	// what the request says; body is the raw body (empty for GET). When no
	// credential is configured it returns nil. finish, when not nil, is
	// called once the request is over, with whether a token was served (a
	// replay cache keeps an ID used only by a served request).
	AuthenticateToken(r *http.Request, body []byte) (finish func(served bool), err error)
	// ReadTokenClaims reads what the platform adds to the token URL: its
	// bot ID and the meeting it says it joins. Bad syntax is EINVALID.
	ReadTokenClaims(r *http.Request, body []byte) (TokenClaims, error)
	// WriteTokens writes the minted tokens in the platform's format.
	WriteTokens(w http.ResponseWriter, r *http.Request, tokens []MintedToken)
	// WriteTokenError writes a failure in the platform's format; message
	// never holds a secret.
	WriteTokenError(w http.ResponseWriter, r *http.Request, status int, message string)
}

// TokenListTaker is implemented by platforms whose bots take every
// candidate's OBF token at once and try them in turn (Attendee's
// comma-separated onbehalf_token): the token handler writes them several
// OBF tokens, in order.
type TokenListTaker interface {
	TakesTokenList() bool
}

// PlatformWrapper is a platform that decorates another (the demo hands
// Attendee the server's URLs through an https front): AsPlatform looks
// through it, so that a wrapper overrides what it changes and hides none
// of the optional interfaces below.
type PlatformWrapper interface {
	Unwrap() Platform
}

// AsPlatform returns p, or the first platform p wraps (PlatformWrapper),
// that implements the optional interface T (StatusReceiver,
// TokenURLChecker, JoinScheduler, TokenListTaker), and whether one does.
// Every check of an optional interface goes through it.
func AsPlatform[T any](p Platform) (T, bool) {
	for p != nil {
		if t, ok := any(p).(T); ok {
			return t, true
		}
		w, ok := p.(PlatformWrapper)
		if !ok {
			break
		}
		p = w.Unwrap()
	}
	var zero T
	return zero, false
}

// TokenURLChecker is implemented by platforms that refuse some token URLs
// (Attendee takes https URLs only): the launch service asks it before it
// hands URLs out, so that a product is told why at once, not when the
// platform refuses the bot.
type TokenURLChecker interface {
	// CheckTokenURLs returns an EINVALID error saying what to change when
	// the platform would refuse urls.
	CheckTokenURLs(urls []TokenURL) error
}

// StatusReceiver is implemented by platforms that send bot status
// webhooks to POST /webhooks/{platform}. The handler verifies before it
// parses: either the request came to the per-bot status URL this server
// signed (BotRequest.StatusURL), or VerifyStatusWebhook accepts the
// platform's own signature.
type StatusReceiver interface {
	// VerifyStatusWebhook checks the platform's own signature on a status
	// webhook. A bad or missing signature, or no secret configured to check
	// it with, is EUNAUTHORIZED (saying which variable to set).
	VerifyStatusWebhook(r *http.Request, body []byte) error
	// ParseStatusWebhook reads the reports of a verified status webhook
	// (none for events of no interest); a body it cannot read is EINVALID.
	ParseStatusWebhook(r *http.Request, body []byte) ([]StatusReport, error)
}

// TokenRoute is a path where a platform's bots fetch tokens.
type TokenRoute struct {
	// Methods are the HTTP methods served (HEAD is added for GET routes
	// and never mints).
	Methods []string
	// Path is the route, e.g. "/recall/obf-callback".
	Path string
	// Default is the kind served to a URL that does not sign its kinds
	// (URLs handed out before kinds were signed, plain auth_token URLs);
	// "" when every URL of the route must name its kinds.
	Default TokenKind
	// Kinds are the kinds the route may serve.
	Kinds []TokenKind
}

// TokenURLPlan is one token URL a platform wants: the path and the kinds
// it serves.
type TokenURLPlan struct {
	Path  string
	Kinds []TokenKind
}

// TokenURL is a signed token URL handed to a platform.
type TokenURL struct {
	Kinds []TokenKind
	URL   string
}

// URLFor returns the URL that serves kind, or "".
func URLFor(urls []TokenURL, kind TokenKind) string {
	for _, u := range urls {
		if HasKind(u.Kinds, kind) {
			return u.URL
		}
	}
	return ""
}

// BotRequest asks a bot platform to send a bot to a meeting.
type BotRequest struct {
	// BotID is this server's ID of the bot, for platforms that carry
	// metadata back in their webhooks.
	BotID string
	// Meeting is the meeting; Meeting.URL is the canonical join URL the
	// platform gets, never the raw input.
	Meeting   Meeting
	BotName   string
	TokenURLs []TokenURL
	// StatusURL is this server's status webhook URL for this bot, signed
	// so that its requests need no platform secret; platforms that take a
	// per-bot webhook URL give it to the bot, the others ignore it.
	StatusURL string
	// Options are the caller's platform-specific create-bot fields (a JSON
	// object), merged into the platform's body; they never replace the
	// meeting, bot name or token URL fields.
	Options json.RawMessage
}

// CreatedBot is a bot a platform created.
type CreatedBot struct {
	// PlatformBotID is the platform's ID of the bot.
	PlatformBotID string
}

// TokenClaims is what a token request says beyond the URL this server
// signed: the platform's fields, not authenticated by this server's
// signature.
type TokenClaims struct {
	// PlatformBotID is the platform's bot ID (X-Bot-Id, bot_id, …), "" when
	// the request does not say.
	PlatformBotID string
	// MeetingID is the meeting the platform says the bot joins
	// (meeting_number, the meeting_url of Attendee's body), "" when it does
	// not say. It must match the signed meeting (else 401).
	MeetingID string
}

// MintedToken is one token minted for a token request.
type MintedToken struct {
	Kind  TokenKind
	Token string
}
