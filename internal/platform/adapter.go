package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// What every adapter does alike: reading the start of its configuration
// block, making the HTTP client of its API, creating a bot with one Call,
// and answering its bots' token requests.

// Block is one platform's configuration block as ConfigReader.Block began reading
// it: the API key that turns the platform on, and where the block's
// problems begin.
type Block struct {
	// APIKey is the value of the block's API key variable.
	APIKey string

	env   *ConfigReader
	start int
}

// Block begins reading a platform's configuration block at its API key
// (keyVar). ok is false when the key is unset: the platform is off, and
// nothing else of its block is to be read or reported.
func (e *ConfigReader) Block(keyVar string) (b Block, ok bool) {
	key := e.Get(keyVar, "")
	if key == "" {
		return Block{}, false
	}
	return Block{APIKey: key, env: e, start: len(e.problems)}, true
}

// API reads the two variables most blocks hold next: the API base URL
// (urlVar, default defURL) and how long a create-bot call may take
// (timeoutVar, default def).
func (b Block) API(urlVar, defURL, timeoutVar string, def time.Duration) (baseURL string, timeout time.Duration) {
	return b.env.URL(urlVar, defURL), b.env.Duration(timeoutVar, def.String())
}

// Err returns every problem found in the block since it began, joined
// (never another block's), or nil.
func (b Block) Err() error {
	if b.env == nil {
		return nil
	}
	return errors.Join(b.env.problems[b.start:]...)
}

// Client returns the HTTP client of an adapter's API calls: deps.HTTP's
// transport and redirect policy with timeout, so that a create-bot call
// is bounded whatever the app's default.
func Client(deps Deps, timeout time.Duration) *http.Client {
	hc := &http.Client{Timeout: timeout}
	if deps.HTTP != nil {
		hc.Transport, hc.CheckRedirect = deps.HTTP.Transport, deps.HTTP.CheckRedirect
	}
	return hc
}

// Clock returns d.Now, or time.Now when it is nil.
func (d Deps) Clock() func() time.Time {
	if d.Now == nil {
		return time.Now
	}
	return d.Now
}

// Log returns d.Logger, or slog.Default when it is nil: what an adapter
// must tell an operator is never dropped for want of a logger.
func (d Deps) Log() *slog.Logger {
	if d.Logger == nil {
		return slog.Default()
	}
	return d.Logger
}

// CreateBot sends c, a create-bot call, with hc and returns the bot its
// 2xx answer names: botID reads the platform's bot ID from the decoded
// answer. An answer naming none is EUPSTREAM "<Title> answered without
// <what>."; every other error is Do's.
func CreateBot[Answer any](ctx context.Context, c Call, hc *http.Client, what string, botID func(Answer) string) (*onbehalf.CreatedBot, error) {
	var answer Answer
	if err := c.Do(ctx, hc, &answer); err != nil {
		return nil, err
	}
	id := botID(answer)
	if id == "" {
		return nil, c.Unexpected(what)
	}
	return &onbehalf.CreatedBot{PlatformBotID: id}, nil
}

// RemoveBot sends c, a request that makes a bot leave its meeting, with
// hc. The platform not knowing the bot (404) is ENOTFOUND; every other
// error is Do's (status and message, secrets redacted). The answer's body
// is not read: every platform answers the request's acceptance only, and
// the bot's leaving arrives later as status webhooks.
func RemoveBot(ctx context.Context, c Call, hc *http.Client) error {
	c.Missing = true
	return c.Do(ctx, hc, nil)
}

// OneKindFields puts each token URL of a bot into the create-bot field of
// the one kind it serves (fields, by kind) and returns those fields and the
// URLs (secrets, to redact). A URL serving other than exactly one kind it
// has a field for, or two URLs of one kind, is EINTERNAL: title names the
// platform, takes says what a URL must serve ("one kind", "one of obf or
// zak").
func OneKindFields(title, takes string, urls []onbehalf.TokenURL, fields map[onbehalf.TokenKind]string) (map[string]any, []string, error) {
	out := map[string]any{}
	var secrets []string
	for _, u := range urls {
		if len(u.Kinds) != 1 || fields[u.Kinds[0]] == "" {
			return nil, nil, onbehalf.Errorf(onbehalf.EINTERNAL, "A %s token URL must serve exactly %s (got %v).", title, takes, u.Kinds)
		}
		field := fields[u.Kinds[0]]
		if _, dup := out[field]; dup {
			return nil, nil, onbehalf.Errorf(onbehalf.EINTERNAL, "Two %s token URLs serve %s.", title, u.Kinds[0])
		}
		out[field] = u.URL
		secrets = append(secrets, u.URL)
	}
	return out, secrets, nil
}

// WriteText writes a text/plain answer to a token request, which no cache
// keeps.
func WriteText(w http.ResponseWriter, status int, body string) {
	noStore(w.Header(), textPlain)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// WriteJSON writes v as the JSON answer to a token request, which no
// cache keeps, without HTML escaping (tokens and messages as they are).
func WriteJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":"Internal error."}` + "\n")
	}
	noStore(w.Header(), appJSON)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// noStore sets the headers of an answer no cache keeps and no browser
// sniffs.
func noStore(h http.Header, contentType []string) {
	// Assigned, not Set: the hot path skips canonicalizing the keys and
	// allocating the values. The shared slices have no spare capacity, so
	// an Add elsewhere copies them instead of writing into them.
	h["Content-Type"] = contentType
	h["Cache-Control"] = noStoreValue
	h["X-Content-Type-Options"] = nosniff
}

// The header values of token answers, built once.
var (
	textPlain    = []string{"text/plain; charset=utf-8"}
	appJSON      = []string{"application/json"}
	noStoreValue = []string{"no-store"}
	nosniff      = []string{"nosniff"}
)
