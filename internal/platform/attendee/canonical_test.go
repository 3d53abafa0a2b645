package attendee

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"
)

// vectors is testdata/canonical_vectors.json, written by
// testdata/gen_vectors.py with real Python (see there).
type vectors struct {
	Generator string `json:"generator"`
	Secret    string `json:"secret"`
	Vectors   []struct {
		Name      string `json:"name"`
		Posted    bool   `json:"posted"`
		Input     string `json:"input"`
		Canonical string `json:"canonical"`
		Signature string `json:"signature"`
	} `json:"vectors"`
	Numbers  [][2]string `json:"numbers"`
	Infinite []string    `json:"infinite"`
}

func loadVectors(t testing.TB) vectors {
	t.Helper()
	raw, err := os.ReadFile("testdata/canonical_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Vectors) < 20 || len(v.Numbers) < 1000 {
		t.Fatalf("too few vectors: %d, %d numbers", len(v.Vectors), len(v.Numbers))
	}
	return v
}

// TestCanonicalMatchesPython checks Canonical, and the signature over it,
// against what Python's json.dumps and hmac produced for the same input.
func TestCanonicalMatchesPython(t *testing.T) {
	v := loadVectors(t)
	key, err := ParseSecret(v.Secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, vec := range v.Vectors {
		t.Run(vec.Name, func(t *testing.T) {
			got, err := Canonical([]byte(vec.Input))
			if err != nil {
				t.Fatalf("Canonical(%s): %v", vec.Input, err)
			}
			if string(got) != vec.Canonical {
				t.Fatalf("Canonical(%s)\n got %s\nwant %s", vec.Input, got, vec.Canonical)
			}
			if vec.Posted && len(vec.Input) > 2 && vec.Input == vec.Canonical {
				t.Errorf("a posted body equals its canonical form: the vector proves nothing")
			}
			if sig := base64.StdEncoding.EncodeToString(signCanonical(key, got)); sig != vec.Signature {
				t.Errorf("signature %s, Python's %s", sig, vec.Signature)
			}
			if _, _, err := verifySigned(key, vec.Signature, []byte(vec.Input), "test"); err != nil {
				t.Errorf("verifySigned: %v", err)
			}
		})
	}
}

// TestNumbersMatchPython checks that numbers come out as Python writes the
// value it parsed (json.dumps(json.loads(literal))), for literals that are
// Python's repr and literals that are not.
func TestNumbersMatchPython(t *testing.T) {
	v := loadVectors(t)
	for _, n := range v.Numbers {
		got, err := Canonical([]byte(n[0]))
		if err != nil || string(got) != n[1] {
			t.Errorf("%s: got %s (%v), Python %s", n[0], got, err, n[1])
		}
	}
	for _, lit := range v.Infinite {
		if _, err := Canonical([]byte(lit)); !errors.Is(err, ErrNumberRange) {
			t.Errorf("%s (infinite for Python): %v, want ErrNumberRange", lit, err)
		}
	}
}

// TestKeyOrderIsCodePointOrder proves that sorting keys by their UTF-8
// bytes (Go's string order) is Python's order (by code point) for every
// valid UTF-8 string: UTF-8 is built so that byte order follows code
// point order, lead bytes grow with the sequence length (C2–DF, E0–EF,
// F0–F4) and continuation bytes with the value. Surrogates (U+D800–DFFF)
// are the one place where Python, which can hold them in a str, could
// differ; they are not valid UTF-8, Attendee cannot sign them (encoding to
// UTF-8 fails), and the parser refuses them (ErrSurrogate). Note that
// UTF-16 order (JavaScript's) differs: it puts U+10000+ before U+E000.
func TestKeyOrderIsCodePointOrder(t *testing.T) {
	edges := []rune{0, 1, 0x1F, 0x20, 0x7E, 0x7F, 0x80, 0xFF, 0x100, 0x7FF, 0x800, 0xFFF, 0x1000,
		0xD7FF, 0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x1F389, 0xFFFFF, 0x100000, 0x10FFFF}
	r := rand.New(rand.NewPCG(1, 2))
	for len(edges) < 400 {
		c := rune(r.IntN(0x110000))
		if utf8.ValidRune(c) {
			edges = append(edges, c)
		}
	}
	for _, a := range edges {
		for _, b := range edges {
			byBytes := strings.Compare(string(a), string(b))
			byPoint := cmpInt(int(a), int(b))
			if byBytes != byPoint {
				t.Fatalf("U+%04X vs U+%04X: bytes %d, code points %d", a, b, byBytes, byPoint)
			}
		}
	}
	// Whole strings: random keys sorted both ways.
	keys := make([]string, 300)
	for i := range keys {
		rs := make([]rune, r.IntN(4))
		for j := range rs {
			rs[j] = edges[r.IntN(len(edges))]
		}
		keys[i] = string(rs)
	}
	byBytes := slices.Clone(keys)
	sort.Strings(byBytes)
	byPoint := slices.Clone(keys)
	slices.SortFunc(byPoint, func(a, b string) int { return slices.Compare([]rune(a), []rune(b)) })
	if !slices.Equal(byBytes, byPoint) {
		t.Fatal("byte order and code point order of strings differ")
	}
	// And a lone surrogate never gets that far.
	if _, err := Canonical([]byte(`{"\ud800":1}`)); !errors.Is(err, ErrSurrogate) {
		t.Fatalf("lone surrogate key: %v", err)
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestCanonicalRefuses(t *testing.T) {
	deep := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	for _, tc := range []struct {
		in   string
		want error // nil: any syntax error
	}{
		{`{"a":1,"a":2}`, ErrDuplicateKey},
		{`{"a":1,"\u0061":2}`, ErrDuplicateKey},
		{`{"x":{"b":1,"c":{"d":1,"d":1}}}`, ErrDuplicateKey},
		{`{"bot_id":"a","bot_metadata":null,"callback_type":"zoom_tokens","meeting_url":"x","bot_id":"b"}`, ErrDuplicateKey},
		{`"\ud800"`, ErrSurrogate},
		{`"\udc00"`, ErrSurrogate},
		{`"\ud800x"`, ErrSurrogate},
		{`"\ud800\u0041"`, ErrSurrogate},
		{`"\ud800\ud800"`, ErrSurrogate},
		{`"\ud800`, ErrSurrogate},
		{`1e400`, ErrNumberRange},
		{`-1e400`, ErrNumberRange},
		{strings.Repeat("9", maxIntDigits+1), ErrNumberRange},
		{deep, ErrTooDeep},
		{`{"a":` + deep + `}`, ErrTooDeep},
		{``, nil}, {` `, nil}, {`NaN`, nil}, {`Infinity`, nil}, {`-Infinity`, nil},
		{`[1,]`, nil}, {`{"a":1,}`, nil}, {`{'a':1}`, nil}, {`01`, nil}, {`1.`, nil}, {`.5`, nil},
		{`+1`, nil}, {`-`, nil}, {`1e`, nil}, {`1e+`, nil}, {`tru`, nil}, {`nul`, nil}, {`{"a" 1}`, nil},
		{"\"a\x01b\"", nil}, {"\"\xff\"", nil}, {"\"\xed\xa0\x80\"", nil}, {"\xef\xbb\xbf{}", nil},
		{`{} {}`, nil}, {`{}x`, nil}, {`"\x"`, nil}, {`"\u12"`, nil}, {`"\u12g4"`, nil}, {`"abc`, nil},
		{`[1 2]`, nil}, {`{"a":1 "b":2}`, nil}, {`{1:2}`, nil},
	} {
		_, err := Canonical([]byte(tc.in))
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("Canonical(%.60q) = %v, want %v", tc.in, err, tc.want)
		}
	}
	if _, err := Canonical([]byte(strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth))); err != nil {
		t.Errorf("depth %d refused: %v", maxDepth, err)
	}
	if _, err := Canonical([]byte(strings.Repeat("9", maxIntDigits))); err != nil {
		t.Errorf("%d digits refused: %v", maxIntDigits, err)
	}
}

func TestCanonicalStrings(t *testing.T) {
	for in, want := range map[string]string{
		`"\u0000\u0007\b\t\n\u000b\f\r\u001b\u001f "`: `"\u0000\u0007\b\t\n\u000b\f\r\u001b\u001f "`,
		`"\u007f\u0080\u00e9"`:                        "\"\x7f\u0080é\"",
		`"<>&'\/"`:                                    `"<>&'/"`,
		`"\u2028\u2029"`:                              "\"\u2028\u2029\"",
		`"\"\\"`:                                      `"\"\\"`,
		`"\uD83C\uDF89"`:                              `"🎉"`,
		`"日本"`:                                        `"日本"`,
	} {
		got, err := Canonical([]byte(in))
		if err != nil || string(got) != want {
			t.Errorf("Canonical(%s) = %s (%v), want %s", in, got, err, want)
		}
	}
}

// FuzzCanonical: whatever Canonical accepts is valid JSON (encoding/json
// agrees), its canonical form is valid UTF-8 JSON that reads back to the
// same value, and canonicalizing again changes nothing. What it refuses
// while encoding/json accepts is one of the documented refusals.
func FuzzCanonical(f *testing.F) {
	for _, vec := range loadVectors(f).Vectors {
		f.Add([]byte(vec.Input))
	}
	for _, s := range []string{`{"a":1,"a":2}`, `"\ud800"`, `1e400`, `-0`, `1E5`, `[1e-400, 0.1, 1e16]`, `{"é":{"😀":[null,true]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := Canonical(data)
		if err != nil {
			if json.Valid(data) && utf8.Valid(data) && !errors.Is(err, ErrDuplicateKey) && !errors.Is(err, ErrSurrogate) &&
				!errors.Is(err, ErrNumberRange) && !errors.Is(err, ErrTooDeep) {
				t.Fatalf("valid JSON %q refused: %v", data, err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		if !json.Valid(out) || !utf8.Valid(out) {
			t.Fatalf("canonical form %q of %q is not valid JSON", out, data)
		}
		a, b := pythonValue(t, data), pythonValue(t, out)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%q reads as %v, its canonical form %q as %v", data, a, out, b)
		}
		again, err := Canonical(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("canonical form %q is not stable: %q (%v)", out, again, err)
		}
	})
}

// pythonValue decodes JSON with encoding/json into the values Python
// would hold: integers exact (as decimal text), other numbers as doubles.
func pythonValue(t *testing.T, data []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	var norm func(any) any
	norm = func(v any) any {
		switch v := v.(type) {
		case json.Number:
			if !strings.ContainsAny(string(v), ".eE") {
				n, _ := new(big.Int).SetString(string(v), 10)
				return "int:" + n.String()
			}
			f, err := v.Float64()
			if err != nil {
				t.Fatalf("number %s: %v", v, err)
			}
			return f
		case []any:
			for i := range v {
				v[i] = norm(v[i])
			}
		case map[string]any:
			for k := range v {
				v[k] = norm(v[k])
			}
		}
		return v
	}
	return norm(v)
}

// TestSignatureIsHMAC pins the scheme: base64(HMAC-SHA256(key, canonical)).
func TestSignatureIsHMAC(t *testing.T) {
	key := bytes.Repeat([]byte{7}, SecretSize)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(`{"a":"é"}`))
	want := base64.StdEncoding.EncodeToString(m.Sum(nil))
	if _, _, err := verifySigned(key, want, []byte(`{"a": "\u00e9"}`), "test"); err != nil {
		t.Fatal(err)
	}
}
