package platform

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"unicode"

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

// newRedactor returns a redactor for secrets: API keys, and token URLs
// (whose raw query and every non-numeric query value are secrets too).
func newRedactor(secrets ...string) *redactor {
	var out []string
	add := func(s string) {
		if len(s) >= 4 {
			out = append(out, s, url.QueryEscape(s))
			if b, err := json.Marshal(s); err == nil {
				out = append(out, strings.Trim(string(b), `"`))
			}
		}
	}
	for _, raw := range secrets {
		if raw == "" {
			continue
		}
		add(raw)
		if u, err := url.Parse(raw); err == nil && u.RawQuery != "" {
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
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return &redactor{secrets: slices.Compact(out)}
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

// upstreamMessage extracts a platform's message from an error response:
// a "detail", "message" or "error" field (Django REST Framework, most JSON
// APIs), else a compact rendering of field errors, else the start of the
// body (or the status text for empty and HTML bodies).
func upstreamMessage(resp *http.Response, raw []byte, red *redactor) string {
	var msg string
	var doc any
	if err := json.Unmarshal(raw, &doc); err == nil {
		if m, ok := doc.(map[string]any); ok {
			msg = messageField(m)
			if msg == "" {
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
			return onbehalf.Clip(Printable(red.clean(body)), maxRawBytes)
		}
		msg = http.StatusText(resp.StatusCode)
		if msg == "" {
			msg = "no message"
		}
	}
	return onbehalf.Clip(Printable(red.clean(msg)), maxMessage)
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

// Printable makes s valid UTF-8 on one line without control characters,
// blanks folded (text from a platform, before it is shown).
func Printable(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// messageField returns the first non-empty message field of an error
// object, looking one level into an "error" object too.
func messageField(m map[string]any) string {
	for _, k := range []string{"detail", "message", "error", "error_description", "msg"} {
		switch v := m[k].(type) {
		case string:
			if strings.TrimSpace(v) != "" {
				return v
			}
		case map[string]any:
			if s := messageField(v); s != "" {
				return s
			}
		}
	}
	return ""
}
