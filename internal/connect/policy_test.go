package connect

import (
	"testing"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

func TestPolicy(t *testing.T) {
	p := Policy{Accounts: []string{"acct_ok"}, Domains: []string{"acme.com"}}
	for _, tc := range []struct {
		account, email string
		ok             bool
	}{
		{"acct_ok", "x@other.org", true},
		{"acct_x", "ann@acme.com", true},
		{"acct_x", "ANN@ACME.COM", true},
		{"acct_x", "eve@sub.acme.com", false},
		{"acct_x", "eve@acme.com.evil.org", false},
		{"acct_x", "eve@evilacme.com", false},
		{"acct_x", "acme.com", false},
		{"acct_x", "", false},
		{"ACCT_OK", "", false},
	} {
		u := onbehalf.ZoomUser{ID: "zu", AccountID: tc.account, Email: tc.email}
		if got := p.Allows(u); got != tc.ok {
			t.Errorf("%s %q: allowed %v, want %v", tc.account, tc.email, got, tc.ok)
		}
		if err := p.Check(u); (err == nil) != tc.ok || (err != nil && onbehalf.HTTPStatus(err) != 403) {
			t.Errorf("%s %q: Check %v", tc.account, tc.email, err)
		}
	}
	if !(Policy{}).Allows(onbehalf.ZoomUser{}) {
		t.Error("an empty policy refuses")
	}
}
