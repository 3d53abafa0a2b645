package zoom

import (
	"testing"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

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

// TestAPIErrorCodes checks the classification of Zoom's REST errors: a
// missing scope is never EUNAUTHORIZED (a new access token from the same
// grant lacks it too), whatever the HTTP status Zoom uses.
func TestAPIErrorCodes(t *testing.T) {
	for _, c := range []struct {
		status int
		body   string
		code   string
	}{
		{401, `{"code":124,"message":"Invalid access token."}`, onbehalf.EUNAUTHORIZED},
		{401, `{"code":4711,"message":"Invalid access token, does not contain scopes:[x]."}`, onbehalf.EUPSTREAM},
		{400, `{"code":4711,"message":"Invalid access token, does not contain scopes:[x]."}`, onbehalf.EUPSTREAM},
		{400, `{"code":3000,"message":"Cannot access meeting info."}`, onbehalf.EUPSTREAM},
		{502, `<html>bad gateway</html>`, onbehalf.EUPSTREAM},
	} {
		err := apiError(c.status, []byte(c.body), "minting")
		if code, status, ok := APIErrorCode(err); !ok || status != c.status {
			t.Errorf("%s: APIErrorCode %d %d %v", c.body, code, status, ok)
		}
		if got := onbehalf.ErrorCode(err); got != c.code {
			t.Errorf("%d %s: %v, want %s", c.status, c.body, err, c.code)
		}
	}
}
