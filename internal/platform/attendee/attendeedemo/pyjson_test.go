package attendeedemo

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"testing"
)

// The fake's two Python encoders against real Python: for each body
// Python posted (testdata/gen_vectors.py), Dumps must give the posted
// bytes, Canonical the signed bytes and Sign the signature.
func TestPythonEncodingsMatchPython(t *testing.T) {
	raw, err := os.ReadFile("../testdata/canonical_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Secret  string `json:"secret"`
		Vectors []struct {
			Name      string `json:"name"`
			Posted    bool   `json:"posted"`
			Input     string `json:"input"`
			Canonical string `json:"canonical"`
			Signature string `json:"signature"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	key, _ := base64.StdEncoding.DecodeString(doc.Secret)
	n := 0
	for _, v := range doc.Vectors {
		if !v.Posted {
			continue
		}
		n++
		val := decodeOrdered(t, v.Input)
		if got := string(Dumps(val)); got != v.Input {
			t.Errorf("%s: Dumps\n got %s\nwant %s", v.Name, got, v.Input)
		}
		if got := string(Canonical(val)); got != v.Canonical {
			t.Errorf("%s: Canonical\n got %s\nwant %s", v.Name, got, v.Canonical)
		}
		if got := Sign(key, val); got != v.Signature {
			t.Errorf("%s: Sign %s, Python %s", v.Name, got, v.Signature)
		}
	}
	if n < 15 {
		t.Fatalf("only %d posted vectors", n)
	}
}

// decodeOrdered decodes JSON into Objects that keep the key order, with
// json.Number literals.
func decodeOrdered(t *testing.T, s string) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	var read func() any
	read = func() any {
		tok, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		switch tok := tok.(type) {
		case json.Delim:
			if tok == '[' {
				a := []any{}
				for d.More() {
					a = append(a, read())
				}
				_, _ = d.Token()
				return a
			}
			o := Object{}
			for d.More() {
				k, _ := d.Token()
				o = append(o, Member{k.(string), read()})
			}
			_, _ = d.Token()
			return o
		default:
			return tok
		}
	}
	return read()
}

func TestJSONBOrder(t *testing.T) {
	got := JSONBOrder(Object{{"onbehalf_bot_id", 1}, {"b", 2}, {"aa", 3}, {"a", 4}, {"é", 5}, {"zz", 6}})
	var keys []string
	for _, m := range got {
		keys = append(keys, m.Key)
	}
	// By length in bytes ("é" is two), then by bytes.
	want := []string{"a", "b", "aa", "zz", "é", "onbehalf_bot_id"}
	for i := range want {
		if keys[i] != want[i] {
			t.Fatalf("JSONBOrder: %q, want %q", keys, want)
		}
	}
}

func TestPyStringEscapes(t *testing.T) {
	in := "\"\\/\b\f\n\r\t\x00\x1f\x7f é\u2028🎉<>&"
	if got, want := string(Dumps(in)), `"\"\\/\b\f\n\r\t\u0000\u001f\u007f \u00e9\u2028\ud83c\udf89<>&"`; got != want {
		t.Errorf("Dumps: %s, want %s", got, want)
	}
	if got, want := string(Canonical(in)), "\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0000\\u001f\x7f é\u2028🎉<>&\""; got != want {
		t.Errorf("Canonical: %s, want %s", got, want)
	}
}
