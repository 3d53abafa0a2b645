package onbehalf

// The one rule for the length of a Zoom meeting ID, used by the meeting
// link parser, the token callbacks and the API. Zoom documents 9 to 11
// digits; 12 is accepted too because token URLs with 12-digit IDs were
// served before this rule was unified, and a URL handed out keeps working
// (Zoom answers for an ID that does not exist).
const (
	MinMeetingDigits = 9
	MaxMeetingDigits = 12
)

// Meeting is a Zoom meeting as a person named it: its numeric ID, the
// canonical join URL a bot platform gets (https://<zoom host>/j/<id>, plus
// ?pwd= when the link had one), and the passcode hash of that link.
type Meeting struct {
	ID       string
	URL      string
	Password string
}

// CheckMeetingID returns an EINVALID error naming field when id is not a
// Zoom meeting ID: digits only, MinMeetingDigits to MaxMeetingDigits long.
func CheckMeetingID(field, id string) error {
	switch {
	case id == "":
		return FieldError(field, "Missing %s: the numeric Zoom meeting ID.", field)
	case !isDigits(id):
		return FieldError(field, "Bad %s: it must be the numeric Zoom meeting ID (digits only).", field)
	case len(id) < MinMeetingDigits || len(id) > MaxMeetingDigits:
		return FieldError(field, "Bad %s: a Zoom meeting ID has %d to %d digits (got %d).", field, MinMeetingDigits, MaxMeetingDigits, len(id))
	}
	return nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
