package connect

import (
	"fmt"
	"strings"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Policy says who may connect through the pages (ALLOWED_ZOOM_ACCOUNTS,
// ALLOWED_EMAIL_DOMAINS). With neither set everyone may; with either set
// a Zoom user must match one of them. The product's connect links are not
// limited: who its users are is its business.
type Policy struct {
	// Accounts are Zoom account IDs, compared exactly.
	Accounts []string
	// Domains are email domains, compared case-insensitively with the
	// whole domain of the Zoom user's email (no subdomains).
	Domains []string
}

// Limits reports whether the policy limits anyone.
func (p Policy) Limits() bool { return len(p.Accounts) > 0 || len(p.Domains) > 0 }

// Allows reports whether u may connect.
func (p Policy) Allows(u onbehalf.ZoomUser) bool {
	if !p.Limits() {
		return true
	}
	for _, a := range p.Accounts {
		if a != "" && u.AccountID == a {
			return true
		}
	}
	at := strings.LastIndexByte(u.Email, '@')
	if at < 0 {
		return false
	}
	domain := u.Email[at+1:]
	for _, d := range p.Domains {
		if d != "" && strings.EqualFold(domain, d) {
			return true
		}
	}
	return false
}

// Check is Allows as an EFORBIDDEN error that says, in a person's words,
// why and what to do.
func (p Policy) Check(u onbehalf.ZoomUser) error {
	if p.Allows(u) {
		return nil
	}
	who := "This Zoom account"
	if u.Email != "" {
		who = fmt.Sprintf("The Zoom account %s", u.Email)
	}
	where := "accounts of the organizations it serves"
	if len(p.Domains) > 0 {
		where = "accounts with an email address at " + strings.Join(p.Domains, ", ")
		if len(p.Accounts) > 0 {
			where += " or from the Zoom accounts of the organizations it serves"
		}
	}
	return onbehalf.Errorf(onbehalf.EFORBIDDEN,
		"%s may not connect here: this server only connects Zoom %s. Nothing was connected. Sign in to Zoom with an allowed account and try again.", who, where)
}
