package zoomdemo

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/clocktest"
)

const (
	testID     = "cid"
	testSecret = "csecret"
	redirect   = "http://app.test/zoom/oauth-callback"
	verifier   = "a-long-enough-code-verifier-0123456789-abcdefghijklmnop"
)

// noRedirect is a client that returns redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

func challengeOf(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorize runs /oauth/authorize and returns the redirect's query.
func authorize(t *testing.T, s *Server, extra url.Values) url.Values {
	t.Helper()
	q := url.Values{
		"response_type": {"code"}, "client_id": {testID}, "redirect_uri": {redirect},
		"state": {"st4te"}, "code_challenge": {challengeOf(verifier)}, "code_challenge_method": {"S256"},
	}
	for k, v := range extra {
		q[k] = v
	}
	resp, err := noRedirect.Get(s.URL + "/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: status %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), redirect+"?") {
		t.Fatalf("authorize: Location %q", resp.Header.Get("Location"))
	}
	return loc.Query()
}

// post posts a form to path with optional Basic credentials and decodes the
// JSON answer.
func post(t *testing.T, s *Server, path string, form url.Values, basic bool) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(testID, testSecret)
	}
	return do(t, req)
}

// get calls a REST endpoint with a bearer token.
func get(t *testing.T, s *Server, path, access string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.APIURL()+path, nil)
	req.Header.Set("Authorization", "Bearer "+access)
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Errorf("%s %s: not JSON: %q", req.Method, req.URL.Path, b)
	}
	return resp.StatusCode, m
}

func exchange(t *testing.T, s *Server, code, v string) (int, map[string]any) {
	t.Helper()
	return post(t, s, "/oauth/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {v},
	}, true)
}

func refresh(t *testing.T, s *Server, rt string) (int, map[string]any) {
	t.Helper()
	return post(t, s, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, true)
}

func TestAuthorizeExchangePKCE(t *testing.T) {
	s := New(testID, testSecret)
	defer s.Close()
	s.AllowedRedirect = redirect

	q := authorize(t, s, nil)
	if q.Get("state") != "st4te" || q.Get("code") == "" {
		t.Fatalf("redirect query %v", q)
	}
	status, body := exchange(t, s, q.Get("code"), verifier)
	if status != 200 {
		t.Fatalf("exchange: %d %v", status, body)
	}
	at, _ := body["access_token"].(string)
	if !strings.HasPrefix(at, "zat_") || !strings.HasPrefix(body["refresh_token"].(string), "zrt_") ||
		body["token_type"] != "bearer" || body["expires_in"] != 3599.0 || body["scope"] != Scope || body["api_url"] != s.URL {
		t.Fatalf("token response %v", body)
	}
	if at != s.CurrentAccessToken(DefaultUserID) {
		t.Fatal("CurrentAccessToken differs")
	}
	status, me := get(t, s, "/users/me", at)
	if status != 200 || me["id"] != DefaultUserID || me["email"] != "default@example.com" ||
		me["display_name"] != "Default User" || me["account_id"] != "acct_1" || me["status"] != "active" {
		t.Fatalf("users/me: %d %v", status, me)
	}

	// Single use.
	if status, body := exchange(t, s, q.Get("code"), verifier); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("reused code: %d %v", status, body)
	}
	// Bad verifier.
	q = authorize(t, s, nil)
	if status, body := exchange(t, s, q.Get("code"), verifier+"x"); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("bad verifier: %d %v", status, body)
	}
	// Wrong redirect_uri.
	q = authorize(t, s, nil)
	status, body = post(t, s, "/oauth/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {redirect + "x"}, "code_verifier": {verifier},
	}, true)
	if status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("redirect mismatch: %d %v", status, body)
	}
	if got := s.AuthCodeExchanges(); got != 4 {
		t.Fatalf("AuthCodeExchanges = %d, want 4", got)
	}
}

func TestAuthorizeErrors(t *testing.T) {
	s := New(testID, testSecret)
	defer s.Close()
	s.AllowedRedirect = redirect
	s.AddUser(User{ID: "zu_2", Email: "two@example.com"})

	for name, q := range map[string]url.Values{
		"client":    {"response_type": {"code"}, "client_id": {"other"}, "redirect_uri": {redirect}},
		"type":      {"response_type": {"token"}, "client_id": {testID}, "redirect_uri": {redirect}},
		"redirect":  {"response_type": {"code"}, "client_id": {testID}, "redirect_uri": {"http://evil.test/"}},
		"noredir":   {"response_type": {"code"}, "client_id": {testID}},
		"method":    {"response_type": {"code"}, "client_id": {testID}, "redirect_uri": {redirect}, "code_challenge": {"x"}, "code_challenge_method": {"plain"}},
		"fake_user": {"response_type": {"code"}, "client_id": {testID}, "redirect_uri": {redirect}, "fake_user": {"nobody"}},
	} {
		resp, err := noRedirect.Get(s.URL + "/oauth/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s: status %d, want 400", name, resp.StatusCode)
		}
	}

	s.DenyNext()
	q := authorize(t, s, nil)
	if q.Get("error") != "access_denied" || q.Get("state") != "st4te" || q.Get("code") != "" {
		t.Fatalf("deny: %v", q)
	}
	q = authorize(t, s, url.Values{"fake_user": {"zu_2"}})
	_, body := exchange(t, s, q.Get("code"), verifier)
	_, me := get(t, s, "/users/me", body["access_token"].(string))
	if me["id"] != "zu_2" {
		t.Fatalf("fake_user: %v", me)
	}
}

func TestBasicAuthRequired(t *testing.T) {
	s := New(testID, testSecret)
	defer s.Close()
	code := authorize(t, s, nil).Get("code")
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {verifier},
		"client_id": {testID}, "client_secret": {testSecret},
	}
	status, body := post(t, s, "/oauth/token", form, false)
	if status != 401 || body["error"] != "invalid_client" || body["reason"] != "Invalid client_id or client_secret" {
		t.Fatalf("body credentials: %d %v", status, body)
	}
	req, _ := http.NewRequest("POST", s.URL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(testID, "wrong")
	if status, body := do(t, req); status != 401 || body["error"] != "invalid_client" {
		t.Fatalf("wrong secret: %d %v", status, body)
	}
}

func TestRefreshRotation(t *testing.T) {
	s := New(testID, testSecret)
	defer s.Close()
	at1, rt1 := s.IssueGrant(DefaultUserID)

	status, body := refresh(t, s, rt1)
	if status != 200 {
		t.Fatalf("refresh: %d %v", status, body)
	}
	at2, rt2 := body["access_token"].(string), body["refresh_token"].(string)
	if at2 == at1 || rt2 == rt1 || s.CurrentRefreshToken(DefaultUserID) != rt2 {
		t.Fatal("refresh did not rotate")
	}
	if status, body := refresh(t, s, rt1); status != 400 || body["error"] != "invalid_grant" || body["reason"] != "Invalid Token!" {
		t.Fatalf("old refresh token: %d %v", status, body)
	}
	if s.ReusedRefreshTokens() != 1 {
		t.Fatalf("ReusedRefreshTokens = %d", s.ReusedRefreshTokens())
	}
	if status, body := get(t, s, "/users/me", at1); status != 401 || body["code"] != 124.0 {
		t.Fatalf("old access token: %d %v", status, body)
	}
	if status, _ := get(t, s, "/users/me", at2); status != 200 {
		t.Fatalf("new access token: %d", status)
	}
	// An unknown token is rejected but is not a reuse.
	refresh(t, s, "zrt_never")
	if s.ReusedRefreshTokens() != 1 || s.RefreshCalls() != 3 {
		t.Fatalf("counters: reused %d, calls %d", s.ReusedRefreshTokens(), s.RefreshCalls())
	}
	// A second authorization replaces the grant.
	at3, _ := s.IssueGrant(DefaultUserID)
	if status, _ := refresh(t, s, rt2); status != 400 {
		t.Fatalf("refresh after re-authorization: %d", status)
	}
	if status, _ := get(t, s, "/users/me", at2); status != 401 {
		t.Fatalf("access after re-authorization: %d", status)
	}
	if status, _ := get(t, s, "/users/me", at3); status != 200 {
		t.Fatalf("new grant: %d", status)
	}
}

func TestInvalidateAccessAndExpiry(t *testing.T) {
	s := New(testID, testSecret)
	defer s.Close()
	at, rt := s.IssueGrant(DefaultUserID)
	s.InvalidateAccess(DefaultUserID)
	if status, body := get(t, s, "/users/me/token?type=onbehalf&meeting_id=85012345678", at); status != 401 ||
		body["code"] != 124.0 || body["message"] != "Invalid access token." {
		t.Fatalf("invalidated: %d %v", status, body)
	}
	if status, _ := refresh(t, s, rt); status != 200 {
		t.Fatalf("refresh after InvalidateAccess: %d", status)
	}

	clock := clocktest.New(time.Now())
	s.SetClock(clock.Now)
	at, _ = s.IssueGrant(DefaultUserID)
	clock.Advance(DefaultAccessTTL)
	if status, _ := get(t, s, "/users/me", at); status != 401 {
		t.Fatalf("expired: %d", status)
	}
	if status, _ := get(t, s, "/users/me", ""); status != 401 {
		t.Fatalf("no token: %d", status)
	}
}

func TestMint(t *testing.T) {
	s := New(testID, testSecret)
	defer s.Close()
	at, _ := s.IssueGrant(DefaultUserID)
	if status, body := get(t, s, "/users/me/token?type=onbehalf", at); status != 400 || body["code"] != 300.0 ||
		body["message"] != "Meeting ID is required." {
		t.Fatalf("no meeting_id: %d %v", status, body)
	}
	if status, body := get(t, s, "/users/me/token?type=bogus", at); status != 400 || body["code"] != 300.0 {
		t.Fatalf("bad type: %d %v", status, body)
	}
	if _, body := get(t, s, "/users/me/token?type=zak", at); !strings.HasPrefix(body["token"].(string), "zak_") {
		t.Fatalf("zak: %v", body)
	}

	const n = 50
	var wg sync.WaitGroup
	toks := make([]string, n)
	for i := range n {
		wg.Go(func() {
			status, body := get(t, s, "/users/me/token?type=onbehalf&meeting_id=85012345678", at)
			if status != 200 {
				t.Errorf("mint: %d %v", status, body)
				return
			}
			toks[i], _ = body["token"].(string)
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, tok := range toks {
		if !strings.HasPrefix(tok, "obf_") || seen[tok] {
			t.Fatalf("token %q missing or repeated", tok)
		}
		seen[tok] = true
	}
	if s.MintCalls() != n+3 || len(s.Minted()) != n+1 {
		t.Fatalf("MintCalls %d, Minted %d", s.MintCalls(), len(s.Minted()))
	}
}

func TestFailMintEveryAndDelay(t *testing.T) {
	s := New(testID, testSecret)
	defer s.Close()
	at, _ := s.IssueGrant(DefaultUserID)
	s.FailMintEvery(3)
	var fails int
	for range 9 {
		status, body := get(t, s, "/users/me/token?type=onbehalf&meeting_id=123456789", at)
		if status == 500 {
			fails++
			if body["code"] != 500.0 {
				t.Fatalf("failure body %v", body)
			}
		}
	}
	if fails != 3 {
		t.Fatalf("failures = %d, want 3", fails)
	}
	s.FailMintEvery(0)

	s.SetMintDelay(time.Hour)
	client := &http.Client{Timeout: 50 * time.Millisecond}
	req, _ := http.NewRequest("GET", s.APIURL()+"/users/me/token?type=zak", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	if _, err := client.Do(req); err == nil {
		t.Fatal("delayed mint answered")
	}
}

func TestRevoke(t *testing.T) {
	s := New(testID, testSecret)
	defer s.Close()
	at, rt := s.IssueGrant(DefaultUserID)
	if status, _ := post(t, s, "/oauth/revoke", url.Values{"token": {at}}, false); status != 401 {
		t.Fatalf("revoke without Basic: %d", status)
	}
	if status, body := post(t, s, "/oauth/revoke", url.Values{"token": {at}}, true); status != 200 || body["status"] != "success" {
		t.Fatalf("revoke: %d %v", status, body)
	}
	if status, body := refresh(t, s, rt); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("refresh after revoke: %d %v", status, body)
	}
	if status, _ := post(t, s, "/oauth/revoke", url.Values{"token": {at}}, true); status != 400 {
		t.Fatalf("second revoke: %d", status)
	}
	if s.Revocations() != 1 || s.CurrentRefreshToken(DefaultUserID) != "" {
		t.Fatal("revocation not recorded")
	}

	_, rt = s.IssueGrant(DefaultUserID)
	s.RevokeGrant(DefaultUserID)
	if status, _ := refresh(t, s, rt); status != 400 {
		t.Fatalf("refresh after RevokeGrant: %d", status)
	}
	if s.ReusedRefreshTokens() != 0 {
		t.Fatal("a revoked token counted as reused")
	}
}

func TestPreviousRefreshTokenAndWaitIdle(t *testing.T) {
	s := New(testID, testSecret)
	defer s.Close()
	_, rt1 := s.IssueGrant(DefaultUserID)
	if _, ok := s.PreviousRefreshToken(rt1); ok {
		t.Fatal("a granted token has no predecessor")
	}
	if status, _ := refresh(t, s, rt1); status != 200 {
		t.Fatalf("refresh: %d", status)
	}
	rt2 := s.CurrentRefreshToken(DefaultUserID)
	if prev, ok := s.PreviousRefreshToken(rt2); !ok || prev != rt1 {
		t.Fatalf("previous of the rotated token: %q %v", prev, ok)
	}
	http.DefaultClient.CloseIdleConnections()
	if !s.WaitIdle(5 * time.Second) {
		t.Fatal("connections still open after the client closed them")
	}
}

func TestScopes(t *testing.T) {
	s := New(testID, testSecret)
	defer s.Close()
	s.AddUser(User{ID: "zu_2", Email: "two@example.com"})
	s.SetScopes("zu_2", "user:read:zak")
	q := authorize(t, s, url.Values{"fake_user": {"zu_2"}})
	_, body := exchange(t, s, q.Get("code"), verifier)
	at, _ := body["access_token"].(string)
	if body["scope"] != "user:read:zak" {
		t.Fatalf("granted scope %v", body["scope"])
	}
	for path, scope := range map[string]string{
		"/users/me": "user:read:user",
		"/users/me/token?type=onbehalf&meeting_id=85012345678": "user:read:token",
	} {
		want := "Invalid access token, does not contain scopes:[" + scope + "]."
		if status, body := get(t, s, path, at); status != 400 || body["code"] != 4711.0 || body["message"] != want {
			t.Errorf("%s: %d %v", path, status, body)
		}
	}
	if status, _ := get(t, s, "/users/me/token?type=zak", at); status != 200 {
		t.Fatalf("zak with its scope: %d", status)
	}
	// The default user keeps every scope.
	at, _ = s.IssueGrant(DefaultUserID)
	if status, _ := get(t, s, "/users/me", at); status != 200 {
		t.Fatalf("default scopes: %d", status)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("SetScopes accepted an unknown user")
		}
	}()
	s.SetScopes("nobody", Scope)
}
