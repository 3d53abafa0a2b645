package web

import (
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ago renders a time relative to now, for people.
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d.Minutes()), "minute") + " ago"
	case d < 48*time.Hour:
		return plural(int(d.Hours()), "hour") + " ago"
	}
	return t.UTC().Format("2 Jan 2006 15:04 UTC")
}

// plural renders a count of units: "1 minute", "3 minutes".
func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// clock renders the time of a timeline entry, to the second, in UTC (the
// server does not know the person's time zone).
func clock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("15:04:05")
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
