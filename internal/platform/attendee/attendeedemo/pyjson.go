package attendeedemo

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"unicode/utf16"
)

// Attendee is a Python program: what its bots POST is json.dumps's default
// encoding of a dict (the requests library's json=), and what they sign is
// another json.dumps of the same dict. This file writes both, on its own
// (it shares nothing with the adapter, whose test is that it verifies the
// one over the other):
//
//	posted: json.dumps(d)  → ", " and ": " separators, ensure_ascii=True, insertion order
//	signed: json.dumps(d, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

// Object is a JSON object whose keys keep their order, as a Python dict
// does.
type Object []Member

// Member is one key and value of an Object.
type Member struct {
	Key   string
	Value any
}

// pyStyle is a set of json.dumps options.
type pyStyle struct {
	sortKeys, ensureASCII bool
	itemSep, keySep       string
}

var (
	postedStyle = pyStyle{itemSep: ", ", keySep: ": ", ensureASCII: true}
	signedStyle = pyStyle{sortKeys: true, itemSep: ",", keySep: ":"}
)

// Dumps is Python's json.dumps(v): what Attendee POSTs.
func Dumps(v any) []byte { return pyDumps(v, postedStyle) }

// Canonical is json.dumps(v, sort_keys=True, ensure_ascii=False,
// separators=(",", ":")): what Attendee signs.
func Canonical(v any) []byte { return pyDumps(v, signedStyle) }

// Sign is Attendee's sign_payload: base64(HMAC-SHA256(key, Canonical(v))).
func Sign(key []byte, v any) string {
	m := hmac.New(sha256.New, key)
	m.Write(Canonical(v))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// JSONBOrder returns o with its keys in the order PostgreSQL's jsonb keeps
// them (shorter keys first, then by bytes): the order of a dict Attendee
// reads back from its database (bot metadata, webhook payloads).
func JSONBOrder(o Object) Object {
	out := append(Object(nil), o...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Key, out[j].Key
		if len(a) != len(b) {
			return len(a) < len(b)
		}
		return a < b
	})
	return out
}

func pyDumps(v any, s pyStyle) []byte {
	var b bytes.Buffer
	pyEncode(&b, v, s)
	return b.Bytes()
}

// pyEncode writes v as json.dumps would with style s. Numbers are
// json.Number literals (written as given: Attendee's own are Python's
// repr already) or Go integers.
func pyEncode(b *bytes.Buffer, v any, s pyStyle) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case string:
		pyString(b, v, s.ensureASCII)
	case json.Number:
		b.WriteString(string(v))
	case int:
		b.WriteString(strconv.Itoa(v))
	case []string:
		a := make([]any, len(v))
		for i, e := range v {
			a[i] = e
		}
		pyEncode(b, a, s)
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteString(s.itemSep)
			}
			pyEncode(b, e, s)
		}
		b.WriteByte(']')
	case Object:
		if s.sortKeys {
			v = append(Object(nil), v...)
			// Python sorts str keys by code point; so does a byte
			// comparison of UTF-8, which is what Go's < on strings is.
			sort.SliceStable(v, func(i, j int) bool { return v[i].Key < v[j].Key })
		}
		b.WriteByte('{')
		for i, m := range v {
			if i > 0 {
				b.WriteString(s.itemSep)
			}
			pyString(b, m.Key, s.ensureASCII)
			b.WriteString(s.keySep)
			pyEncode(b, m.Value, s)
		}
		b.WriteByte('}')
	default:
		panic(fmt.Sprintf("attendeedemo: cannot encode %T", v))
	}
}

// pyString writes a quoted string the way json's encoders do:
// ensure_ascii=False escapes '"', '\\' and U+0000–U+001F only; ensure_ascii
// escapes everything outside ' '..'~', astral characters as a surrogate
// pair, always with lower-case hex.
func pyString(b *bytes.Buffer, s string, ensureASCII bool) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
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
			switch {
			case r < 0x20:
				fmt.Fprintf(b, `\u%04x`, r)
			case !ensureASCII || r <= '~':
				b.WriteRune(r)
			case r > 0xFFFF:
				r1, r2 := utf16.EncodeRune(r)
				fmt.Fprintf(b, `\u%04x\u%04x`, r1, r2)
			default:
				fmt.Fprintf(b, `\u%04x`, r)
			}
		}
	}
	b.WriteByte('"')
}
