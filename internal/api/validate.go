package api

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Input limits.
const (
	// MaxExternalUserID bounds the product's user ID, in bytes.
	MaxExternalUserID = 200
	// MaxMetadata bounds the product's metadata object, in bytes.
	MaxMetadata = 4 << 10
	// MaxPlatformOptions bounds a bot's platform options, in bytes.
	MaxPlatformOptions = 16 << 10
	// maxID bounds IDs this server made (connections, bots) and Zoom's.
	maxID = 128
	// maxReturnTo bounds a connect link's return URL.
	maxReturnTo = 2048
)

// query returns the request's query parameters, refusing unknown ones
// (a typo must not silently widen a listing) and repeated ones.
func query(c *gin.Context, allowed ...string) (url.Values, error) {
	q, err := url.ParseQuery(c.Request.URL.RawQuery)
	if err != nil {
		return nil, onbehalf.Errorf(onbehalf.EINVALID, "The query string is malformed.")
	}
	for name, vs := range q {
		known := false
		for _, a := range allowed {
			known = known || a == name
		}
		switch {
		case !known && len(allowed) == 0:
			return nil, onbehalf.FieldError(name, "Unknown query parameter %q: this call takes none.", onbehalf.Clip(name, 40))
		case !known:
			return nil, onbehalf.FieldError(name, "Unknown query parameter %q: this call takes %s.", onbehalf.Clip(name, 40), strings.Join(allowed, ", "))
		case len(vs) > 1:
			return nil, onbehalf.FieldError(name, "%s is given more than once.", name)
		}
	}
	return q, nil
}

// limitParam reads a listing's page size: def when absent, 1 to max.
func limitParam(v string, def, max int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, onbehalf.FieldError("limit", "Bad limit: a whole number from 1 to %d.", max)
	}
	return n, nil
}

// checkID checks an identifier named in the input: printable, no blanks,
// at most n bytes. "" passes (the caller decides whether it is required).
func checkID(field, v string, n int) error {
	if len(v) > n {
		return onbehalf.FieldError(field, "Bad %s: longer than %d bytes.", field, n)
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] == 0x7f {
			return onbehalf.FieldError(field, "Bad %s: it has blanks or control characters.", field)
		}
	}
	if !utf8.ValidString(v) {
		return onbehalf.FieldError(field, "Bad %s: it is not valid UTF-8.", field)
	}
	return nil
}

// checkExternalUserID checks the product's user ID: text of at most
// MaxExternalUserID bytes, no control characters.
func checkExternalUserID(field, v string, required bool) error {
	switch {
	case v == "" && required:
		return onbehalf.FieldError(field, "Missing %s: your own ID of the person who connects Zoom.", field)
	case len(v) > MaxExternalUserID:
		return onbehalf.FieldError(field, "Bad %s: longer than %d bytes.", field, MaxExternalUserID)
	case !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return onbehalf.FieldError(field, "Bad %s: it is not text (control characters or invalid UTF-8).", field)
	}
	return nil
}

// checkObject checks an optional JSON object of at most n bytes and
// returns it compacted; absent or null is nil.
func checkObject(field string, raw json.RawMessage, n int) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, onbehalf.FieldError(field, "Bad %s: it must be a JSON object.", field)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, onbehalf.FieldError(field, "Bad %s: it is not valid JSON.", field)
	}
	if b.Len() > n {
		return nil, onbehalf.FieldError(field, "Bad %s: larger than %d bytes.", field, n)
	}
	return b.Bytes(), nil
}

// checkReturnTo checks a connect link's return URL: absolute http(s), on
// an origin of API_RETURN_ORIGINS, so that a connect link is never an
// open redirect.
func checkReturnTo(raw string, origins []string) error {
	const field = "return_to"
	if raw == "" {
		return nil
	}
	if len(origins) == 0 {
		return onbehalf.FieldError(field, "return_to is not allowed on this server: list your app's origin in API_RETURN_ORIGINS (e.g. https://app.example.com), then restart.")
	}
	u, err := url.Parse(raw)
	switch {
	case len(raw) > maxReturnTo:
		return onbehalf.FieldError(field, "Bad return_to: longer than %d bytes.", maxReturnTo)
	case err != nil || strings.ContainsAny(raw, "\\\r\n\t ") || !u.IsAbs() || u.Host == "" || u.Opaque != "":
		return onbehalf.FieldError(field, "Bad return_to: it must be an absolute http(s) URL.")
	case u.Scheme != "http" && u.Scheme != "https":
		return onbehalf.FieldError(field, "Bad return_to: only http and https URLs are allowed.")
	case u.User != nil:
		return onbehalf.FieldError(field, "Bad return_to: it must not carry a user name or password.")
	}
	got := origin(u.Scheme, u.Host)
	for _, o := range origins {
		if p, err := url.Parse(o); err == nil && origin(p.Scheme, p.Host) == got {
			return nil
		}
	}
	return onbehalf.FieldError(field, "return_to is not on an allowed origin: %s is not in API_RETURN_ORIGINS (%s).", onbehalf.Clip(got, 100), strings.Join(origins, ", "))
}

// origin is scheme://host in lower case, without the scheme's default
// port.
func origin(scheme, host string) string {
	scheme, host = strings.ToLower(scheme), strings.ToLower(host)
	if (scheme == "https" && strings.HasSuffix(host, ":443")) || (scheme == "http" && strings.HasSuffix(host, ":80")) {
		host = host[:strings.LastIndexByte(host, ':')]
	}
	return scheme + "://" + host
}

// parseKinds reads a list of token kinds; none is nil (the default).
func parseKinds(field string, list []string) ([]onbehalf.TokenKind, error) {
	var out []onbehalf.TokenKind
	for i, s := range list {
		k := onbehalf.TokenKind(s)
		if !k.Valid() {
			return nil, onbehalf.FieldError(field, "Unknown token kind %q in %s[%d]: use obf, zak or join.", onbehalf.Clip(s, 20), field, i)
		}
		if onbehalf.HasKind(out, k) {
			return nil, onbehalf.FieldError(field, "Token kind %q is given twice in %s.", s, field)
		}
		out = append(out, k)
	}
	return out, nil
}

// parseTTL reads a lifetime given as a Go duration ("2h", "90m") or as
// whole seconds (7200), at most max (positive); absent is zero (the
// default).
func parseTTL(field string, raw json.RawMessage, max time.Duration) (time.Duration, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var d time.Duration
	var s string
	if json.Unmarshal(raw, &s) == nil {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, onbehalf.FieldError(field, "Bad %s: %q is not a duration such as \"2h\" or \"90m\" (or give whole seconds as a number).", field, onbehalf.Clip(s, 30))
		}
	} else if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		d = time.Duration(min(n, int64(max/time.Second)+1)) * time.Second // no overflow
	} else {
		return 0, onbehalf.FieldError(field, "Bad %s: give a duration such as \"2h\" or whole seconds such as 7200.", field)
	}
	switch {
	case d <= 0:
		return 0, onbehalf.FieldError(field, "Bad %s: it must be positive.", field)
	case d > max:
		return 0, onbehalf.FieldError(field, "Bad %s: at most %s on this server (TOKEN_URL_TTL).", field, max)
	}
	return d, nil
}
