// Package meetingurl finds the Zoom meeting named by whatever a person pastes
// into a "Zoom meeting URL" form field, and turns it into the canonical join
// URL a bot platform gets (https://<zoom host>/j/<id>[?pwd=…]), never the
// raw input.
//
// It accepts a browser join link (https://us02web.zoom.us/j/85012345678?pwd=…),
// a web-client or start link, a zoommtg:// or zoomus:// app link, the bare
// meeting ID as people type it ("850 1234 5678"), the same links wrapped by
// Google's or Outlook's redirectors, and a whole invitation with the link (or
// a "Meeting ID: …" line) somewhere in its text.
//
// Every error is an *onbehalf.Error with code onbehalf.EINVALID and a message
// meant to be shown to the person as is; a message quotes at most a short,
// clipped piece of the input, and never the passcode.
package meetingurl

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// MaxLen is the longest input, in bytes, that Parse looks at: room for a
// whole Zoom invitation, dial-in numbers included.
const MaxLen = 16 << 10

// defaultHost is the host of the canonical URL when the input names no Zoom
// web host (a bare meeting ID).
const defaultHost = "zoom.us"

// example is the shape of link the messages point people to.
const example = "https://zoom.us/j/85012345678"

// Parse returns the meeting named by s.
//
// s may be a Zoom meeting link (with or without a scheme; paths /j/ID, /s/ID,
// /w/ID, /wc/ID, /wc/join/ID, /wc/ID/join and /wc/ID/start on zoom.us,
// zoom.com, zoomgov.com or a subdomain of one), a zoommtg:// or zoomus://
// link with a confno parameter, such a link behind a Google or Outlook
// redirector, a bare meeting ID possibly grouped with spaces or dashes, or a
// text (an invitation) holding one of those links or a "Meeting ID: …" line.
//
// The Meeting's URL is canonical: https, the input's Zoom host in lower case
// (zoom.us for a bare ID), /j/ID, and ?pwd= when the link had a passcode.
// The error, always an *onbehalf.Error with code onbehalf.EINVALID, says what
// is wrong in words fit for the person.
func Parse(s string) (onbehalf.Meeting, error) {
	if len(s) > MaxLen {
		return onbehalf.Meeting{}, invalid("Meeting URL is too long (%d bytes; the limit is %d).", len(s), MaxLen)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return onbehalf.Meeting{}, invalid("Meeting URL is empty.")
	}
	if isBareID(s) {
		return bareMeeting(s)
	}
	if strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return parseText(s)
	}

	// One word: a link, perhaps in brackets or followed by punctuation.
	core := trimTrailing(trimLeading(s))
	if core == "" {
		return onbehalf.Meeting{}, neither()
	}
	if isBareID(core) {
		return bareMeeting(core)
	}
	l := parseLink(core, 0)
	if l.err != nil {
		return onbehalf.Meeting{}, l.err
	}
	return l.meeting(), nil
}

// ResolveID returns the meeting ID of a call that names its meeting by
// meeting_url (what people paste, as Parse reads it) or by meeting_id
// (its digits), not both; errors are EINVALID and name the field. Both
// empty is "" and no error: the caller says whether a meeting is needed.
func ResolveID(meetingURL, meetingID string) (string, error) {
	switch {
	case meetingURL != "" && meetingID != "":
		return "", onbehalf.FieldError("meeting_id", "Give meeting_url or meeting_id, not both.")
	case meetingURL != "":
		m, err := Parse(meetingURL)
		if err != nil {
			return "", onbehalf.FieldError("meeting_url", "%s", onbehalf.ErrorMessage(err))
		}
		return m.ID, nil
	case meetingID != "":
		return meetingID, onbehalf.CheckMeetingID("meeting_id", meetingID)
	}
	return "", nil
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

// bareMeeting returns the meeting whose ID is s, grouped with spaces or
// dashes, on the default host.
func bareMeeting(s string) (onbehalf.Meeting, error) {
	id := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, s)
	if err := checkDigitCount(id); err != nil {
		return onbehalf.Meeting{}, err
	}
	return link{host: defaultHost, id: id}.meeting(), nil
}

// meeting returns the Meeting named by l, an accepted link: the canonical
// URL is built from parts checked one by one, never copied from the input.
func (l link) meeting() onbehalf.Meeting {
	u := "https://" + l.host + "/j/" + l.id
	if l.pwd != "" {
		u += "?pwd=" + escapePassword(l.pwd)
	}
	return onbehalf.Meeting{ID: l.id, URL: u, Password: l.pwd}
}

// escapePassword returns pwd escaped for a query. A final "." is escaped
// too, so that the URL survives being pasted back before a full stop, whose
// trailing punctuation Parse drops.
func escapePassword(pwd string) string {
	e := url.QueryEscape(pwd)
	if strings.HasSuffix(e, ".") {
		e = e[:len(e)-1] + "%2E"
	}
	return e
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

// checkDigitCount checks the length of id, a string of digits, against the
// one rule of the domain.
func checkDigitCount(id string) error {
	if len(id) < onbehalf.MinMeetingDigits || len(id) > onbehalf.MaxMeetingDigits {
		return invalid("Meeting ID must have %d to %d digits (got %d).", onbehalf.MinMeetingDigits, onbehalf.MaxMeetingDigits, len(id))
	}
	return nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// neither is the error for input that is no link and no meeting ID at all.
func neither() error {
	return invalid("That is neither a Zoom meeting URL nor a meeting ID. Paste the meeting link from the invitation (%s) or the meeting ID.", example)
}

// invalid returns an EINVALID error with a message for the person.
func invalid(format string, args ...any) error {
	return onbehalf.Errorf(onbehalf.EINVALID, format, args...)
}

// clip returns s fit for display, cut as onbehalf.Clip cuts, so that a
// message never echoes much of the input: invalid UTF-8 and unprintable
// runes become U+FFFD first.
func clip(s string, n int) string {
	return onbehalf.Clip(strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return utf8.RuneError
		}
		return r
	}, s), n)
}
