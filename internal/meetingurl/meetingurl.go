// Package meetingurl extracts a Zoom meeting ID from whatever a user pastes
// into a "Zoom meeting URL" form field: a browser join link
// (https://us02web.zoom.us/j/85012345678?pwd=…), a web-client or start link,
// a zoommtg:// or zoomus:// app link, or the bare meeting ID as people type it
// ("850 1234 5678").
//
// Every error is an *onbehalf.Error with code onbehalf.EINVALID and a message
// meant to be shown to the user as is; a message quotes at most a short,
// clipped piece of the input.
package meetingurl

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// MaxLen is the longest input, in bytes, that Parse looks at.
const MaxLen = 2048

// MinDigits and MaxDigits bound the length of a Zoom meeting ID.
const (
	MinDigits = 9
	MaxDigits = 11
)

// zoomDomains are the registrable domains that serve Zoom meetings; a host
// must be one of them or a subdomain of one.
var zoomDomains = [...]string{"zoom.us", "zoom.com", "zoomgov.com"}

// example is the shape of link the messages point users to.
const example = "https://zoom.us/j/85012345678"

// Parse returns the numeric meeting ID (digits only, no spaces) found in s, or
// an error.
//
// s may be a Zoom meeting URL (with or without a scheme; paths /j/ID, /s/ID,
// /w/ID, /wc/join/ID, /wc/ID/join and /wc/ID/start on zoom.us, zoom.com,
// zoomgov.com or a subdomain of one), a zoommtg:// or zoomus:// link with a
// confno parameter, or a bare meeting ID, possibly grouped with spaces or
// dashes. Surrounding white space is ignored. The error, always an
// *onbehalf.Error with code onbehalf.EINVALID, says what is wrong in words
// fit for the user.
func Parse(s string) (string, error) {
	if len(s) > MaxLen {
		return "", invalid("Meeting URL is too long (%d bytes; the limit is %d).", len(s), MaxLen)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", invalid("Meeting URL is empty.")
	}
	if isBareID(s) {
		return bareID(s)
	}

	scheme, full, implied, err := withScheme(s)
	if err != nil {
		return "", err
	}
	u, perr := url.Parse(full)
	if perr != nil {
		// perr quotes the whole input: keep it out of the message.
		return "", invalid("That is not a valid URL. Paste the Zoom meeting link as it appears in the invitation (%s) or the meeting ID.", example)
	}
	if implied && u.User == nil && !strings.Contains(u.Host, ".") {
		// "hello", "abc123": not even trying to be a URL.
		return "", invalid("That is neither a Zoom meeting URL nor a meeting ID. Paste the meeting link from the invitation (%s) or the meeting ID.", example)
	}
	if err := checkHost(u); err != nil {
		return "", err
	}
	if scheme == "zoommtg" || scheme == "zoomus" {
		return appLinkID(u, scheme)
	}
	return webLinkID(u)
}

// isBareID reports whether s holds only digits, spaces and dashes.
func isBareID(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isDigit(c) && c != ' ' && c != '-' {
			return false
		}
	}
	return true
}

// bareID returns the digits of s, a meeting ID grouped with spaces or dashes.
func bareID(s string) (string, error) {
	id := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, s)
	if err := checkDigitCount(id); err != nil {
		return "", err
	}
	return id, nil
}

// withScheme returns the lowercase scheme of s and s as an absolute URL: s
// itself, or s with "https://" put in front when the user left the scheme
// out, which implied reports. It rejects schemes other than http, https,
// zoommtg and zoomus.
func withScheme(s string) (scheme, full string, implied bool, err error) {
	if strings.HasPrefix(s, "//") {
		return "https", "https:" + s, true, nil
	}
	i := strings.IndexByte(s, ':')
	if i <= 0 || !isSchemeToken(s[:i]) {
		return "https", "https://" + s, true, nil
	}
	rest := s[i+1:]
	if rest != "" && isDigit(rest[0]) {
		// "zoom.us:443/j/…": a host and a port, not a scheme.
		return "https", "https://" + s, true, nil
	}
	scheme = strings.ToLower(s[:i])
	switch scheme {
	case "http", "https", "zoommtg", "zoomus":
		if !strings.HasPrefix(rest, "//") {
			return "", "", false, invalid("That is not a valid URL: %q must be followed by \"//\". Paste the Zoom meeting link as it appears in the invitation (%s) or the meeting ID.", clip(s[:i+1], 20), example)
		}
		return scheme, s, false, nil
	}
	return "", "", false, invalid("Not a Zoom meeting URL: links starting with %q are not supported. Paste an https:// Zoom meeting link (%s) or the meeting ID.", clip(s[:i+1], 20), example)
}

// isSchemeToken reports whether s has the syntax of a URL scheme (RFC 3986
// section 3.1).
func isSchemeToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && (isDigit(c) || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// checkHost accepts a URL whose host is a Zoom domain or a subdomain of one,
// without user info and on the default port.
func checkHost(u *url.URL) error {
	if u.User != nil {
		return invalid("Not a Zoom meeting URL: it has a user name before \"@\", which hides the real host. Zoom meeting links never have one.")
	}
	host := strings.ToLower(u.Hostname())
	host = strings.TrimSuffix(host, ".") // a fully qualified "zoom.us." is fine
	if host == "" {
		return invalid("Not a Zoom meeting URL: it has no host. Paste the Zoom meeting link as it appears in the invitation (%s) or the meeting ID.", example)
	}
	if !isZoomHost(host) {
		return invalid("Not a Zoom meeting URL: the host must be zoom.us, zoom.com or zoomgov.com (or a subdomain), not %q.", clip(u.Hostname(), 64))
	}
	switch u.Port() {
	case "", "443", "80":
	default:
		return invalid("Not a Zoom meeting URL: Zoom links do not name a port (got %q).", clip(u.Port(), 10))
	}
	return nil
}

// isZoomHost reports whether host, in lower case, is a well-formed name equal
// to or under one of zoomDomains.
func isZoomHost(host string) bool {
	if len(host) > 253 {
		return false
	}
	for rest := host; ; {
		label, after, more := strings.Cut(rest, ".")
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !('a' <= c && c <= 'z') && !isDigit(c) && c != '-' {
				return false
			}
		}
		if !more {
			break
		}
		rest = after
	}
	for _, d := range zoomDomains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// webLinkID returns the meeting ID in the path of an http or https Zoom URL.
func webLinkID(u *url.URL) (string, error) {
	// The path as typed, so that an ID is never the decoding of "%38…":
	// RawPath is set whenever the typed path differs from the canonical
	// encoding of Path.
	p := u.RawPath
	if p == "" {
		p = u.Path
	}
	p = strings.TrimPrefix(p, "/")
	p = strings.TrimSuffix(p, "/")
	var seg []string
	if p != "" {
		seg = strings.SplitN(p, "/", 5)
	}

	switch {
	case len(seg) == 0:
		return "", invalid("That Zoom URL has no meeting ID. Paste the full meeting link (%s) or the meeting ID.", example)
	case strings.EqualFold(seg[0], "my"):
		return "", invalid("That is a Zoom personal link (%s): it carries no meeting ID. Open it in a browser and paste the URL with the number (…/j/85012345678), or paste the meeting ID.", clip("/"+p, 60))
	case isKeyword(seg[0], "j", "s", "w"):
		if len(seg) == 1 || seg[1] == "" {
			return "", invalid("That Zoom URL has no meeting ID after /%s/. Paste the full meeting link (%s) or the meeting ID.", seg[0], example)
		}
		if len(seg) == 2 {
			return checkID(seg[1])
		}
	case strings.EqualFold(seg[0], "wc"):
		switch {
		case len(seg) == 1, len(seg) == 2 && isKeyword(seg[1], "join", "start"):
			return "", invalid("That Zoom URL has no meeting ID after /%s/. Paste the full meeting link (%s) or the meeting ID.", clip(p, 20), example)
		case len(seg) == 3 && strings.EqualFold(seg[1], "join"):
			return checkID(seg[2]) // /wc/join/ID
		case len(seg) == 3 && isKeyword(seg[2], "join", "start"):
			return checkID(seg[1]) // /wc/ID/join, /wc/ID/start
		}
	}
	return "", invalid("Not a Zoom meeting URL: the path should look like /j/85012345678 (or /s/…, /w/…, /wc/join/…), not %q. Paste the meeting link from the invitation or the meeting ID.", clip("/"+p, 60))
}

// appLinkID returns the meeting ID of a zoommtg:// or zoomus:// link, which
// is in the confno query parameter of a /join or /start path.
func appLinkID(u *url.URL, scheme string) (string, error) {
	p := strings.TrimSuffix(u.Path, "/")
	if !strings.EqualFold(p, "/join") && !strings.EqualFold(p, "/start") {
		return "", invalid("Not a Zoom meeting link: a %s:// link should look like %s://zoom.us/join?confno=85012345678.", scheme, scheme)
	}
	// The raw query, not u.Query(), so that the ID is digits as typed.
	q := u.RawQuery
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		k, v, _ := strings.Cut(kv, "=")
		if strings.EqualFold(k, "confno") {
			if v == "" {
				break
			}
			return checkID(v)
		}
	}
	return "", invalid("That Zoom app link has no meeting ID (confno=…). Paste the meeting link from the invitation (%s) or the meeting ID.", example)
}

// isKeyword reports whether seg is one of words, ignoring case.
func isKeyword(seg string, words ...string) bool {
	for _, w := range words {
		if strings.EqualFold(seg, w) {
			return true
		}
	}
	return false
}

// checkID returns id if it is a well-formed meeting ID.
func checkID(id string) (string, error) {
	for i := 0; i < len(id); i++ {
		if !isDigit(id[i]) {
			return "", invalid("Meeting ID must contain only digits (got %q).", clip(id, 30))
		}
	}
	if err := checkDigitCount(id); err != nil {
		return "", err
	}
	return id, nil
}

// checkDigitCount checks the length of id, a string of digits.
func checkDigitCount(id string) error {
	if len(id) < MinDigits || len(id) > MaxDigits {
		return invalid("Meeting ID must have %d to %d digits (got %d).", MinDigits, MaxDigits, len(id))
	}
	return nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// invalid returns an EINVALID error with a message for the user.
func invalid(format string, args ...any) error {
	return onbehalf.Errorf(onbehalf.EINVALID, format, args...)
}

// clip returns s cut to at most n bytes on a rune boundary, marked with "…"
// when cut, so that a message never echoes much of the input. It replaces
// invalid UTF-8 and unprintable runes with U+FFFD, so that the message is
// fit for display.
func clip(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if !unicode.IsPrint(r) {
			r = utf8.RuneError
		}
		if b.Len()+utf8.RuneLen(r) > n {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}
