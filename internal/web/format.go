package web

import (
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ago renders a time relative to now, for people; an older one as a
// date in the browser's time zone (localTime).
func ago(t time.Time) template.HTML {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return template.HTML(plural(int(d.Minutes()), "minute") + " ago")
	case d < 48*time.Hour:
		return template.HTML(plural(int(d.Hours()), "hour") + " ago")
	}
	return localTime(t, layoutDate)
}

// plural renders a count of units: "1 minute", "3 minutes".
func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// clock renders the time of a timeline entry, to the second, in UTC (the
// server does not know the person's time zone; localTime shows it in the
// browser's).
func clock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("15:04:05")
}

// Layouts of localTime: a time of day to the second, or a day and time.
const (
	layoutClock = "clock"
	layoutDate  = "date"
)

// localTime renders t as a <time> element showing UTC, with UTC in its
// title too: base.html's script rewrites the text in the browser's own
// time zone and keeps the title, so a person reads local time and sees
// UTC on hover; without JavaScript the page still says UTC.
func localTime(t time.Time, layout string) template.HTML {
	if t.IsZero() {
		return ""
	}
	u := t.UTC()
	text := u.Format("15:04:05") + " UTC"
	if layout == layoutDate {
		text = u.Format("15:04 UTC, 2 Jan 2006")
	}
	return template.HTML(`<time datetime="` + u.Format(time.RFC3339) + `" data-local="` + template.HTMLEscapeString(layout) +
		`" title="` + u.Format("2 Jan 2006 15:04:05") + ` UTC">` + text + `</time>`)
}

// codeText renders a message for a page: escaped, with each `quoted`
// part (hints and errors quote commands that way for logs and the
// terminal) as <code> instead of literal backticks.
func codeText(s string) template.HTML {
	parts := strings.Split(s, "`")
	if len(parts)%2 == 0 { // an odd backtick: no pairs to trust
		return template.HTML(template.HTMLEscapeString(s))
	}
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 {
			b.WriteString("<code>" + template.HTMLEscapeString(p) + "</code>")
			continue
		}
		b.WriteString(template.HTMLEscapeString(p))
	}
	return template.HTML(b.String())
}

// spacedID groups a meeting ID the way Zoom prints it: 850 1234 5678.
func spacedID(id string) string {
	switch len(id) {
	case 11:
		return id[:3] + " " + id[3:7] + " " + id[7:]
	case 9, 10:
		return id[:3] + " " + id[3:6] + " " + id[6:]
	}
	return id
}

// sentence ends s with a full stop unless it ends a sentence already.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}

// sentenceCase makes s a sentence: a capital first letter and a full
// stop (platforms' reasons come in lower case, without one).
func sentenceCase(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	r, n := utf8.DecodeRuneInString(s)
	return sentence(string(unicode.ToUpper(r)) + s[n:])
}

// firstSentence splits a message after its first sentence (a full stop
// followed by a space, outside parentheses), for a headline and the rest.
func firstSentence(s string) (first, rest string) {
	s = strings.TrimSpace(s)
	depth := 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case '.':
			if depth <= 0 && i+1 < len(s) && s[i+1] == ' ' {
				return s[:i+1], strings.TrimSpace(s[i+1:])
			}
		}
	}
	return s, ""
}

// webOrigin returns the scheme and host of an absolute URL ("" when it
// is not one).
func webOrigin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
