package meetingurl

import (
	"net/url"
	"strings"
)

// maxHops is how many redirectors may wrap a meeting link: one, nested once
// (an Outlook safe link around a Google redirect, as mail forwarded from a
// calendar has).
const maxHops = 2

// A redirector is a service that wraps the links of a mail or a calendar
// event in its own, so that what people copy is its link, with the meeting
// link escaped in one query parameter. Parse unwraps it and judges the inner
// link by the same rules: a redirector never makes a host acceptable.
type redirector struct {
	name   string                       // for messages
	params []string                     // query parameters that may hold the target, in order
	match  func(host, path string) bool // whether a link (host in lower case) is this redirector's
}

// redirectors are the redirectors Parse unwraps.
var redirectors = []redirector{
	{
		// https://www.google.com/url?q=<link>&sa=D&source=calendar&usg=…
		name:   "Google",
		params: []string{"q", "url"},
		match: func(host, path string) bool {
			return (host == "google.com" || host == "www.google.com") && path == "/url"
		},
	},
	{
		// https://nam12.safelinks.protection.outlook.com/?url=<link>&data=…&sdata=…&reserved=0
		// (…protection.office365.us for government tenants).
		name:   "Outlook safe link",
		params: []string{"url"},
		match: func(host, path string) bool {
			return (path == "" || path == "/") &&
				(strings.HasSuffix(host, ".safelinks.protection.outlook.com") ||
					strings.HasSuffix(host, ".safelinks.protection.office365.us"))
		},
	},
}

// redirectorOf returns the redirector whose link u, an http or https URL, is,
// or nil. A link with user info or a port is nobody's.
func redirectorOf(u *url.URL) *redirector {
	if u.User != nil || !isDefaultPort(u) {
		return nil
	}
	host := hostOf(u)
	if !isHostName(host) {
		return nil
	}
	for i := range redirectors {
		if redirectors[i].match(host, u.EscapedPath()) {
			return &redirectors[i]
		}
	}
	return nil
}

// unwrap parses the link that u, a link of r, wraps, hops redirectors deep.
func (r *redirector) unwrap(u *url.URL, hops int) link {
	if hops >= maxHops {
		return fail(rejected, invalid("That link is wrapped in too many redirect links. Open it in a browser and paste the Zoom meeting link (%s) or the meeting ID.", example))
	}
	for _, p := range r.params {
		raw, ok := rawParam(u.RawQuery, p)
		if !ok || raw == "" {
			continue
		}
		target, err := url.QueryUnescape(raw)
		if err != nil {
			return fail(rejected, invalid("That %s link is garbled: its target (%s=…) cannot be read. Paste the Zoom meeting link (%s) or the meeting ID.", r.name, p, example))
		}
		return parseLink(strings.TrimSpace(target), hops+1)
	}
	return fail(offTopic, invalid("That %s link wraps no meeting link. Paste the Zoom meeting link (%s) or the meeting ID.", r.name, example))
}
