package onbehalf

import "strings"

// TokenKind names a kind of Zoom token minted for a connection.
type TokenKind string

// Token kinds.
const (
	// KindOBF is an On-Behalf-Of token, bound to one meeting: the bot joins
	// on behalf of the person, while the person is in the meeting.
	KindOBF TokenKind = "obf"
	// KindZAK is a Zoom Access Key: the bot signs in as the person.
	KindZAK TokenKind = "zak"
	// KindJoin is a host's local-recording join token: the bot skips the
	// waiting room of a meeting the person hosts.
	KindJoin TokenKind = "join"
)

// Kinds lists every token kind in canonical order.
var Kinds = []TokenKind{KindOBF, KindZAK, KindJoin}

// Scope returns the Zoom OAuth scope a user-level app needs to mint the
// kind. OBF and ZAK both come from GET /users/me/token (scope
// user:read:token; user:read:zak is the scope of GET /users/me/zak, a
// 5-minute ZAK this server does not use); the host's join token from GET
// /meetings/{id}/jointoken/local_recording.
func (k TokenKind) Scope() string {
	if k == KindJoin {
		return "meeting:read:local_recording_token"
	}
	return "user:read:token"
}

// ZAKRefused is the refusal of a ZAK on a server that does not hand them
// out (ALLOW_ZAK=false, the default): Zoom's ZAK page says a ZAK "is not
// available to bots or AI notetakers that join external meetings".
func ZAKRefused() error {
	return Errorf(EFORBIDDEN, "This server hands out no ZAK: Zoom does not allow ZAKs for bots or AI notetakers that join meetings outside your own Zoom account. "+
		"For meetings in your own account only, the operator can set ALLOW_ZAK=true. Use an OBF token (kind obf) instead.")
}

// NeedsMeeting reports whether minting the kind needs a meeting ID.
func (k TokenKind) NeedsMeeting() bool { return k != KindZAK }

// Valid reports whether k is a known kind.
func (k TokenKind) Valid() bool {
	return k == KindOBF || k == KindZAK || k == KindJoin
}

// ParseKinds reads a comma-separated list of kinds ("obf,join"), as token
// URLs and forms carry it. Duplicates are an error, order is not: the
// result is in canonical order.
func ParseKinds(s string) ([]TokenKind, error) {
	if s == "" {
		return nil, FieldError("kinds", "No token kind given: use obf, zak or join.")
	}
	var seen [3]bool
	for rest, more := s, true; more; {
		var part string
		part, rest, more = strings.Cut(rest, ",")
		i := kindIndex(TokenKind(part))
		if i < 0 {
			return nil, FieldError("kinds", "Unknown token kind %q: use obf, zak or join.", Clip(part, 20))
		}
		if seen[i] {
			return nil, FieldError("kinds", "Token kind %q is given twice.", part)
		}
		seen[i] = true
	}
	var out []TokenKind
	for i, k := range Kinds {
		if seen[i] {
			out = append(out, k)
		}
	}
	return out, nil
}

// KindsString is the canonical form of a set of kinds: comma-separated, in
// canonical order (what ParseKinds reads and token URLs sign).
func KindsString(kinds []TokenKind) string {
	var b strings.Builder
	for _, k := range Kinds {
		for _, x := range kinds {
			if x == k {
				if b.Len() > 0 {
					b.WriteByte(',')
				}
				b.WriteString(string(k))
				break
			}
		}
	}
	return b.String()
}

// HasKind reports whether kinds holds k.
func HasKind(kinds []TokenKind, k TokenKind) bool {
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}

func kindIndex(k TokenKind) int {
	for i, x := range Kinds {
		if x == k {
			return i
		}
	}
	return -1
}
