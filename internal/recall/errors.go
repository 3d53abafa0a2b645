package recall

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Limits of the user-facing parts of error messages.
const (
	maxRawBytes = 200 // of a response body shown as is
	maxMessage  = 500 // of Recall's message, whatever its form
)

// redacted replaces secrets in messages.
const redacted = "[redacted]"

// redactor removes secrets (the API key, the token URLs and the values of
// their query parameters) from text that is about to be shown.
type redactor struct {
	secrets []string
}

// newRedactor returns a redactor for the API key and the token URLs.
func newRedactor(apiKey string, tokenURLs ...string) *redactor {
	var secrets []string
	add := func(s string) {
		if len(s) >= 4 {
			secrets = append(secrets, s, url.QueryEscape(s))
			if b, err := json.Marshal(s); err == nil {
				secrets = append(secrets, strings.Trim(string(b), `"`))
			}
		}
	}
	add(apiKey)
	for _, raw := range tokenURLs {
		if raw == "" {
			continue
		}
		add(raw)
		if u, err := url.Parse(raw); err == nil {
			add(u.RawQuery)
			for _, vs := range u.Query() {
				for _, v := range vs {
					// Meeting IDs are not secret and help the reader.
					if strings.Trim(v, "0123456789") != "" {
						add(v)
					}
				}
			}
		}
	}
	// Longest first, so that a secret containing another is removed whole.
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	return &redactor{secrets: slices.Compact(secrets)}
}

// clean returns s with every secret replaced.
func (r *redactor) clean(s string) string {
	for _, sec := range r.secrets {
		if sec != "" && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, redacted)
		}
	}
	return s
}

// transportError turns a failed request into an *onbehalf.Error: ETIMEOUT
// when the deadline passed, EUPSTREAM with a short reason otherwise.
func transportError(ctx context.Context, err error, red *redactor) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout()) {
		return onbehalf.WrapError(err, onbehalf.ETIMEOUT, "Recall.ai did not answer in time.")
	}
	reason := err
	var ue *url.Error
	if errors.As(err, &ue) {
		reason = ue.Err // drop "Post \"<url>\": "
	}
	msg := truncate(printable(red.clean(reason.Error())), maxRawBytes)
	return onbehalf.WrapError(err, onbehalf.EUPSTREAM, "Could not reach Recall.ai: "+msg)
}

// statusString renders a status code.
func statusString(code int) string { return strconv.Itoa(code) }

// upstreamMessage extracts Recall's message from an error response: the
// "detail" field, else a compact rendering of DRF field errors, else the
// start of the body (or the status text for empty and HTML bodies).
func upstreamMessage(resp *http.Response, raw []byte, red *redactor) string {
	var msg string
	var doc any
	if err := json.Unmarshal(raw, &doc); err == nil {
		if m, ok := doc.(map[string]any); ok {
			if d, ok := m["detail"].(string); ok && strings.TrimSpace(d) != "" {
				msg = d
			} else {
				msg = fieldErrors(m)
			}
		} else {
			msg = fieldErrors(doc)
		}
	}
	if strings.TrimSpace(msg) == "" {
		mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		body := strings.TrimSpace(string(raw))
		if body != "" && mt != "text/html" && !strings.HasPrefix(body, "<") {
			// Clean before truncating, so no secret survives in part.
			return truncate(printable(red.clean(body)), maxRawBytes)
		}
		msg = http.StatusText(resp.StatusCode)
		if msg == "" {
			msg = "no message"
		}
	}
	return truncate(printable(red.clean(msg)), maxMessage)
}

// fieldErrors renders DRF validation errors such as
// {"meeting_url":["This field is required."],"zoom":{"obf_token_url":["Enter a valid URL."]}}
// as "meeting_url: This field is required.; zoom.obf_token_url: Enter a valid URL.".
func fieldErrors(v any) string {
	var parts []string
	flatten("", v, &parts)
	return strings.Join(parts, "; ")
}

// flatten appends the messages of v, prefixed by their field path.
func flatten(path string, v any, parts *[]string) {
	label := func(msg string) string {
		if path == "" || path == "non_field_errors" {
			return msg
		}
		return path + ": " + msg
	}
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		// DRF puts errors about the whole object under non_field_errors:
		// show them first.
		if i := slices.Index(keys, "non_field_errors"); i > 0 {
			keys = append([]string{"non_field_errors"}, slices.Delete(keys, i, i+1)...)
		}
		for _, k := range keys {
			p := k
			if path != "" && path != "non_field_errors" {
				p = path + "." + k
			}
			flatten(p, v[k], parts)
		}
	case []any:
		var msgs []string
		for i, e := range v {
			if s, ok := e.(string); ok {
				msgs = append(msgs, s)
			} else {
				flatten(fmt.Sprintf("%s[%d]", path, i), e, parts)
			}
		}
		if len(msgs) > 0 {
			*parts = append(*parts, label(strings.Join(msgs, " ")))
		}
	case string:
		*parts = append(*parts, label(v))
	case nil:
	default:
		*parts = append(*parts, label(fmt.Sprint(v)))
	}
}

// printable makes s valid UTF-8 on one line without control characters.
func printable(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
