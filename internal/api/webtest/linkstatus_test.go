package webtest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/onbehalf/onbehalf/internal/web"
)

// apiLink is a connect link as the API shows it.
type apiLink struct {
	ID           string  `json:"id"`
	URL          string  `json:"url"`
	Status       string  `json:"status"`
	ConnectionID *string `json:"connection_id"`
}

// newLink makes a connect link through the API with the given body.
func (s *server) newLink(t *testing.T, body string) apiLink {
	t.Helper()
	var l apiLink
	if st := s.call(t, http.MethodPost, "/api/v1/connect-links", body, &l); st != 201 || l.ID == "" {
		t.Fatalf("connect link: %d %+v", st, l)
	}
	return l
}

// linkNow reads a connect link by its ID.
func (s *server) linkNow(t *testing.T, id string) apiLink {
	t.Helper()
	var l apiLink
	if st := s.call(t, http.MethodGet, "/api/v1/connect-links/"+id, "", &l); st != 200 {
		t.Fatalf("GET connect link: %d", st)
	}
	return l
}

// A link with return_to goes back there, and reads used with the
// connection it made.
func TestConnectLinkRecordsItsConnection(t *testing.T) {
	s := newServer(t)
	l := s.newLink(t, `{"external_user_id":"user-7","return_to":"`+appURL+`/done"}`)
	back := follow(t, l.URL)
	connID := back.Query().Get("connection_id")
	if got := s.linkNow(t, l.ID); got.Status != "used" || got.ConnectionID == nil || *got.ConnectionID != connID || got.URL != "" {
		t.Fatalf("after connecting: %+v, want used by %s", got, connID)
	}
}

// A link without return_to ends on a neutral page of its own: connected,
// close the tab; no way into this server's own pages.
func TestConnectLinkWithoutReturnTo(t *testing.T) {
	s := newServer(t)
	l := s.newLink(t, `{"external_user_id":"user-8"}`)
	b := newBrowser(t, "")
	if st, page := b.open(t, l.URL, true); st != 200 || strings.Contains(page, `href="/launch"`) {
		t.Fatalf("consent page: %d %.300s", st, page)
	}
	req, _ := http.NewRequest(http.MethodPost, l.URL, strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != web.PathConnected {
		t.Fatalf("ended at %s with %d", resp.Request.URL, resp.StatusCode)
	}
	st, page := b.get(t, resp.Request.URL.String())
	if st != 200 || !strings.Contains(page, "Connected — you can close this tab") || !strings.Contains(page, "user-8") ||
		strings.Contains(page, `href="/launch"`) || strings.Contains(page, `href="/"`) {
		t.Fatalf("result page: %d %.2000s", st, page)
	}
	got := s.linkNow(t, l.ID)
	if got.Status != "used" || got.ConnectionID == nil {
		t.Fatalf("after connecting: %+v", got)
	}
	// Another browser (no connection in its session) gets nothing there.
	if st, _ := newBrowser(t, "").get(t, s.srv.URL+web.PathConnected); st != http.StatusNotFound {
		t.Fatalf("the result page without a connected session: %d", st)
	}
}

// A revoked link, opened in a browser, ends on a page that says so; a
// link revoked after its consent page cannot continue; one revoked while
// the person is at Zoom connects nothing.
func TestRevokedLinkPage(t *testing.T) {
	s := newServer(t)
	revoke := func(id string) {
		t.Helper()
		var l apiLink
		if st := s.call(t, http.MethodDelete, "/api/v1/connect-links/"+id, "", &l); st != 200 || l.Status != "revoked" {
			t.Fatalf("revoke: %d %+v", st, l)
		}
	}
	wantRevokedPage := func(what string, st int, page string) {
		t.Helper()
		if st != http.StatusConflict || !strings.Contains(page, "This connect link was revoked") ||
			strings.Contains(page, `id="continue"`) || strings.Contains(page, `href="/launch"`) || strings.Contains(page, `href="/"`) ||
			strings.Contains(page, `role="alert"`) {
			t.Fatalf("%s: %d %.3000s", what, st, page)
		}
	}

	l := s.newLink(t, `{"external_user_id":"user-9","return_to":"`+appURL+`/done"}`)
	revoke(l.ID)
	st, page := newBrowser(t, "").open(t, l.URL, true)
	wantRevokedPage("opened after revoke", st, page)

	l = s.newLink(t, `{"external_user_id":"user-9","return_to":"`+appURL+`/done"}`)
	b := newBrowser(t, "")
	if st, _ := b.open(t, l.URL, true); st != 200 {
		t.Fatalf("consent page: %d", st)
	}
	revoke(l.ID)
	st, page = b.cont(t, l.URL)
	wantRevokedPage("Continue after revoke", st, page)

	l = s.newLink(t, `{"external_user_id":"user-9","return_to":"`+appURL+`/done"}`)
	b = newBrowser(t, "")
	next := b.c.CheckRedirect
	b.c.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if r.URL.Path == "/zoom/oauth-callback" {
			revoke(l.ID)
		}
		return next(r, via)
	}
	b.open(t, l.URL, true)
	st, page = b.cont(t, l.URL)
	wantRevokedPage("back from Zoom after revoke", st, page)
	if n := s.stored(t); n != 0 {
		t.Fatalf("%d connections stored from revoked links", n)
	}
	if got := s.linkNow(t, l.ID); got.Status != "revoked" || got.ConnectionID != nil {
		t.Fatalf("revoked link: %+v", got)
	}
}
