package platformdemo

import (
	"context"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Fake is a platform's fake: an httptest server that creates bots
// the way the platform does, and bots that fetch their tokens the way the
// platform's bots do.
type Fake interface {
	// URL is the base URL the adapter is configured with.
	URL() string
	// Bots returns the bots created so far, as the fake read the
	// create-bot requests.
	Bots() []FakeBot
	// FailCreate makes the next create-bot request answer status with
	// body, as the platform answers errors.
	FailCreate(status int, body string)
	// FailRemove makes the next remove-bot request answer status with
	// body, as the platform answers errors.
	FailRemove(status int, body string)
	// Fetch makes a bot fetch its token(s) of kind from its token URL as
	// the platform's bot does (appended parameters, headers, fallbacks),
	// changed by t, and returns what the bot got.
	Fetch(ctx context.Context, platformBotID string, kind onbehalf.TokenKind, t Tamper) Fetched
}

// FakeBot is a bot as a fake read its create-bot request.
type FakeBot struct {
	ID         string
	MeetingURL string
	BotName    string
	// TokenURLs are the token URLs the bot got, by the kind each serves.
	TokenURLs map[onbehalf.TokenKind]string
	// Body is the decoded create-bot body.
	Body map[string]any
	// Removed is true once the adapter made the bot leave (RemoveBot).
	Removed bool
}

// Tamper changes a fetch the way an attacker or a confused platform would.
type Tamper struct {
	// URL rewrites the token URL before the fetch (nil: unchanged).
	URL func(string) string
	// Meeting makes the bot claim another meeting ("": as created).
	Meeting string
	// NoCredentials leaves out the platform's own credentials (header
	// secret, request signature).
	NoCredentials bool
}

// Fetched is what a platform's bot got from a token fetch.
type Fetched struct {
	// Status is the HTTP status the bot's last request got.
	Status int
	// Tokens are the tokens the bot could use, by kind.
	Tokens map[onbehalf.TokenKind]string
	// Body is the last answer's body (for messages).
	Body string
}

// Running is a fake as `onbehalf demo` runs it: its bots also report
// their status to the server, and it stops.
type Running interface {
	Fake
	// SendStatus makes the platform report that its bot is in status s,
	// with the platform's reason code ("" for none or the fake's
	// default), the way the platform sends its status webhooks.
	SendStatus(ctx context.Context, platformBotID string, s onbehalf.BotStatus, reason string) error
	// Close stops the fake.
	Close()
}
