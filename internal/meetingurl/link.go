package meetingurl

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// zoomDomains are the registrable domains that serve Zoom meetings; a host
// must be one of them or a subdomain of one.
var zoomDomains = []string{"zoom.us", "zoom.com", "zoomgov.com"}

// maxPasswordLen bounds the pwd value of a link: Zoom's are some 30 bytes,
// and a canonical URL should stay short.
const maxPasswordLen = 256

// verdict is what parseLink makes of one link. Within a text, it tells a
// link to skip (another page mentioned in an invitation) from a link that was
// surely meant as the meeting link and is wrong, which refuses the text.
type verdict int

const (
	accepted     verdict = iota // a Zoom meeting link
	offTopic                    // not meant as a meeting link: another Zoom page, another site, not a link
	personalLink                // a Zoom personal link (/my/name): it names no meeting ID
	rejected                    // meant as a meeting link, but wrong or unsafe
)

// link is one parsed link: its Zoom host (lower case, no port, no final dot),
// meeting ID and decoded passcode, or why it names no meeting. A personal
// link keeps its host and passcode.
type link struct {
	host, id, pwd string
	verdict       verdict
	err           error
}

// fail returns a link refused for err.
func fail(v verdict, err error) link { return link{verdict: v, err: err} }

// parseLink parses s, one link without surrounding text, that hops
// redirectors have already unwrapped.
func parseLink(s string, hops int) link {
	scheme, full, implied, err := withScheme(s)
	if err != nil {
		return fail(rejected, err)
	}
	u, perr := url.Parse(full)
	if perr != nil {
		// perr quotes the whole input: keep it out of the message.
		return fail(offTopic, invalid("That is not a valid URL. Paste the Zoom meeting link as it appears in the invitation (%s) or the meeting ID.", example))
	}
	if implied && u.User == nil && !strings.Contains(u.Host, ".") {
		// "hello", "abc123": not even trying to be a URL.
		return fail(offTopic, neither())
	}
	if scheme == "http" || scheme == "https" {
		if r := redirectorOf(u); r != nil {
			return r.unwrap(u, hops)
		}
	}
	host, v, err := checkHost(u, scheme)
	if err != nil {
		return fail(v, err)
	}
	l := link{host: host, verdict: accepted}
	if isAppScheme(scheme) {
		if l.id, err = appLinkID(u, scheme); err != nil {
			return fail(rejected, err)
		}
	} else if l.id, v, err = webLinkID(u); err != nil {
		if v != personalLink {
			return fail(v, err)
		}
		// A personal link keeps its host and passcode, which a text
		// with a "Meeting ID: …" line completes.
		l.verdict, l.err = personalLink, err
	}
	if l.pwd, err = password(u.RawQuery); err != nil {
		return fail(rejected, err)
	}
	return l
}

// isAppScheme reports whether scheme is one of the Zoom app's.
func isAppScheme(scheme string) bool { return scheme == "zoommtg" || scheme == "zoomus" }

// withScheme returns the lowercase scheme of s and s as an absolute URL: s
// itself, or s with "https://" put in front when the person left the scheme
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

// checkHost returns the host of u if it is a Zoom domain or a subdomain of
// one, without user info and on the default port. When it is not, the
// verdict says whether u still looks like a meeting link (an app link, or a
// meeting path on another host: a fake).
func checkHost(u *url.URL, scheme string) (string, verdict, error) {
	if u.User != nil {
		return "", rejected, invalid("Not a Zoom meeting URL: it has a user name before \"@\", which hides the real host. Zoom meeting links never have one.")
	}
	host := hostOf(u)
	if host == "" {
		return "", offTopic, invalid("Not a Zoom meeting URL: it has no host. Paste the Zoom meeting link as it appears in the invitation (%s) or the meeting ID.", example)
	}
	if !isZoomHost(host) {
		v := offTopic
		if _, _, err := webLinkID(u); err == nil || isAppScheme(scheme) {
			v = rejected
		}
		return "", v, invalid("Not a Zoom meeting URL: the host must be zoom.us, zoom.com or zoomgov.com (or a subdomain), not %q.", clip(u.Hostname(), 64))
	}
	if !isDefaultPort(u) {
		return "", rejected, invalid("Not a Zoom meeting URL: Zoom links do not name a port (got %q).", clip(u.Port(), 10))
	}
	return host, accepted, nil
}

// hostOf returns the host name of u in lower case, without a final dot (a
// fully qualified "zoom.us." is the same host).
func hostOf(u *url.URL) string {
	return strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
}

// isDefaultPort reports whether u names no port, or a default one.
func isDefaultPort(u *url.URL) bool {
	switch u.Port() {
	case "", "443", "80":
		return true
	}
	return false
}

// isZoomHost reports whether host, in lower case, is a well-formed name equal
// to or under one of zoomDomains.
func isZoomHost(host string) bool {
	return isHostName(host) && under(host, zoomDomains...)
}

// under reports whether host is one of domains or a subdomain of one.
func under(host string, domains ...string) bool {
	for _, d := range domains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// isHostName reports whether host, in lower case, is a well-formed DNS name:
// labels of letters, digits and inner dashes.
func isHostName(host string) bool {
	if len(host) > 253 {
		return false
	}
	for rest := host; ; {
		label, after, more := strings.Cut(rest, ".")
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !('a' <= c && c <= 'z') && !isDigit(c) && c != '-' {
				return false
			}
		}
		if !more {
			return true
		}
		rest = after
	}
}

// webLinkID returns the meeting ID in the path of an http or https Zoom URL.
// When there is none, the verdict tells a meeting path gone wrong from a
// personal link and from another page.
func webLinkID(u *url.URL) (string, verdict, error) {
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
		return "", offTopic, invalid("That Zoom URL has no meeting ID. Paste the full meeting link (%s) or the meeting ID.", example)
	case strings.EqualFold(seg[0], "my"):
		return "", personalLink, invalid("That is a Zoom personal link (%s): it carries no meeting ID. Open it in a browser and paste the URL with the number (…/j/85012345678), or paste the meeting ID.", clip("/"+p, 60))
	case isKeyword(seg[0], "j", "s", "w"):
		if len(seg) == 1 || seg[1] == "" {
			return "", rejected, noIDAfter(seg[0])
		}
		if len(seg) == 2 {
			id, err := checkID(seg[1])
			return id, rejected, err
		}
	case strings.EqualFold(seg[0], "wc"):
		var id string
		var err error
		switch {
		case len(seg) == 1, len(seg) == 2 && isKeyword(seg[1], "join", "start"):
			return "", rejected, noIDAfter(p)
		case len(seg) == 2:
			id, err = checkID(seg[1]) // /wc/ID
		case len(seg) == 3 && strings.EqualFold(seg[1], "join"):
			id, err = checkID(seg[2]) // /wc/join/ID
		case len(seg) == 3 && isKeyword(seg[2], "join", "start"):
			id, err = checkID(seg[1]) // /wc/ID/join, /wc/ID/start
		default:
			return "", rejected, badPath(p)
		}
		return id, rejected, err
	default:
		return "", offTopic, badPath(p)
	}
	return "", rejected, badPath(p)
}

// noIDAfter is the error for a meeting path that stops before the ID.
func noIDAfter(prefix string) error {
	return invalid("That Zoom URL has no meeting ID after /%s/. Paste the full meeting link (%s) or the meeting ID.", clip(prefix, 20), example)
}

// badPath is the error for a Zoom URL whose path names no meeting.
func badPath(p string) error {
	return invalid("Not a Zoom meeting URL: the path should look like /j/85012345678 (or /s/…, /w/…, /wc/…), not %q. Paste the meeting link from the invitation or the meeting ID.", clip("/"+p, 60))
}

// appLinkID returns the meeting ID of a zoommtg:// or zoomus:// link, which
// is in the confno query parameter of a /join or /start path.
func appLinkID(u *url.URL, scheme string) (string, error) {
	p := strings.TrimSuffix(u.Path, "/")
	if !strings.EqualFold(p, "/join") && !strings.EqualFold(p, "/start") {
		return "", invalid("Not a Zoom meeting link: a %s:// link should look like %s://zoom.us/join?confno=85012345678.", scheme, scheme)
	}
	// The raw value, not u.Query(), so that the ID is digits as typed.
	if v, ok := rawParam(u.RawQuery, "confno"); ok && v != "" {
		return checkID(v)
	}
	return "", invalid("That Zoom app link has no meeting ID (confno=…). Paste the meeting link from the invitation (%s) or the meeting ID.", example)
}

// password returns the decoded pwd parameter of a raw query, "" if there is
// none. It refuses a value that cannot be carried safely: badly escaped,
// not UTF-8, holding control or other unprintable characters, or too long.
// Its messages never quote the value: a passcode is a secret.
func password(rawQuery string) (string, error) {
	raw, ok := rawParam(rawQuery, "pwd")
	if !ok {
		return "", nil
	}
	pwd, err := url.QueryUnescape(raw)
	if err != nil {
		return "", invalid("The passcode in that link (pwd=…) is garbled. Copy the meeting link again from the invitation.")
	}
	if len(pwd) > maxPasswordLen {
		return "", invalid("The passcode in that link (pwd=…) is too long (%d bytes; the limit is %d). Copy the meeting link again from the invitation.", len(pwd), maxPasswordLen)
	}
	for _, r := range pwd {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return "", invalid("The passcode in that link (pwd=…) holds control or unprintable characters. Copy the meeting link again from the invitation.")
		}
	}
	return pwd, nil
}

// rawParam returns the raw value of the first parameter of a raw query whose
// name is key (ignoring case), and whether there is one.
func rawParam(rawQuery, key string) (string, bool) {
	for q := rawQuery; q != ""; {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		if k, v, _ := strings.Cut(kv, "="); strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
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
