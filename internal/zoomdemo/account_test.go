package zoomdemo

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/clocktest"
)

const (
	s2sAccount = "acct_1"
	s2sID      = "s2s-id"
	s2sSecret  = "s2s-secret"
)

// accountGrantReq asks for an account token with the given Basic
// credentials, fields in the body or (inQuery) in the query string.
func accountGrantReq(t *testing.T, s *Server, id, secret, account string, inQuery bool) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {"account_credentials"}, "account_id": {account}}
	u, body := s.URL+"/oauth/token", form.Encode()
	if inQuery {
		u, body = u+"?"+body, ""
	}
	req, _ := http.NewRequest("POST", u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	return do(t, req)
}

// accountServer returns a fake with the S2S app and a second account.
func accountServer(t *testing.T) *Server {
	s := New(testID, testSecret)
	t.Cleanup(s.Close)
	s.EnableAccount(s2sAccount, s2sID, s2sSecret)
	s.AddUser(User{ID: "zu_ann", AccountID: s2sAccount, Email: "Ann@Example.com"})
	s.AddUser(User{ID: "zu_out", AccountID: "acct_2", Email: "out@example.com"})
	return s
}

func TestAccountGrant(t *testing.T) {
	s := accountServer(t)
	clock := clocktest.New(time.Now())
	s.SetClock(clock.Now)

	status, body := accountGrantReq(t, s, s2sID, s2sSecret, s2sAccount, false)
	at1, _ := body["access_token"].(string)
	if _, has := body["refresh_token"]; status != 200 || at1 == "" || has || body["expires_in"] != 3599.0 ||
		body["scope"] != AccountScope || body["token_type"] != "bearer" {
		t.Fatalf("grant: %d %v", status, body)
	}
	// Fields in the query string, as Zoom's documentation shows them; a
	// second token does not kill the first.
	status, body = accountGrantReq(t, s, s2sID, s2sSecret, s2sAccount, true)
	at2, _ := body["access_token"].(string)
	if status != 200 || at2 == "" || at2 == at1 {
		t.Fatalf("query grant: %d %v", status, body)
	}
	for _, at := range []string{at1, at2} {
		if status, _ := get(t, s, "/users/zu_ann/token?type=zak", at); status != 200 {
			t.Fatalf("account token: %d", status)
		}
	}
	// Refusals.
	for name, c := range map[string]struct {
		id, secret, account string
		status              int
		err                 string
	}{
		"wrong secret":   {s2sID, "wrong", s2sAccount, 401, "invalid_client"},
		"general app":    {testID, testSecret, s2sAccount, 400, "unsupported_grant_type"},
		"wrong account":  {s2sID, s2sSecret, "acct_2", 400, "invalid_request"},
		"no credentials": {"", "", s2sAccount, 401, "invalid_client"},
	} {
		if status, body := accountGrantReq(t, s, c.id, c.secret, c.account, false); status != c.status || body["error"] != c.err {
			t.Errorf("%s: %d %v", name, status, body)
		}
	}
	// The S2S app has no user grants.
	_, rt := s.IssueGrant(DefaultUserID)
	req, _ := http.NewRequest("POST", s.URL+"/oauth/token", strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(s2sID, s2sSecret)
	if status, body := do(t, req); status != 400 || body["error"] != "unsupported_grant_type" {
		t.Fatalf("refresh with S2S credentials: %d %v", status, body)
	}
	if s.AccountTokenGrants() != 6 || s.RefreshCalls() != 1 {
		t.Fatalf("AccountTokenGrants %d, RefreshCalls %d", s.AccountTokenGrants(), s.RefreshCalls())
	}

	// Account tokens expire by the fake's clock.
	clock.Advance(DefaultAccessTTL)
	if status, body := get(t, s, "/users/zu_ann/token?type=zak", at1); status != 401 || body["code"] != 124.0 {
		t.Fatalf("expired account token: %d %v", status, body)
	}
	_, body = accountGrantReq(t, s, s2sID, s2sSecret, s2sAccount, false)
	at3 := body["access_token"].(string)
	if status, _ := get(t, s, "/users/zu_ann/token?type=zak", at3); status != 200 {
		t.Fatalf("fresh account token: %d", status)
	}
	s.RevokeAccountTokens()
	if status, _ := get(t, s, "/users/zu_ann/token?type=zak", at3); status != 401 {
		t.Fatalf("revoked account token: %d", status)
	}
	// An account token is not a user token.
	_, body = accountGrantReq(t, s, s2sID, s2sSecret, s2sAccount, false)
	if status, _ := get(t, s, "/users/me", body["access_token"].(string)); status != 401 {
		t.Fatalf("users/me with an account token: %d", status)
	}
}

func TestAccountUserToken(t *testing.T) {
	s := accountServer(t)
	_, body := accountGrantReq(t, s, s2sID, s2sSecret, s2sAccount, false)
	at := body["access_token"].(string)
	for _, who := range []string{"zu_ann", "ann@example.com", "ANN@EXAMPLE.COM", DefaultUserID, "default@example.com"} {
		status, body := get(t, s, "/users/"+url.PathEscape(who)+"/token?type=zak", at)
		if tok, _ := body["token"].(string); status != 200 || !strings.HasPrefix(tok, "zak_") {
			t.Fatalf("zak for %s: %d %v", who, status, body)
		}
	}
	for _, who := range []string{"zu_out", "out@example.com", "nobody", "me"} {
		status, body := get(t, s, "/users/"+who+"/token?type=zak", at)
		if status != 404 || body["code"] != 1001.0 || body["message"] != "User does not exist: "+who+"." {
			t.Fatalf("zak for %s: %d %v", who, status, body)
		}
	}
	if status, body := get(t, s, "/users/zu_ann/token?type=onbehalf&meeting_id=85012345678", at); status != 400 || body["code"] != 300.0 {
		t.Fatalf("obf with an account token: %d %v", status, body)
	}
	s.AllowAccountOBF(true)
	if status, body := get(t, s, "/users/zu_ann/token?type=onbehalf&meeting_id=85012345678", at); status != 200 ||
		!strings.HasPrefix(body["token"].(string), "obf_") {
		t.Fatalf("obf allowed: %d %v", status, body)
	}
	if status, body := get(t, s, "/users/zu_ann/token?type=onbehalf", at); status != 400 || body["code"] != 300.0 {
		t.Fatalf("obf without meeting: %d %v", status, body)
	}
	if s.MintCalls() != 12 || len(s.Minted()) != 6 {
		t.Fatalf("MintCalls %d, Minted %d", s.MintCalls(), len(s.Minted()))
	}
}

// TestUserTokenByID checks /users/{userId}/token with a user's own token:
// its ID or email mint like "me"; another user is not visible.
func TestUserTokenByID(t *testing.T) {
	s := accountServer(t)
	at, _ := s.IssueGrant("zu_ann")
	for _, who := range []string{"zu_ann", "ann@example.com"} {
		if status, body := get(t, s, "/users/"+who+"/token?type=zak", at); status != 200 {
			t.Fatalf("own %s: %d %v", who, status, body)
		}
	}
	if status, body := get(t, s, "/users/"+DefaultUserID+"/token?type=zak", at); status != 404 || body["code"] != 1001.0 {
		t.Fatalf("another user: %d %v", status, body)
	}
	if status, _ := get(t, s, "/users/zu_ann/token?type=zak", "bogus"); status != 401 {
		t.Fatalf("bad token: %d", status)
	}
}
