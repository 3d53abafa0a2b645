package webtest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/onbehalf/onbehalf/internal/connect"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/web"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// link makes a connect link for external user ext and returns its URL.
func (s *server) link(t *testing.T, ext string) string {
	t.Helper()
	var l struct{ URL string }
	if st := s.call(t, http.MethodPost, "/api/v1/connect-links", `{"external_user_id":"`+ext+`","return_to":"`+appURL+`/done"}`, &l); st != 201 {
		t.Fatalf("connect link: %d", st)
	}
	return l.URL
}

// connectVia walks a new browser of zoomUser through a connect link and
// returns the status and page it ended on (the product's URL in b.last).
func (s *server) connectVia(t *testing.T, link, zoomUser string) (*browser, int, string) {
	t.Helper()
	b := newBrowser(t, zoomUser)
	if st, page := b.open(t, link, true); st != 200 {
		t.Fatalf("consent page: %d %.300s", st, page)
	}
	st, page := b.cont(t, link)
	return b, st, page
}

// stored counts the stored connections.
func (s *server) stored(t *testing.T) int {
	t.Helper()
	n, err := s.store.CountConnections(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n[onbehalf.StateConnected] + n[onbehalf.StateDisconnected]
}

// Mallory makes a link for "mallory" and forwards it to Alice, already
// connected as "alice": the link ends on a 409 page that names "alice"
// and says nothing changed; Alice's connection is unchanged (and still
// mints), connection.conflict names both, and nothing mints for mallory.
func TestForwardedLinkNeverMovesConnection(t *testing.T) {
	s := newServer(t)
	s.zoom.AddUser(zoomdemo.User{ID: "zu_alice", AccountID: "acct_1", Email: "alice@example.com", DisplayName: "Alice"})
	b, _, _ := s.connectVia(t, s.link(t, "alice"), "zu_alice")
	aliceID := b.last.Query().Get("connection_id")
	var before map[string]any
	s.call(t, http.MethodGet, "/api/v1/connections/"+aliceID, "", &before)

	_, st, page := s.connectVia(t, s.link(t, "mallory"), "zu_alice")
	if st != http.StatusConflict || !strings.Contains(page, "“alice”") || !strings.Contains(page, "“mallory”") || !strings.Contains(page, "Nothing was changed") {
		t.Fatalf("forwarded link: %d %s", st, page)
	}
	var list struct{ Connections []map[string]any }
	s.call(t, http.MethodGet, "/api/v1/connections?external_user_id=alice", "", &list)
	if len(list.Connections) != 1 {
		t.Fatalf("alice lists %v", list.Connections)
	}
	for _, k := range []string{"id", "external_user_id", "state", "zoom_user_id", "created_at", "metadata"} {
		if got := list.Connections[0][k]; got != nil && before[k] != nil && got != before[k] {
			t.Fatalf("alice's connection changed %s: %v, was %v", k, got, before[k])
		}
	}
	var none struct{ Connections []map[string]any }
	s.call(t, http.MethodGet, "/api/v1/connections?external_user_id=mallory", "", &none)
	if len(none.Connections) != 0 {
		t.Fatalf("mallory lists %v", none.Connections)
	}
	var e struct{ Error struct{ Code string } }
	if st := s.call(t, http.MethodPost, "/api/v1/tokens", `{"external_user_id":"mallory","kind":"obf","meeting_id":"85012345678"}`, &e); st != 404 {
		t.Fatalf("mallory's token: %d %+v", st, e)
	}
	var tok struct{ Token string }
	if st := s.call(t, http.MethodPost, "/api/v1/tokens", `{"external_user_id":"alice","kind":"obf","meeting_id":"85012345678"}`, &tok); st != 200 || tok.Token == "" {
		t.Fatalf("alice's token: %d", st)
	}
	evs, _ := s.store.EventsAfter(context.Background(), 0, 100)
	var conflicts []onbehalf.ConnectionEventData
	for _, ev := range evs {
		if ev.Type == onbehalf.EventConnectionConflict {
			var d onbehalf.ConnectionEventData
			_ = json.Unmarshal(ev.Data, &d)
			conflicts = append(conflicts, d)
		}
	}
	if len(conflicts) != 1 || conflicts[0].ConnectionID != aliceID || conflicts[0].ExternalUserID != "alice" ||
		conflicts[0].RequestedExternalUserID != "mallory" || conflicts[0].ZoomUserID != "zu_alice" {
		t.Fatalf("conflict events %+v", conflicts)
	}
	if s.zoom.Revocations() != 0 {
		t.Fatalf("%d revocations: alice's grant was given back", s.zoom.Revocations())
	}
}

// A link is bound to the first browser that opens it: another browser
// gets a 409 page, on the consent page and on Continue; a link preview
// (no browser navigation) binds nothing; the first browser connects.
func TestLinkBoundToFirstBrowser(t *testing.T) {
	s := newServer(t)
	link := s.link(t, "user-1")
	if st, page := newBrowser(t, "").open(t, link, false); st != 200 || !strings.Contains(page, "user-1") {
		t.Fatalf("link preview: %d", st)
	}
	first, second := newBrowser(t, ""), newBrowser(t, "")
	if st, page := first.open(t, link, true); st != 200 || !strings.Contains(page, "You are connecting your Zoom account to <strong id=\"external-user\">user-1</strong> at <strong id=\"origin\">app.example.com</strong>") {
		t.Fatalf("consent page: %d %s", st, page)
	}
	if st, page := second.open(t, link, true); st != http.StatusConflict || !strings.Contains(page, "already opened in another browser") {
		t.Fatalf("second browser: %d %s", st, page)
	}
	if st, page := second.cont(t, link); st != http.StatusConflict || !strings.Contains(page, "already opened in another browser") || second.last != nil {
		t.Fatalf("second browser's Continue: %d %s", st, page)
	}
	if st, page := first.open(t, link, true); st != 200 {
		t.Fatalf("first browser again: %d %s", st, page)
	}
	first.cont(t, link)
	if first.last == nil || first.last.Query().Get("connection_id") == "" {
		t.Fatal("the first browser did not connect")
	}
	// Continue from another site is refused.
	req, _ := http.NewRequest(http.MethodPost, s.link(t, "user-2"), nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if st, _ := newBrowser(t, "").do(t, req); st != http.StatusForbidden {
		t.Fatalf("cross-site Continue: %d", st)
	}
}

// Storing fails after the exchange, in the browser flow: the grant is
// given back (the fake Zoom saw the revoke) and nothing is stored.
func TestBrowserConnectStoreFailsGivesBack(t *testing.T) {
	for _, viaLink := range []bool{false, true} {
		var full atomic.Bool
		s := newServer(t, func(o *web.Options) { o.Connector = fullDisk{o.Connector, &full} })
		b := newBrowser(t, "")
		start := s.srv.URL + "/zoom/oauth"
		if viaLink {
			start = s.link(t, "user-1")
			if st, _ := b.open(t, start, true); st != 200 {
				t.Fatal(st)
			}
		}
		// Storing the grant fails as on a full disk.
		full.Store(true)
		var st int
		var page string
		if viaLink {
			st, page = b.cont(t, start)
		} else {
			st, page = b.get(t, start)
		}
		if st != http.StatusInsufficientStorage || !strings.Contains(page, "full") {
			t.Fatalf("link %v: %d %s", viaLink, st, page)
		}
		if s.zoom.Revocations() != 1 || s.zoom.CurrentRefreshToken(zoomdemo.DefaultUserID) != "" {
			t.Fatalf("link %v: %d revocations: the grant was not given back", viaLink, s.zoom.Revocations())
		}
		if n := s.stored(t); n != 0 {
			t.Fatalf("link %v: %d connections stored", viaLink, n)
		}
	}
}

// ALLOWED_ZOOM_ACCOUNTS / ALLOWED_EMAIL_DOMAINS: a Zoom user matching
// neither gets a 403 page through the pages (nothing stored, grant given
// back); matching either connects; connect links are not limited.
func TestConnectPolicy(t *testing.T) {
	s := newServer(t, func(o *web.Options) {
		o.ConnectPolicy = connect.Policy{Accounts: []string{"acct_ok"}, Domains: []string{"acme.com"}}
	})
	s.zoom.AddUser(zoomdemo.User{ID: "zu_out", AccountID: "acct_x", Email: "eve@acme.com.evil.org"})
	s.zoom.AddUser(zoomdemo.User{ID: "zu_dom", AccountID: "acct_x", Email: "Ann@ACME.com"})
	s.zoom.AddUser(zoomdemo.User{ID: "zu_acct", AccountID: "acct_ok", Email: "bo@other.org"})

	st, page := newBrowser(t, "zu_out").get(t, s.srv.URL+"/zoom/oauth")
	if st != http.StatusForbidden || !strings.Contains(page, "eve@acme.com.evil.org may not connect here") || !strings.Contains(page, "acme.com") {
		t.Fatalf("outsider: %d %s", st, page)
	}
	if s.stored(t) != 0 || s.zoom.Revocations() != 1 {
		t.Fatalf("outsider: %d stored, %d revocations", s.stored(t), s.zoom.Revocations())
	}
	for _, u := range []string{"zu_dom", "zu_acct"} {
		b := newBrowser(t, u)
		if st, page := b.get(t, s.srv.URL+"/zoom/oauth"); st != 200 {
			t.Fatalf("%s: %d %.300s", u, st, page)
		}
	}
	if _, st, page := s.connectVia(t, s.link(t, "user-out"), "zu_out"); st != 302 && st != 303 && st != 200 {
		t.Fatalf("connect link of an outsider: %d %.300s", st, page)
	}
	if n := s.stored(t); n != 3 {
		t.Fatalf("%d stored, want 3", n)
	}
}

// Declining at Zoom ends on a calm page; other OAuth errors get words,
// with the raw code in the details line only, and no doubled punctuation.
func TestZoomRefusalPages(t *testing.T) {
	s := newServer(t)
	s.zoom.DenyNext()
	st, page := newBrowser(t, "").get(t, s.srv.URL+"/zoom/oauth")
	if st != http.StatusBadRequest || !strings.Contains(page, "You declined") || !strings.Contains(page, "nothing was connected") ||
		strings.Contains(page, `class="card err"`) || !strings.Contains(page, `href="/zoom/oauth"`) {
		t.Fatalf("declined: %d %s", st, page)
	}
	b := newBrowser(t, "")
	b.get(t, s.srv.URL+"/") // a session
	st, page = b.get(t, s.srv.URL+"/zoom/oauth-callback?error=server_error&error_description=Try+later.")
	if st != http.StatusBadRequest || !strings.Contains(page, "Zoom had a problem on its side.") ||
		!strings.Contains(page, "Details: Zoom said server_error: Try later.</p>") || strings.Contains(page, "..") || strings.Contains(page, ".)") {
		t.Fatalf("server_error: %d %s", st, page)
	}
}

// fullDisk is a Connector whose Connect fails as the store does on a full
// disk while full is set.
type fullDisk struct {
	web.Connector
	full *atomic.Bool
}

func (f fullDisk) Connect(ctx context.Context, a onbehalf.Authorization) (*onbehalf.Connection, bool, error) {
	if f.full.Load() {
		return nil, false, onbehalf.WrapError(syscall.ENOSPC, onbehalf.ESTORAGE, "The disk is full: nothing was written.")
	}
	return f.Connector.Connect(ctx, a)
}
