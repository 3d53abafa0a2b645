package attendee

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Attendee signs its token callbacks and webhooks over Python's
//
//	json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
//
// (bots/webhook_utils.py, sign_payload) but POSTs the payload as the
// requests library encodes it: json.dumps's defaults, with ", " and ": "
// between items, every non-ASCII character escaped, and keys in insertion
// order. The bytes received are therefore not the bytes signed: the
// signature is checked over the canonical form of the parsed body, which
// Canonical rebuilds exactly as Python writes it:
//
//   - object keys sorted at every level by code point (Python compares str
//     by code point; for valid UTF-8, byte order is the same order);
//   - no whitespace; strings as UTF-8, escaping only '"', '\\', \n \r \t \b
//     \f and the other controls U+0000–U+001F (as \u00xx, lower-case hex),
//     leaving U+007F, non-ASCII, U+2028/U+2029 and <>& as they are;
//   - true, false, null;
//   - numbers as Python writes the value it parsed: an integer as its
//     digits ("-0" is 0), a float (a literal with '.', 'e' or 'E') as
//     Python's repr: the shortest text that reads back the same double,
//     in fixed notation while the decimal point sits within 16 digits
//     ("1.0", "1000000000000000.0", "0.0001") and in exponent notation
//     otherwise ("1e+16", "1e-05", "1.5e-07").
//
// Limits: a body is refused (ErrDuplicateKey, ErrSurrogate,
// ErrNumberRange, ErrTooDeep, or a syntax error) when Python would read it
// in a way Attendee cannot have signed or a signature would not pin down.
// Numbers are re-written as Python would, so a body whose literals are not
// Python's own ("1E5", "1e100", "-0") still verifies if Attendee signed the
// same values; Attendee's own bodies hold Python's literals anyway, and
// their numbers can only come from bot metadata, which Attendee restricts
// to strings unless REQUIRE_STRING_VALUES_IN_METADATA=false.

// Canonical returns the canonical JSON of body (see above), the bytes
// Attendee signed.
func Canonical(body []byte) ([]byte, error) {
	v, err := parseJSON(body)
	if err != nil {
		return nil, err
	}
	return canonicalOf(v)
}

// canonicalOf returns the canonical JSON of a parsed value.
func canonicalOf(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := writeCanonical(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeCanonical writes v in canonical form.
func writeCanonical(b *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case string:
		writePyString(b, v)
	case number:
		s, err := pyNumber(string(v))
		if err != nil {
			return err
		}
		b.WriteString(s)
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeCanonical(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case object: // already sorted by key
		b.WriteByte('{')
		for i, m := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			writePyString(b, m.key)
			b.WriteByte(':')
			if err := writeCanonical(b, m.val); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("attendee: no canonical form for %T", v)
	}
	return nil
}

// writePyString writes s quoted as Python's json.dumps does with
// ensure_ascii=False. s is valid UTF-8 (the parser made sure).
func writePyString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue // ASCII text and every byte of non-ASCII runes
		}
		b.WriteString(s[start:i])
		switch c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xF])
		}
		start = i + 1
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}

// maxIntDigits is the longest integer Python converts between text and
// int (sys.int_info.default_max_str_digits, Python 3.11+); Attendee could
// neither parse nor sign a longer one.
const maxIntDigits = 4300

// pyNumber returns how Python's json.dumps writes the value json.loads
// reads from the literal lit (a valid JSON number).
func pyNumber(lit string) (string, error) {
	if !strings.ContainsAny(lit, ".eE") { // an int
		digits := strings.TrimPrefix(lit, "-")
		if len(digits) > maxIntDigits {
			return "", fmt.Errorf("%w: an integer of %d digits", ErrNumberRange, len(digits))
		}
		if digits == "0" {
			return "0", nil
		}
		return lit, nil
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || math.IsInf(f, 0) {
		return "", fmt.Errorf("%w: %s is infinite as a double", ErrNumberRange, onbehalf.Clip(lit, 30))
	}
	return pyFloatRepr(f), nil
}

// pyFloatRepr is Python's repr of a finite double (float_repr_style
// "short"): the shortest digits that round-trip, in fixed notation when
// -4 < decpt <= 16 (decpt: where the decimal point falls after the first
// digit's position), else d.ddde±XX with at least two exponent digits;
// a fixed-notation integer gets ".0".
func pyFloatRepr(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // "-1.5e-07": Go's exponent has ≥ 2 digits, like C's
	i := strings.LastIndexByte(e, 'e')
	exp, _ := strconv.Atoi(e[i+1:])
	if decpt := exp + 1; decpt > -4 && decpt <= 16 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	return e
}
