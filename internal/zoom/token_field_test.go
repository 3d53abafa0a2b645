package zoom

import "testing"

func TestTokenField(t *testing.T) {
	for _, c := range []struct {
		body string
		tok  string
		ok   bool
	}{
		{`{"token":"obf_abc.def-123"}`, "obf_abc.def-123", true},
		{" {\"token\":\"x\"}\n", "x", true},
		{`{"token":""}`, "", true},
		{`{"token":"a\"b"}`, "", false},    // escaped: encoding/json decides
		{`{"token":"a\u0041"}`, "", false}, // escaped
		{`{"token":"a","x":1}`, "", false},
		{`{"x":1,"token":"a"}`, "", false},
		{`{"token":1}`, "", false},
		{`{"token":"`, "", false},
		{``, "", false},
	} {
		tok, ok := tokenField([]byte(c.body))
		if tok != c.tok || ok != c.ok {
			t.Errorf("%q: got %q %v, want %q %v", c.body, tok, ok, c.tok, c.ok)
		}
	}
}
