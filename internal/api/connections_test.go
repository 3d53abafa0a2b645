package api_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/api"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

func TestConnectLink(t *testing.T) {
	e := newEnv(t)
	r := e.call(t, http.MethodPost, "/api/v1/connect-links", map[string]any{
		"external_user_id": "user-42", "metadata": map[string]any{"plan": "pro"}, "return_to": appURL + "/settings?tab=zoom",
	})
	if r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var got struct {
		ID        string    `json:"id"`
		URL       string    `json:"url"`
		Status    string    `json:"status"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	r.decode(t, &got)
	secret, ok := strings.CutPrefix(got.URL, e.srv.URL+"/connect/")
	if !ok || len(secret) < 40 {
		t.Fatalf("url %q", got.URL)
	}
	if d := time.Until(got.ExpiresAt); d < 59*time.Minute || d > time.Hour {
		t.Fatalf("expires in %s", d)
	}
	// The ID names the link; it is not the URL's secret, nor part of it.
	if !strings.HasPrefix(got.ID, "cl_") || strings.Contains(got.URL, got.ID) || strings.Contains(got.ID, secret) || got.Status != "pending" {
		t.Fatalf("id %q status %q for url %q", got.ID, got.Status, got.URL)
	}
	if loc := r.header.Get("Location"); loc != "/api/v1/connect-links/"+got.ID {
		t.Fatalf("Location %q", loc)
	}
	l, err := e.store.ConnectLink(context.Background(), secret)
	if err != nil || l.ID != got.ID || l.ExternalUserID != "user-42" || string(l.Metadata) != `{"plan":"pro"}` || l.ReturnTo != appURL+"/settings?tab=zoom" {
		t.Fatalf("stored link %+v %v", l, err)
	}
}

// linkReply is a connect link in a reply.
type linkReply struct {
	ID           string     `json:"id"`
	URL          string     `json:"url"`
	Status       string     `json:"status"`
	ConnectionID *string    `json:"connection_id"`
	UsedAt       *time.Time `json:"used_at"`
	RevokedAt    *time.Time `json:"revoked_at"`
	CreatedAt    *time.Time `json:"created_at"`
}

// newLink makes a connect link through the API and returns it with the
// secret of its URL.
func (e *env) newLink(t *testing.T) (linkReply, string) {
	t.Helper()
	r := e.call(t, http.MethodPost, "/api/v1/connect-links", map[string]any{"external_user_id": "user-7"})
	if r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var l linkReply
	r.decode(t, &l)
	_, secret, _ := strings.Cut(l.URL, "/connect/")
	return l, secret
}

// A connect link is followed by its ID: pending, then used with the
// connection it made; the reply never holds its URL again.
func TestConnectLinkStatus(t *testing.T) {
	e := newEnv(t)
	l, secret := e.newLink(t)
	var got linkReply
	r := e.call(t, http.MethodGet, "/api/v1/connect-links/"+l.ID, nil)
	r.decode(t, &got)
	if r.status != http.StatusOK || got.ID != l.ID || got.Status != "pending" || got.URL != "" || got.CreatedAt == nil ||
		got.ConnectionID != nil || strings.Contains(string(r.body), secret) {
		t.Fatalf("%d %s", r.status, r.body)
	}
	ctx := context.Background()
	if _, err := e.store.UseConnectLink(ctx, secret, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := e.store.LinkConnectLink(ctx, secret, "conn-from-link"); err != nil {
		t.Fatal(err)
	}
	r = e.call(t, http.MethodGet, "/api/v1/connect-links/"+l.ID, nil)
	r.decode(t, &got)
	if got.Status != "used" || got.ConnectionID == nil || *got.ConnectionID != "conn-from-link" || got.UsedAt == nil {
		t.Fatalf("used: %s", r.body)
	}
	// A used link is past revoking.
	e.call(t, http.MethodDelete, "/api/v1/connect-links/"+l.ID, nil).wantError(t, http.StatusConflict, onbehalf.ECONFLICT, "")
	// Unknown IDs, and the URL's secret in place of the ID, are 404s.
	for _, id := range []string{"cl_unknown", secret} {
		e.call(t, http.MethodGet, "/api/v1/connect-links/"+id, nil).wantError(t, http.StatusNotFound, onbehalf.ENOTFOUND, "id")
		e.call(t, http.MethodDelete, "/api/v1/connect-links/"+id, nil).wantError(t, http.StatusNotFound, onbehalf.ENOTFOUND, "id")
	}
	e.call(t, http.MethodGet, "/api/v1/connect-links/"+strings.Repeat("x", 200), nil).wantError(t, http.StatusBadRequest, onbehalf.EINVALID, "id")
	e.call(t, http.MethodGet, "/api/v1/connect-links/"+l.ID+"?x=1", nil).wantError(t, http.StatusBadRequest, onbehalf.EINVALID, "x")
}

// DELETE revokes a link: it reads revoked from then on, a second DELETE
// answers the same, and the link can no longer be used.
func TestConnectLinkRevoke(t *testing.T) {
	e := newEnv(t)
	l, secret := e.newLink(t)
	var got linkReply
	r := e.call(t, http.MethodDelete, "/api/v1/connect-links/"+l.ID, nil)
	r.decode(t, &got)
	if r.status != http.StatusOK || got.Status != "revoked" || got.RevokedAt == nil {
		t.Fatalf("%d %s", r.status, r.body)
	}
	first := *got.RevokedAt
	r = e.call(t, http.MethodDelete, "/api/v1/connect-links/"+l.ID, nil)
	r.decode(t, &got)
	if r.status != http.StatusOK || got.Status != "revoked" || !got.RevokedAt.Equal(first) {
		t.Fatalf("again: %d %s", r.status, r.body)
	}
	r = e.call(t, http.MethodGet, "/api/v1/connect-links/"+l.ID, nil)
	r.decode(t, &got)
	if got.Status != "revoked" {
		t.Fatalf("after revoke: %s", r.body)
	}
	if _, err := e.store.UseConnectLink(context.Background(), secret, time.Now()); onbehalf.ErrorCode(err) != onbehalf.ECONFLICT {
		t.Fatalf("using a revoked link: %v", err)
	}
}

func TestConnectLinkRefusesBadInput(t *testing.T) {
	e := newEnv(t)
	big := `{"x":"` + strings.Repeat("a", api.MaxMetadata) + `"}`
	for name, tc := range map[string]struct{ body, field string }{
		"no body":            {``, ""},
		"huge body":          {`{"external_user_id": "` + strings.Repeat("a", 130<<10) + `"}`, ""},
		"array body":         {`[]`, ""},
		"not json":           {`{"external_user_id": }`, ""},
		"cut off":            {`{"external_user_id": "a"`, ""},
		"trailing":           {`{"external_user_id": "a"} {}`, ""},
		"unknown field":      {`{"external_user_id": "a", "returnTo": "x"}`, "returnTo"},
		"wrong type":         {`{"external_user_id": 42}`, "external_user_id"},
		"missing user":       {`{"metadata": {}}`, "external_user_id"},
		"null user":          {`{"external_user_id": null}`, "external_user_id"},
		"long user":          {`{"external_user_id": "` + strings.Repeat("u", 201) + `"}`, "external_user_id"},
		"control char":       {`{"external_user_id": "a\u0007b"}`, "external_user_id"},
		"metadata list":      {`{"external_user_id": "a", "metadata": [1]}`, "metadata"},
		"metadata string":    {`{"external_user_id": "a", "metadata": "x"}`, "metadata"},
		"metadata too large": {`{"external_user_id": "a", "metadata": ` + big + `}`, "metadata"},
		// Never an open redirect.
		"other origin":       {`{"external_user_id": "a", "return_to": "https://evil.example.com/"}`, "return_to"},
		"suffix host":        {`{"external_user_id": "a", "return_to": "https://app.example.com.evil.com/"}`, "return_to"},
		"user info":          {`{"external_user_id": "a", "return_to": "https://app.example.com@evil.com/"}`, "return_to"},
		"user info 2":        {`{"external_user_id": "a", "return_to": "https://x@app.example.com/"}`, "return_to"},
		"other scheme":       {`{"external_user_id": "a", "return_to": "http://app.example.com/"}`, "return_to"},
		"relative":           {`{"external_user_id": "a", "return_to": "/settings"}`, "return_to"},
		"scheme relative":    {`{"external_user_id": "a", "return_to": "//evil.com/"}`, "return_to"},
		"javascript":         {`{"external_user_id": "a", "return_to": "javascript:alert(1)"}`, "return_to"},
		"backslash":          {`{"external_user_id": "a", "return_to": "https://app.example.com\\@evil.com/"}`, "return_to"},
		"other port":         {`{"external_user_id": "a", "return_to": "https://app.example.com:8443/"}`, "return_to"},
		"return_to not text": {`{"external_user_id": "a", "return_to": 1}`, "return_to"},
	} {
		t.Run(name, func(t *testing.T) {
			e.call(t, http.MethodPost, "/api/v1/connect-links", tc.body).wantError(t, 400, onbehalf.EINVALID, tc.field)
		})
	}
	// The default port and the host's case do not matter.
	for _, ok := range []string{"https://APP.example.com/x", "https://app.example.com:443/x"} {
		if r := e.call(t, http.MethodPost, "/api/v1/connect-links", map[string]any{"external_user_id": "a", "return_to": ok}); r.status != 201 {
			t.Errorf("%s: %d %s", ok, r.status, r.body)
		}
	}
}

func TestConnectLinkWithoutOrigins(t *testing.T) {
	e := newEnv(t, func(o *api.Options) { o.ReturnOrigins = nil })
	r := e.call(t, http.MethodPost, "/api/v1/connect-links", map[string]any{"external_user_id": "a", "return_to": appURL})
	if e := r.wantError(t, 400, onbehalf.EINVALID, "return_to"); !strings.Contains(e.Error.Message, "API_RETURN_ORIGINS") {
		t.Fatal(e.Error.Message)
	}
	if r := e.call(t, http.MethodPost, "/api/v1/connect-links", map[string]any{"external_user_id": "a"}); r.status != 201 {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

// connectionKeys are the keys of a connection in a reply (docs/api.md).
var connectionKeys = []string{"id", "zoom_user_id", "account_id", "email", "display_name", "external_user_id", "metadata",
	"state", "disconnected_reason", "disconnected_code", "scopes", "created_at", "updated_at", "last_refreshed_at", "last_minted_at"}

func TestCreateAndGetConnection(t *testing.T) {
	e := newEnv(t)
	e.addUser("zu_ann")
	r := e.call(t, http.MethodPost, "/api/v1/connections", map[string]any{
		"code": e.authorize(t, "zu_ann"), "redirect_uri": redirect, "external_user_id": "user-1", "metadata": map[string]any{"team": 7},
	})
	if r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var c map[string]any
	r.decode(t, &c)
	var keys []string
	for k := range c {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := slices.Clone(connectionKeys)
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Fatalf("connection keys %v, want %v", keys, want)
	}
	if c["zoom_user_id"] != "zu_ann" || c["external_user_id"] != "user-1" || c["state"] != "connected" ||
		c["email"] != "zu_ann@example.com" || c["display_name"] != "User zu_ann" || c["disconnected_reason"] != nil ||
		c["last_minted_at"] != nil || c["last_refreshed_at"] == nil {
		t.Fatalf("connection %v", c)
	}
	if m, _ := c["metadata"].(map[string]any); m["team"] != 7.0 {
		t.Fatalf("metadata %v", c["metadata"])
	}
	if s, _ := c["scopes"].([]any); len(s) != 4 || s[0] != "user:read:user" {
		t.Fatalf("scopes %v", c["scopes"])
	}
	id := c["id"].(string)
	if r.header.Get("Location") != "/api/v1/connections/"+id {
		t.Fatalf("Location %q", r.header.Get("Location"))
	}

	r = e.call(t, http.MethodGet, "/api/v1/connections/"+id, nil)
	var got map[string]any
	r.decode(t, &got)
	if r.status != 200 || got["id"] != id || got["external_user_id"] != "user-1" {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	e.call(t, http.MethodGet, "/api/v1/connections/nope", nil).wantError(t, 404, onbehalf.ENOTFOUND, "id")
	e.call(t, http.MethodGet, "/api/v1/connections/"+id+"?x=1", nil).wantError(t, 400, onbehalf.EINVALID, "x")
}

func TestCreateConnectionFailuresStoreNothing(t *testing.T) {
	e := newEnv(t)
	e.addUser("zu_ann")
	code := e.authorize(t, "zu_ann")
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{ // in order: the code is spent by the first exchange
		{map[string]any{"redirect_uri": redirect}, "code"},
		{map[string]any{"code": code}, "redirect_uri"},
		{map[string]any{"code": code, "redirect_uri": "/cb"}, "redirect_uri"},
		{map[string]any{"code": "x", "redirect_uri": redirect, "metadata": []int{1}}, "metadata"},
		{map[string]any{"code": "x", "redirect_uri": redirect, "external_user_id": strings.Repeat("x", 300)}, "external_user_id"},
		{map[string]any{"code": code, "redirect_uri": appURL + "/other"}, "code"}, // not the redirect URI of the code
		{map[string]any{"code": code, "redirect_uri": redirect}, "code"},          // used
	} {
		e.call(t, http.MethodPost, "/api/v1/connections", tc.body).wantError(t, 400, onbehalf.EINVALID, tc.field)
	}
	// Zoom answers the exchange but the profile cannot be read: the grant
	// is given back, nothing is stored.
	e.zoom.SetScopes("zu_ann", "user:read:token")
	r := e.call(t, http.MethodPost, "/api/v1/connections", map[string]any{"code": e.authorize(t, "zu_ann"), "redirect_uri": redirect})
	r.wantError(t, 502, onbehalf.EUPSTREAM, "")
	if e.zoom.Revocations() != 1 {
		t.Fatalf("revocations %d: the grant was not given back", e.zoom.Revocations())
	}
	if n, _ := e.store.CountConnections(context.Background()); n[onbehalf.StateConnected]+n[onbehalf.StateDisconnected] != 0 {
		t.Fatalf("connections stored: %v", n)
	}
}

func TestCreateConnectionWithoutZoom(t *testing.T) {
	e := newEnv(t, func(o *api.Options) { o.OAuth = nil })
	r := e.call(t, http.MethodPost, "/api/v1/connections", map[string]any{"code": "x", "redirect_uri": redirect})
	if e := r.wantError(t, 503, onbehalf.EUNAVAILABLE, ""); !strings.Contains(e.Error.Message, "ZOOM_CLIENT_ID") {
		t.Fatal(e.Error.Message)
	}
	e.call(t, http.MethodPost, "/api/v1/connect-links", map[string]any{"external_user_id": "a"}).wantError(t, 503, onbehalf.EUNAVAILABLE, "")
}

// The same Zoom user connected by two external users: the connection
// never moves. The second is a 409 naming the holder, alice's
// connection keeps its ID, external user and metadata (only its token pair
// is the fresh grant's, so it keeps working), connection.conflict names
// both, and bob finds nothing. Zoom saw no revoke: that would uninstall
// the app for the user and kill alice's connection.
func TestSameZoomUserTwoExternalUsers(t *testing.T) {
	e := newEnv(t)
	e.addUser("zu_shared")
	r := e.call(t, http.MethodPost, "/api/v1/connections", map[string]any{"code": e.authorize(t, "zu_shared"), "redirect_uri": redirect,
		"external_user_id": "alice", "metadata": map[string]any{"who": "alice"}})
	var first map[string]any
	r.decode(t, &first)
	var before struct{ Connections []map[string]any }
	e.call(t, http.MethodGet, "/api/v1/connections?external_user_id=alice", nil).decode(t, &before)

	r = e.call(t, http.MethodPost, "/api/v1/connections", map[string]any{"code": e.authorize(t, "zu_shared"), "redirect_uri": redirect,
		"external_user_id": "bob", "metadata": map[string]any{"who": "bob"}})
	if msg := r.wantError(t, 409, onbehalf.ECONFLICT, "").Error.Message; !strings.Contains(msg, `"alice"`) || !strings.Contains(msg, "nothing was changed") {
		t.Fatalf("conflict message %q", msg)
	}
	var list struct{ Connections []map[string]any }
	e.call(t, http.MethodGet, "/api/v1/connections?external_user_id=bob", nil).decode(t, &list)
	if len(list.Connections) != 0 {
		t.Fatalf("bob has %v", list.Connections)
	}
	e.call(t, http.MethodGet, "/api/v1/connections?external_user_id=alice", nil).decode(t, &list)
	if len(list.Connections) != 1 {
		t.Fatalf("alice has %v", list.Connections)
	}
	got, was := list.Connections[0], before.Connections[0]
	for _, k := range []string{"id", "external_user_id", "state", "zoom_user_id", "created_at", "email"} {
		if got[k] != was[k] {
			t.Fatalf("alice's connection changed %s: %v, was %v", k, got[k], was[k])
		}
	}
	if m, _ := got["metadata"].(map[string]any); m["who"] != "alice" {
		t.Fatalf("alice's metadata %v", got["metadata"])
	}
	evs := e.events(t, onbehalf.EventConnectionConflict)
	if len(evs) != 1 || evs[0]["connection_id"] != first["id"] || evs[0]["external_user_id"] != "alice" ||
		evs[0]["requested_external_user_id"] != "bob" || evs[0]["zoom_user_id"] != "zu_shared" {
		t.Fatalf("conflict events %v", evs)
	}
	if n := len(e.events(t, onbehalf.EventConnectionReconnected)); n != 0 {
		t.Fatalf("%d reconnected events", n)
	}
	if e.zoom.Revocations() != 0 {
		t.Fatalf("%d revocations: the holder's grant was given back", e.zoom.Revocations())
	}
	// Alice still mints; bob finds nothing.
	if r := e.call(t, http.MethodPost, "/api/v1/tokens", map[string]any{"external_user_id": "alice", "kind": "zak"}); r.status != 200 {
		t.Fatalf("alice's token: %d %s", r.status, r.body)
	}
	e.call(t, http.MethodPost, "/api/v1/tokens", map[string]any{"external_user_id": "bob", "kind": "zak"}).
		wantError(t, 404, onbehalf.ENOTFOUND, "external_user_id")
	// Without an external user the same Zoom user reconnects alice's.
	if again := e.connect(t, "zu_shared", ""); again["id"] != first["id"] || again["external_user_id"] != "alice" {
		t.Fatalf("plain reconnect %v", again)
	}
}

// Storing fails after Zoom issued the grant: it is given back (the fake
// saw the revoke), nothing is stored, and the reply says why.
func TestCreateConnectionStoreFailsGivesBack(t *testing.T) {
	e := newEnv(t)
	e.addUser("zu_disk")
	code := e.authorize(t, "zu_disk")
	e.store.FailWrites(syscall.ENOSPC)
	r := e.call(t, http.MethodPost, "/api/v1/connections", map[string]any{"code": code, "redirect_uri": redirect, "external_user_id": "dee"})
	e.store.FailWrites(nil)
	r.wantError(t, 507, onbehalf.ESTORAGE, "")
	if e.zoom.Revocations() != 1 || e.zoom.CurrentRefreshToken("zu_disk") != "" {
		t.Fatalf("revocations %d, grant alive %v: the grant was not given back", e.zoom.Revocations(), e.zoom.CurrentRefreshToken("zu_disk") != "")
	}
	if n, _ := e.store.CountConnections(context.Background()); n[onbehalf.StateConnected]+n[onbehalf.StateDisconnected] != 0 {
		t.Fatalf("connections stored: %v", n)
	}
}

func TestListConnections(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i, u := range []string{"zu_a", "zu_b", "zu_c", "zu_d", "zu_e"} {
		e.addUser(u)
		ext := "team-1"
		if i%2 == 1 {
			ext = "team-2"
		}
		ids = append(ids, e.grant(t, u, ext, time.Now().Add(time.Hour)))
		time.Sleep(2 * time.Millisecond) // distinct creation times
	}
	if _, err := e.store.MarkDisconnected(context.Background(), ids[4], e.zoom.CurrentRefreshToken("zu_e"), "Zoom said invalid_grant."); err != nil {
		t.Fatal(err)
	}
	type page struct {
		Connections []map[string]any `json:"connections"`
		NextCursor  *string          `json:"next_cursor"`
	}
	list := func(q string) page {
		t.Helper()
		var p page
		r := e.call(t, http.MethodGet, "/api/v1/connections"+q, nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", q, r.status, r.body)
		}
		r.decode(t, &p)
		return p
	}
	idsOf := func(p page) []string {
		var out []string
		for _, c := range p.Connections {
			out = append(out, c["id"].(string))
		}
		return out
	}
	// Every page, oldest first, through the cursor.
	var all []string
	q := "?limit=2"
	for range 10 {
		p := list(q)
		all = append(all, idsOf(p)...)
		if p.NextCursor == nil {
			break
		}
		q = "?limit=2&cursor=" + url.QueryEscape(*p.NextCursor)
	}
	if !slices.Equal(all, ids) {
		t.Fatalf("paged %v, want %v", all, ids)
	}
	if got := idsOf(list("?external_user_id=team-1")); !slices.Equal(got, []string{ids[0], ids[2], ids[4]}) {
		t.Fatalf("team-1: %v", got)
	}
	if got := idsOf(list("?external_user_id=team-1&state=connected")); !slices.Equal(got, []string{ids[0], ids[2]}) {
		t.Fatalf("team-1 connected: %v", got)
	}
	p := list("?state=disconnected")
	if got := idsOf(p); !slices.Equal(got, []string{ids[4]}) || p.Connections[0]["disconnected_reason"] != "Zoom said invalid_grant." ||
		len(p.Connections[0]["scopes"].([]any)) != 0 {
		t.Fatalf("disconnected: %v", p.Connections)
	}
	if got := idsOf(list("?zoom_user_id=zu_b")); !slices.Equal(got, []string{ids[1]}) {
		t.Fatalf("zu_b: %v", got)
	}
	if p := list("?zoom_user_id=nobody"); len(p.Connections) != 0 || p.NextCursor != nil {
		t.Fatalf("nobody: %+v", p)
	}
	for q, field := range map[string]string{
		"?limit=0": "limit", "?limit=501": "limit", "?limit=x": "limit", "?state=dead": "state",
		"?cursor=garbage": "cursor", "?cursor=c1.AAAA": "cursor", "?externalUserId=x": "externalUserId",
		"?limit=1&limit=2": "limit", "?zoom_user_id=a%20b": "zoom_user_id",
	} {
		e.call(t, http.MethodGet, "/api/v1/connections"+q, nil).wantError(t, 400, onbehalf.EINVALID, field)
	}
}

func TestDeleteConnection(t *testing.T) {
	e := newEnv(t)
	e.addUser("zu_ann")
	id := e.connect(t, "zu_ann", "user-1")["id"].(string)
	r := e.call(t, http.MethodDelete, "/api/v1/connections/"+id, nil)
	if r.status != http.StatusNoContent || len(r.body) != 0 || r.header.Get(api.HeaderRevokeError) != "" {
		t.Fatalf("delete: %d %q %v", r.status, r.body, r.header)
	}
	if e.zoom.Revocations() != 1 || e.zoom.CurrentRefreshToken("zu_ann") != "" {
		t.Fatal("the grant was not revoked at Zoom")
	}
	e.call(t, http.MethodGet, "/api/v1/connections/"+id, nil).wantError(t, 404, onbehalf.ENOTFOUND, "id")
	e.call(t, http.MethodDelete, "/api/v1/connections/"+id, nil).wantError(t, 404, onbehalf.ENOTFOUND, "id")
	if evs := e.events(t, onbehalf.EventConnectionDeleted); len(evs) != 1 || evs[0]["connection_id"] != id {
		t.Fatalf("deleted events %v", evs)
	}

	// Zoom cannot revoke (the grant is gone there already): the deletion
	// stands, and the reply says so.
	id = e.connect(t, "zu_ann", "user-1")["id"].(string)
	e.zoom.RevokeGrant("zu_ann")
	r = e.call(t, http.MethodDelete, "/api/v1/connections/"+id, nil)
	if r.status != http.StatusNoContent || !strings.Contains(r.header.Get(api.HeaderRevokeError), "Zoom refused to revoke") {
		t.Fatalf("delete after revoke: %d %v", r.status, r.header)
	}
	e.call(t, http.MethodGet, "/api/v1/connections/"+id, nil).wantError(t, 404, onbehalf.ENOTFOUND, "id")
}
