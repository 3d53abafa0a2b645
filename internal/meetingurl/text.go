package meetingurl

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// idLabels introduce a meeting ID in the text of an invitation ("Meeting ID:
// 850 1234 5678"), as Zoom writes it in a few languages; matched ignoring
// ASCII case. A dial-in line ("+16465588656,,85012345678#") has no label, so
// a phone number is never taken for an ID.
var idLabels = []string{
	"meeting id",
	"meeting-id",
	"meeting number",
	"webinar id",
	"id de réunion",
	"id de reunión",
	"ミーティングid",
}

// trailingPunct are the characters that end a sentence or a list item rather
// than a link ("…/j/85012345678." or "…5678),"), as autolinkers drop them.
// Zoom links never end with one of them: a canonical URL escapes a final ".".
const trailingPunct = ".,:;!?*'\""

// leadingWrap are the characters that may wrap a pasted link on its left.
const leadingWrap = "<([{\"'*"

// parseText returns the meeting named in s, a text with white space: an
// invitation, or a link with words around it.
//
// Every link in the text is parsed. Links that name no meeting (the "Find
// your local number" page, another site) are skipped. A link that was surely
// meant as the meeting link but is wrong (a meeting path on another host, a
// bad ID) refuses the whole text, as do links or "Meeting ID: …" lines
// naming different meetings: the bot must not join a meeting picked at
// random. Without a meeting link, a "Meeting ID: …" line names the meeting;
// a personal link in the text then lends its host and passcode.
func parseText(s string) (onbehalf.Meeting, error) {
	var found []link
	var personal *link
	for _, c := range candidates(s) {
		l := parseLink(c, 0)
		switch l.verdict {
		case accepted:
			found = append(found, l)
		case rejected:
			return onbehalf.Meeting{}, l.err
		case personalLink:
			if personal == nil {
				personal = &l
			}
		}
	}
	id, ok, err := labeledID(s)
	if len(found) > 0 {
		best := found[0]
		for _, l := range found[1:] {
			if l.id != best.id {
				return onbehalf.Meeting{}, ambiguous(best.id, l.id)
			}
			if best.pwd == "" && l.pwd != "" {
				best = l
			}
		}
		if err == nil && ok && id != best.id {
			return onbehalf.Meeting{}, ambiguous(best.id, id)
		}
		return best.meeting(), nil
	}
	if err != nil {
		return onbehalf.Meeting{}, err
	}
	switch {
	case ok && personal != nil:
		return link{host: personal.host, id: id, pwd: personal.pwd}.meeting(), nil
	case ok:
		return link{host: defaultHost, id: id}.meeting(), nil
	case personal != nil:
		return onbehalf.Meeting{}, personal.err
	}
	return onbehalf.Meeting{}, invalid("That text has neither a Zoom meeting link nor a meeting ID. Paste the meeting link from the invitation (%s) or the meeting ID.", example)
}

// ambiguous is the error for a text that names two meetings.
func ambiguous(id1, id2 string) error {
	return invalid("That text names more than one meeting (%s and %s). Paste only the link of the meeting the bot should join.", clip(id1, 20), clip(id2, 20))
}

// candidates returns the words of s that may be links, in order, without
// the punctuation around them.
func candidates(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(s, isDelimiter) {
		if c := candidate(w); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// isDelimiter reports whether r ends a word that may be a link: white space,
// a character no URL holds unescaped (RFC 3986: <>"{}|\^`), or a bracket or
// quote, which Zoom links never hold but prose puts around them
// ("…/j/88240852079(Passcode: 584706)"). Commas and semicolons, which may be
// in a query, end a link only at its end (trimTrailing).
func isDelimiter(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune("<>\"{}|\\^`'()[]", r)
}

// candidate returns the link in w, a word of a text: from an http, https,
// zoommtg or zoomus scheme on ("Link:https://…"), or a name with a dot and a
// path ("us02web.zoom.us/j/…"); "" when w holds none.
func candidate(w string) string {
	if i := strings.Index(w, "://"); i >= 0 {
		start := i
		for start > 0 && isLetter(w[start-1]) {
			start--
		}
		switch strings.ToLower(w[start:i]) {
		case "http", "https", "zoommtg", "zoomus":
			return trimTrailing(w[start:])
		}
		return ""
	}
	w = strings.TrimLeftFunc(w, func(r rune) bool { return !isASCIIAlnum(r) })
	slash := strings.IndexByte(w, '/')
	if slash <= 0 {
		return ""
	}
	host := w[:slash]
	if !strings.Contains(host, ".") {
		return ""
	}
	for i := 0; i < len(host); i++ {
		if c := host[i]; !isASCIIAlnum(rune(c)) && c != '.' && c != '-' && c != ':' {
			return ""
		}
	}
	return trimTrailing(w)
}

// trimLeading returns s without the brackets, quotes or stars before a link.
func trimLeading(s string) string {
	return strings.TrimLeft(s, leadingWrap)
}

// trimTrailing returns s without the punctuation after a link: trailingPunct,
// and closing brackets that close nothing opened within s.
func trimTrailing(s string) string {
	var open, closed [4]int // (), [], {}, <>
	for i := 0; i < len(s); i++ {
		if k := strings.IndexByte("([{<", s[i]); k >= 0 {
			open[k]++
		} else if k := strings.IndexByte(")]}>", s[i]); k >= 0 {
			closed[k]++
		}
	}
	for s != "" {
		c := s[len(s)-1]
		if k := strings.IndexByte(")]}>", c); k >= 0 {
			if closed[k] <= open[k] {
				return s
			}
			closed[k]--
		} else if strings.IndexByte(trailingPunct, c) < 0 {
			return s
		}
		s = s[:len(s)-1]
	}
	return s
}

// labeledID returns the meeting ID that follows an idLabel in s, and whether
// there is one. Labels followed by no digits are skipped; labels naming
// different IDs, or an ID of the wrong length, are an error.
func labeledID(s string) (id string, ok bool, err error) {
	for i := 0; i < len(s); i++ {
		n := labelAt(s, i)
		if n == 0 {
			continue
		}
		digits, end := digitsAfter(s, i+n)
		if digits == "" {
			i += n - 1
			continue
		}
		if err := checkDigitCount(digits); err != nil {
			return "", false, err
		}
		if ok && digits != id {
			return "", false, ambiguous(id, digits)
		}
		id, ok = digits, true
		i = end - 1
	}
	return id, ok, nil
}

// labelAt returns the length of the idLabel at s[i:], or 0.
func labelAt(s string, i int) int {
	for _, l := range idLabels {
		if hasPrefixFoldASCII(s[i:], l) {
			return len(l)
		}
	}
	return 0
}

// hasPrefixFoldASCII reports whether s begins with prefix, a lower-case
// label, ignoring the case of ASCII letters only (so that byte offsets in s
// stay meaningful).
func hasPrefixFoldASCII(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// digitsAfter reads the ID after a label that ends at s[i:]: optional blanks
// and one of ":#.=" (or a full-width colon), white space, then groups of
// digits each separated by one space or dash ("850 1234 5678"). It returns
// the digits and where they end; "" when no digit follows.
func digitsAfter(s string, i int) (string, int) {
	i = skip(s, i, isBlank)
	if i < len(s) && strings.IndexByte(":#.=", s[i]) >= 0 {
		i++
	} else if strings.HasPrefix(s[i:], "：") {
		i += len("：")
	}
	i = skip(s, i, unicode.IsSpace)
	var b strings.Builder
	for i < len(s) && isDigit(s[i]) {
		for i < len(s) && isDigit(s[i]) {
			b.WriteByte(s[i])
			i++
		}
		// One separator, then more digits: the same ID.
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == ' ' || r == '-' || r == '\u00a0') && i+n < len(s) && isDigit(s[i+n]) {
			i += n
		}
	}
	return b.String(), i
}

// skip returns the index of the first rune of s at or after i that is not
// in the class f.
func skip(s string, i int, f func(rune) bool) int {
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !f(r) {
			break
		}
		i += n
	}
	return i
}

// isBlank reports whether r is a space within a line.
func isBlank(r rune) bool { return r == ' ' || r == '\t' || r == '\u00a0' }

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isASCIIAlnum(r rune) bool { return r < utf8.RuneSelf && (isLetter(byte(r)) || isDigit(byte(r))) }
