package attendee_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/attendee"
)

// TestTokenList: the OBF tokens of several candidates go in
// onbehalf_token comma-separated, in order, as Attendee's bot splits them
// (utils.select_from_comma_separated_list_with_wrapping_index); the other
// kinds stay single.
func TestTokenList(t *testing.T) {
	a, err := attendee.New(attendee.Config{APIKey: apiKey, BaseURL: "http://attendee.test"}, deps())
	if err != nil {
		t.Fatal(err)
	}
	if !a.TakesTokenList() {
		t.Fatal("attendee takes a token list")
	}
	w := httptest.NewRecorder()
	a.WriteTokens(w, httptest.NewRequest(http.MethodPost, "/attendee/zoom-tokens", nil), []onbehalf.MintedToken{
		{Kind: onbehalf.KindOBF, Token: "obf_a"}, {Kind: onbehalf.KindJoin, Token: "join_1"}, {Kind: onbehalf.KindOBF, Token: "obf_b"}, {Kind: onbehalf.KindOBF, Token: "obf_c"},
	})
	var got map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["onbehalf_token"] != "obf_a,obf_b,obf_c" || got["app_privilege_token"] != "join_1" || len(got) != 2 {
		t.Fatalf("reply %v", got)
	}
}
