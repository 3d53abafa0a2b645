package zoomdemo

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// consent serves the consent handler of a new fake.
func consent(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	z := New("cid", "csecret")
	t.Cleanup(z.Close)
	front := httptest.NewServer(z.ConsentHandler(Consent{AppName: "onbehalf (demo)", Demo: true}))
	t.Cleanup(front.Close)
	return z, front
}

func authorizeQuery() url.Values {
	return url.Values{"client_id": {"cid"}, "response_type": {"code"}, "redirect_uri": {"https://app.example/cb"}, "state": {"st"}}
}

// TestConsentPage: the page shows the app, the user and the permissions,
// marked DEMO, under a policy that allows only its style sheet.
func TestConsentPage(t *testing.T) {
	_, front := consent(t)
	resp, err := http.Get(front.URL + "/oauth/authorize?" + authorizeQuery().Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	page := string(body)
	for _, want := range []string{"onbehalf (demo) wants to access your Zoom account", "DEMO", "Default User", "on your behalf", `value="allow"`, `value="decline"`} {
		if !strings.Contains(page, want) {
			t.Errorf("no %q on the consent page", want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'sha256-") || strings.Contains(csp, "unsafe") {
		t.Errorf("policy %q", csp)
	}
	bad := authorizeQuery()
	bad.Set("client_id", "other")
	if resp, err := http.Get(front.URL + "/oauth/authorize?" + bad.Encode()); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a bad client_id got a consent page: %v %v", resp.StatusCode, err)
	}
}

// TestConsentDecision: Allow gives a code that exchanges like the bare
// endpoint's; Decline sends access_denied; a forged request is refused.
func TestConsentDecision(t *testing.T) {
	z, front := consent(t)
	decide := func(decision string, q url.Values) *http.Response {
		resp, err := noRedirect.PostForm(front.URL+"/oauth/authorize", url.Values{"request": {q.Encode()}, "decision": {decision}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := decide("allow", authorizeQuery())
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Host != "app.example" || loc.Query().Get("code") == "" || loc.Query().Get("state") != "st" {
		t.Fatalf("allow: %d %s", resp.StatusCode, loc)
	}
	if z.AuthCodeExchanges() != 0 {
		t.Fatal("allowing exchanged a code")
	}
	resp = decide("decline", authorizeQuery())
	loc, _ = url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("error") != "access_denied" || loc.Query().Get("code") != "" || loc.Query().Get("state") != "st" {
		t.Fatalf("decline: %d %s", resp.StatusCode, loc)
	}
	bad := authorizeQuery()
	bad.Set("redirect_uri", "not a url")
	if resp := decide("allow", bad); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a bad redirect_uri: %d", resp.StatusCode)
	}
	// Everything else is the fake Zoom itself.
	if resp, err := http.Get(front.URL + "/v2/users/me"); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("API through the consent handler: %v %v", resp.StatusCode, err)
	}
}

// TestConsentChecks: the page refuses what the endpoint refuses (a
// redirect URI off the app's allow list, an unknown fake_user) and shows
// the user fake_user names.
func TestConsentChecks(t *testing.T) {
	z, front := consent(t)
	z.AllowedRedirect = "https://app.example/cb"
	z.AddUser(User{ID: "u2", Email: "sam@example.com", DisplayName: "Sam"})
	get := func(q url.Values) (int, string) {
		resp, err := http.Get(front.URL + "/oauth/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	q := authorizeQuery()
	q.Set("redirect_uri", "https://evil.example/cb")
	if code, _ := get(q); code != http.StatusBadRequest {
		t.Errorf("a redirect URI off the allow list: %d", code)
	}
	q = authorizeQuery()
	q.Set("fake_user", "nobody")
	if code, _ := get(q); code != http.StatusBadRequest {
		t.Errorf("an unknown fake_user: %d", code)
	}
	q.Set("fake_user", "u2")
	if code, page := get(q); code != http.StatusOK || !strings.Contains(page, "Sam (sam@example.com)") {
		t.Errorf("fake_user u2: %d\n%s", code, page)
	}
}
