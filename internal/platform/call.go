package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// maxResponse bounds how much of a platform's answer is read.
const maxResponse = 1 << 20

// Call is one request to a platform's API. Its errors are *onbehalf.Error
// values safe to show a person: the platform's status and message, never
// the API key nor a token URL (both are secrets and are redacted from
// anything the platform echoes).
type Call struct {
	// Title names the platform in messages ("Recall.ai").
	Title string
	// Method and URL of the request.
	Method, URL string
	// Header holds the request headers (the API key among them).
	Header http.Header
	// Body is encoded as JSON, without HTML escaping (token URLs carry &).
	Body any
	// Secrets are redacted from every message: the API key and the token
	// URLs (with their query values).
	Secrets []string
	// Hint returns advice for a failing status, e.g. " (check
	// RECALL_API_KEY and RECALL_REGION)"; nil for none.
	Hint func(status int) string
	// Message reads the platform's own message from the body of a
	// failing answer, when the platform words its errors in a way the
	// usual fields ("detail", "message", "error", field errors) do not
	// hold whole; ok false falls back to them. nil for none. The message
	// is redacted and shortened like any other.
	Message func(raw []byte) (msg string, ok bool)
	// OK lists statuses besides 2xx that are a success, decoded into out
	// (MeetStream's 507: an idempotent replay of a bot already created).
	OK []int
	// Missing makes a 404 answer ENOTFOUND instead of EUPSTREAM (same
	// message): the thing the call is about does not exist there (a bot
	// to remove).
	Missing bool
}

// Do sends the call with hc and decodes a 2xx JSON answer into out (when
// not nil). Errors: EUPSTREAM "<Title> answered <status>: <message><hint>"
// for a non-2xx answer, ETIMEOUT when the deadline passed, EUPSTREAM
// "Could not reach <Title>: <reason>" for any other transport failure,
// EUPSTREAM for a 2xx answer out cannot hold.
func (c Call) Do(ctx context.Context, hc *http.Client, out any) error {
	red := newRedactor(c.Secrets...)
	var body io.Reader
	if c.Body != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(c.Body); err != nil {
			return onbehalf.WrapError(err, onbehalf.EINTERNAL, "Could not encode the "+c.Title+" request.")
		}
		body = &buf
	}
	req, err := http.NewRequestWithContext(ctx, c.Method, c.URL, body)
	if err != nil {
		return onbehalf.WrapError(err, onbehalf.EUNAVAILABLE, "The "+c.Title+" URL is not valid: check its configuration.")
	}
	for k, v := range c.Header {
		req.Header[k] = v
	}
	if c.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "onbehalf")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return c.transportError(ctx, err, red)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return c.transportError(ctx, err, red)
	}
	if (resp.StatusCode < 200 || resp.StatusCode > 299) && !slices.Contains(c.OK, resp.StatusCode) {
		msg := c.Title + " answered " + strconv.Itoa(resp.StatusCode) + ": " + c.message(resp, raw, red)
		if c.Hint != nil {
			msg += c.Hint(resp.StatusCode)
		}
		code := onbehalf.EUPSTREAM
		if c.Missing && resp.StatusCode == http.StatusNotFound {
			code = onbehalf.ENOTFOUND
		}
		return onbehalf.Errorf(code, "%s", msg)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return &onbehalf.Error{Code: onbehalf.EUPSTREAM,
			Message: c.Title + " answered " + strconv.Itoa(resp.StatusCode) + " with a body that is not the expected JSON.", Err: err}
	}
	return nil
}

// message is the platform's message in a failing answer: Message's, or
// the usual fields'.
func (c Call) message(resp *http.Response, raw []byte, red *redactor) string {
	if c.Message != nil {
		if msg, ok := c.Message(raw); ok {
			return onbehalf.Clip(Printable(red.clean(msg)), maxMessage)
		}
	}
	return upstreamMessage(resp, raw, red)
}

// Unexpected returns the EUPSTREAM error of a 2xx answer that lacks what
// the adapter needs (e.g. the bot ID).
func (c Call) Unexpected(what string) error {
	return onbehalf.Errorf(onbehalf.EUPSTREAM, "%s answered without %s.", c.Title, what)
}

// transportError turns a failed request into an *onbehalf.Error: ETIMEOUT
// when the deadline passed, EUPSTREAM with a short reason otherwise.
func (c Call) transportError(ctx context.Context, err error, red *redactor) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout()) {
		return onbehalf.WrapError(err, onbehalf.ETIMEOUT, c.Title+" did not answer in time.")
	}
	reason := err
	var ue *url.Error
	if errors.As(err, &ue) {
		reason = ue.Err // drop "Post \"<url>\": "
	}
	msg := onbehalf.Clip(Printable(red.clean(reason.Error())), maxRawBytes)
	return onbehalf.WrapError(err, onbehalf.EUPSTREAM, "Could not reach "+c.Title+": "+msg)
}
