package attendee

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// This file is a strict JSON reader (RFC 8259) for the bodies Attendee
// signs. encoding/json is not used for them because it resolves what a
// signature must not leave open: it keeps the last of duplicate keys,
// replaces lone surrogates and invalid UTF-8 with U+FFFD, and parses
// numbers into float64. Here such input is refused, and number literals
// are kept as text.

// Refusals of well-formed JSON that Attendee cannot have signed, or that a
// signature would not pin down.
var (
	// ErrDuplicateKey: an object names a key twice. Python keeps the last
	// value and this server would have to guess the same; a signed body
	// that reads two ways is not trusted.
	ErrDuplicateKey = errors.New("an object has the same key twice")
	// ErrSurrogate: a \u escape is half of a UTF-16 surrogate pair.
	// Python reads it, but cannot encode it as UTF-8 to sign it.
	ErrSurrogate = errors.New("a \\u escape is a lone UTF-16 surrogate")
	// ErrNumberRange: a number Python reads as infinity (which Attendee
	// never sends: requests refuses to encode it) or an integer longer
	// than Python converts (4300 digits).
	ErrNumberRange = errors.New("a number is out of range")
	// ErrTooDeep: nesting deeper than maxDepth.
	ErrTooDeep = errors.New("nesting is too deep")
)

// maxDepth bounds nesting: far above Attendee's bodies (metadata holds
// strings), far below Python's recursion limit.
const maxDepth = 64

// object is a JSON object: its members sorted by key (byte order, which is
// Python's code point order for valid UTF-8), no key twice.
type object []member

// member is one key and value of an object.
type member struct {
	key string
	val any
}

// number is a JSON number literal as the body wrote it.
type number string

// get returns the value of key and whether the object has it.
func (o object) get(key string) (any, bool) {
	i := sort.Search(len(o), func(i int) bool { return o[i].key >= key })
	if i < len(o) && o[i].key == key {
		return o[i].val, true
	}
	return nil, false
}

// str returns the value of key when it is a string.
func (o object) str(key string) (string, bool) {
	v, _ := o.get(key)
	s, ok := v.(string)
	return s, ok
}

// parseJSON reads one JSON text into a tree of object, []any, string,
// number, bool and nil. Whitespace may surround it; nothing else may
// follow it.
func parseJSON(data []byte) (any, error) {
	p := &parser{data: data}
	p.space()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos != len(p.data) {
		return nil, p.errorf("unexpected %s after the JSON value", p.what())
	}
	return v, nil
}

// parser reads JSON from data.
type parser struct {
	data []byte
	pos  int
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

// what describes the byte at pos for an error.
func (p *parser) what() string {
	if p.pos >= len(p.data) {
		return "end of input"
	}
	return fmt.Sprintf("%q", p.data[p.pos])
}

// space skips JSON whitespace.
func (p *parser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// value reads one value at nesting depth.
func (p *parser) value(depth int) (any, error) {
	if p.pos >= len(p.data) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth + 1)
	case c == '[':
		return p.array(depth + 1)
	case c == '"':
		return p.string()
	case c == '-' || ('0' <= c && c <= '9'):
		return p.number()
	}
	for _, lit := range []struct {
		text string
		val  any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if strings.HasPrefix(string(p.data[p.pos:min(len(p.data), p.pos+5)]), lit.text) {
			p.pos += len(lit.text)
			return lit.val, nil
		}
	}
	return nil, p.errorf("unexpected %s where a value should be", p.what())
}

// object reads an object; its members come back sorted, each key once.
func (p *parser) object(depth int) (any, error) {
	if depth > maxDepth {
		return nil, ErrTooDeep
	}
	p.pos++ // {
	o := object{}
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return o, nil
	}
	for {
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.errorf("unexpected %s where a key should be", p.what())
		}
		key, err := p.string()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.errorf("unexpected %s where ':' should be", p.what())
		}
		p.pos++
		p.space()
		val, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		o = append(o, member{key, val})
		p.space()
		if p.pos < len(p.data) && p.data[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.data) && p.data[p.pos] == '}' {
			p.pos++
			break
		}
		return nil, p.errorf("unexpected %s in an object", p.what())
	}
	sort.SliceStable(o, func(i, j int) bool { return o[i].key < o[j].key })
	for i := 1; i < len(o); i++ {
		if o[i].key == o[i-1].key {
			return nil, fmt.Errorf("%w (%q)", ErrDuplicateKey, onbehalf.Clip(o[i].key, 40))
		}
	}
	return o, nil
}

// array reads an array.
func (p *parser) array(depth int) (any, error) {
	if depth > maxDepth {
		return nil, ErrTooDeep
	}
	p.pos++ // [
	a := []any{}
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return a, nil
	}
	for {
		p.space()
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.space()
		if p.pos < len(p.data) && p.data[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.data) && p.data[p.pos] == ']' {
			p.pos++
			return a, nil
		}
		return nil, p.errorf("unexpected %s in an array", p.what())
	}
}

// number reads a number literal: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *parser) number() (any, error) {
	start := p.pos
	if p.data[p.pos] == '-' {
		p.pos++
	}
	switch {
	case p.pos < len(p.data) && p.data[p.pos] == '0':
		p.pos++
	case p.digits() == 0:
		return nil, p.errorf("a number needs digits")
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if p.digits() == 0 {
			return nil, p.errorf("a number needs digits after '.'")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if p.digits() == 0 {
			return nil, p.errorf("a number needs digits in its exponent")
		}
	}
	return number(p.data[start:p.pos]), nil
}

// digits skips ASCII digits and returns how many.
func (p *parser) digits() int {
	n := 0
	for p.pos < len(p.data) && '0' <= p.data[p.pos] && p.data[p.pos] <= '9' {
		p.pos++
		n++
	}
	return n
}

// string reads a string: valid UTF-8, no raw control characters, escapes
// decoded, surrogate escapes only in pairs.
func (p *parser) string() (string, error) {
	p.pos++ // "
	var b strings.Builder
	for {
		if p.pos >= len(p.data) {
			return "", p.errorf("unterminated string")
		}
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b.String(), nil
		case c == '\\':
			if err := p.escape(&b); err != nil {
				return "", err
			}
		case c < 0x20:
			return "", p.errorf("raw control character %q in a string", c)
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			p.pos++
		default:
			r, size := utf8.DecodeRune(p.data[p.pos:])
			if r == utf8.RuneError && size <= 1 {
				return "", p.errorf("invalid UTF-8 in a string")
			}
			b.Write(p.data[p.pos : p.pos+size])
			p.pos += size
		}
	}
}

// escape decodes one escape sequence at pos into b.
func (p *parser) escape(b *strings.Builder) error {
	if p.pos+1 >= len(p.data) {
		return p.errorf("unterminated escape")
	}
	c := p.data[p.pos+1]
	if s, ok := shortEscapes[c]; ok {
		b.WriteByte(s)
		p.pos += 2
		return nil
	}
	if c != 'u' {
		return p.errorf("bad escape \\%c", c)
	}
	r, ok := p.hex4(p.pos + 2)
	if !ok {
		return p.errorf("bad \\u escape")
	}
	p.pos += 6
	if utf16.IsSurrogate(r) {
		// Only a high surrogate directly followed by an escaped low one
		// makes a character.
		if r >= 0xDC00 || p.pos+1 >= len(p.data) || p.data[p.pos] != '\\' || p.data[p.pos+1] != 'u' {
			return ErrSurrogate
		}
		r2, ok := p.hex4(p.pos + 2)
		if !ok || r2 < 0xDC00 || r2 > 0xDFFF {
			return ErrSurrogate
		}
		p.pos += 6
		r = utf16.DecodeRune(r, r2)
	}
	b.WriteRune(r)
	return nil
}

// shortEscapes are the two-character escapes and what they stand for.
var shortEscapes = map[byte]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// hex4 reads four hex digits at i.
func (p *parser) hex4(i int) (rune, bool) {
	if i+4 > len(p.data) {
		return 0, false
	}
	var r rune
	for _, c := range p.data[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
