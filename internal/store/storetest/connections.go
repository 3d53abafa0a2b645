package storetest

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// testConnectCreatesAndRevives: a new Zoom user gets a new ID; the same
// user authorizing again keeps the ID and creation time and is revived.
func testConnectCreatesAndRevives(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	t0 := h.Clock.Now()
	c1, created, err := st.Connect(ctx, grant(h, "zu1", "1"))
	if err != nil || !created {
		t.Fatalf("first Connect: created=%v err=%v", created, err)
	}
	if len(c1.ID) < 16 || c1.State != onbehalf.StateConnected || c1.Token != pair("1", t0.Add(time.Hour)) ||
		c1.DisplayName != "Ada Lovelace" || c1.Email != "zu1@example.com" || c1.AccountID != "acct-zu1" ||
		!c1.CreatedAt.Equal(t0) || !c1.RefreshedAt.Equal(t0) {
		t.Fatalf("connected: %+v", c1)
	}
	if got := read(t, st, c1.ID); got.Token != c1.Token || got.ZoomUserID != "zu1" {
		t.Fatalf("read back: %+v", got)
	}
	ev, _ := st.EventsAfter(ctx, 0, 10)
	if len(ev) != 1 || ev[0].Type != onbehalf.EventConnectionCreated || connData(t, ev[0]).ConnectionID != c1.ID {
		t.Fatalf("events %s, want connection.created for %s", eventTypes(ev), c1.ID)
	}

	h.Clock.Advance(time.Minute)
	if _, err := st.MarkDisconnected(ctx, c1.ID, "zrt_1", "Zoom refused the refresh token."); err != nil {
		t.Fatal(err)
	}
	seq := lastSeq(t, st)
	t1 := h.Clock.Advance(time.Minute)
	c2, created, err := st.Connect(ctx, grant(h, "zu1", "2"))
	if err != nil || created {
		t.Fatalf("second Connect: created=%v err=%v", created, err)
	}
	if c2.ID != c1.ID || !c2.CreatedAt.Equal(t0) || !c2.Connected() || c2.DisconnectedReason != "" ||
		!c2.DisconnectedAt.IsZero() || c2.Token.RefreshToken != "zrt_2" || !c2.UpdatedAt.Equal(t1) {
		t.Fatalf("re-authorization must keep the ID and revive: %+v", c2)
	}
	d := connData(t, onlyEvent(t, st, seq, onbehalf.EventConnectionReconnected))
	if d.ConnectionID != c1.ID || d.ZoomUserID != "zu1" || d.State != onbehalf.StateConnected {
		t.Fatalf("reconnected data %+v", d)
	}

	other := connect(t, st, grant(h, "zu2", "3"))
	if other.ID == c1.ID {
		t.Fatal("two Zoom users share a connection ID")
	}
	seq = lastSeq(t, st)
	_, _, err = st.Connect(ctx, onbehalf.Authorization{Token: pair("4", t1)})
	wantCode(t, "Connect without a Zoom user ID", err, onbehalf.EINVALID)
	noEvents(t, st, seq, "a refused Connect")
}

// testConnectExternalUserAndMetadata: the external user ID and metadata
// are set when given and kept when not; another external user never takes
// the connection over (connection.conflict), but a connection with none
// may be claimed.
func testConnectExternalUserAndMetadata(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	withUser := func(ext, meta string) onbehalf.Authorization {
		a := grant(h, "zu1", "x")
		a.ExternalUserID = ext
		if meta != "" {
			a.Metadata = json.RawMessage(meta)
		}
		return a
	}
	check := func(c *onbehalf.Connection, ext, meta string) {
		t.Helper()
		for _, got := range []*onbehalf.Connection{c, read(t, st, c.ID)} {
			if got.ExternalUserID != ext || !sameJSON(got.Metadata, json.RawMessage(meta)) {
				t.Fatalf("external user %q metadata %s, want %q %s", got.ExternalUserID, got.Metadata, ext, meta)
			}
		}
	}
	c := connect(t, st, withUser("u-1", `{"plan":"pro"}`))
	check(c, "u-1", `{"plan":"pro"}`)
	ev, _ := st.EventsAfter(ctx, 0, 10)
	if d := connData(t, ev[0]); d.ExternalUserID != "u-1" || !sameJSON(d.Metadata, json.RawMessage(`{"plan":"pro"}`)) || d.PreviousExternalUserID != "" {
		t.Fatalf("created data %+v", d)
	}

	check(connect(t, st, withUser("", "")), "u-1", `{"plan":"pro"}`)
	check(connect(t, st, withUser("u-1", `{"plan":"team"}`)), "u-1", `{"plan":"team"}`)

	// Another external user never takes the connection over: the holder
	// keeps it (and its metadata), only its token pair is renewed.
	seq := lastSeq(t, st)
	other := withUser("u-2", `{"plan":"free"}`)
	other.Token = pair("y", h.Clock.Now().Add(time.Hour))
	_, _, err := st.Connect(ctx, other)
	wantCode(t, "Connect for another external user", err, onbehalf.ECONFLICT)
	if cc, ok := errors.AsType[*onbehalf.ConnectConflict](err); !ok || cc.ConnectionID != c.ID || cc.ExternalUserID != "u-1" ||
		cc.RequestedExternalUserID != "u-2" || cc.ZoomUserID != "zu1" {
		t.Fatalf("conflict detail %+v (%v)", cc, err)
	}
	held := read(t, st, c.ID)
	check(held, "u-1", `{"plan":"team"}`)
	if held.Token.RefreshToken != other.Token.RefreshToken || !held.Connected() {
		t.Fatalf("held connection's pair %+v, want the fresh grant's", held.Token)
	}
	d := connData(t, onlyEvent(t, st, seq, onbehalf.EventConnectionConflict))
	if d.ConnectionID != c.ID || d.ExternalUserID != "u-1" || d.RequestedExternalUserID != "u-2" || d.ZoomUserID != "zu1" {
		t.Fatalf("conflict data %+v", d)
	}
	if got, _, err := st.ListConnections(ctx, onbehalf.ConnectionFilter{ExternalUserID: "u-2"}); err != nil || len(got) != 0 {
		t.Fatalf("u-2 lists %s (%v)", ids(got), err)
	}
	if got, _, _ := st.ListConnections(ctx, onbehalf.ConnectionFilter{ExternalUserID: "u-1"}); ids(got) != c.ID {
		t.Fatalf("u-1 lists %s", ids(got))
	}

	// A disconnected holder is revived by the fresh grant, still its own.
	if _, err := st.MarkDisconnected(ctx, c.ID, other.Token.RefreshToken, "test"); err != nil {
		t.Fatal(err)
	}
	seq = lastSeq(t, st)
	_, _, err = st.Connect(ctx, withUser("u-3", ""))
	wantCode(t, "Connect a disconnected connection for another external user", err, onbehalf.ECONFLICT)
	if evs := eventsSince(t, st, seq); eventTypes(evs) != "["+onbehalf.EventConnectionReconnected+" "+onbehalf.EventConnectionConflict+"]" {
		t.Fatalf("events %s", eventTypes(evs))
	}
	if got := read(t, st, c.ID); !got.Connected() || got.ExternalUserID != "u-1" {
		t.Fatalf("revived holder %+v", got)
	}

	// A connection with no external user yet is claimed.
	free := connect(t, st, grant(h, "zu2", "z"))
	claim := grant(h, "zu2", "z2")
	claim.ExternalUserID = "u-9"
	if got := connect(t, st, claim); got.ID != free.ID || got.ExternalUserID != "u-9" {
		t.Fatalf("claimed %+v", got)
	}

	_, _, err = st.Connect(ctx, withUser("u-3", `{"a":`))
	wantCode(t, "Connect with metadata that is not JSON", err, onbehalf.EINVALID)
}

// testConnectConcurrentSameUser: concurrent grants of one Zoom user make
// one connection, reported created once.
func testConnectConcurrentSameUser(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]bool{}
	createdN := 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, created, err := h.Store.Connect(ctx, grant(h, "zu1", string(rune('a'+i))))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			seen[c.ID] = true
			if created {
				createdN++
			}
		}()
	}
	wg.Wait()
	if len(seen) != 1 || createdN != 1 {
		t.Fatalf("%d IDs, %d reported created; want 1 and 1", len(seen), createdN)
	}
	evs := eventsSince(t, h.Store, 0)
	if len(evs) != n || evs[0].Type != onbehalf.EventConnectionCreated {
		t.Fatalf("events %s: want one created then reconnected ones", eventTypes(evs))
	}
}

// testConnectionLookups: by ID and by Zoom user, copies, ENOTFOUND.
func testConnectionLookups(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	c := connect(t, st, grant(h, "zu1", "1"))
	byZoom, err := st.ConnectionByZoomUser(ctx, "zu1")
	if err != nil || byZoom.ID != c.ID || byZoom.Token != c.Token {
		t.Fatalf("ConnectionByZoomUser: %+v %v", byZoom, err)
	}
	got := read(t, st, c.ID)
	got.Token.AccessToken, got.Email = "changed by a caller", "x"
	if again := read(t, st, c.ID); again.Token != c.Token || again.Email != c.Email {
		t.Fatalf("a caller's change reached the store: %+v", again)
	}
	_, err = st.Connection(ctx, "AAAAAAAAAAAAAAAAAAAAAA")
	wantCode(t, "Connection(unknown)", err, onbehalf.ENOTFOUND)
	_, err = st.ConnectionByZoomUser(ctx, "zu-unknown")
	wantCode(t, "ConnectionByZoomUser(unknown)", err, onbehalf.ENOTFOUND)
}

// testListConnectionsFilters: every filter, alone and together.
func testListConnectionsFilters(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	mk := func(zu, ext string) *onbehalf.Connection {
		h.Clock.Advance(time.Second)
		a := grant(h, zu, zu)
		a.ExternalUserID = ext
		return connect(t, st, a)
	}
	a, b, c, d := mk("zu1", "X"), mk("zu2", "Y"), mk("zu3", "X"), mk("zu4", "")
	if _, err := st.MarkDisconnected(ctx, b.ID, "zrt_zu2", "revoked"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		f    onbehalf.ConnectionFilter
		want string
	}{
		{onbehalf.ConnectionFilter{}, idsOf(a, b, c, d)},
		{onbehalf.ConnectionFilter{ExternalUserID: "X"}, idsOf(a, c)},
		{onbehalf.ConnectionFilter{ExternalUserID: "Y"}, idsOf(b)},
		{onbehalf.ConnectionFilter{ExternalUserID: "Z"}, ""},
		{onbehalf.ConnectionFilter{ZoomUserID: "zu3"}, idsOf(c)},
		{onbehalf.ConnectionFilter{ZoomUserID: "zu9"}, ""},
		{onbehalf.ConnectionFilter{State: onbehalf.StateConnected}, idsOf(a, c, d)},
		{onbehalf.ConnectionFilter{State: onbehalf.StateDisconnected}, idsOf(b)},
		{onbehalf.ConnectionFilter{ExternalUserID: "X", State: onbehalf.StateConnected}, idsOf(a, c)},
		{onbehalf.ConnectionFilter{ExternalUserID: "Y", State: onbehalf.StateConnected}, ""},
		{onbehalf.ConnectionFilter{ZoomUserID: "zu2", ExternalUserID: "Y"}, idsOf(b)},
		{onbehalf.ConnectionFilter{ZoomUserID: "zu2", ExternalUserID: "X"}, ""},
		{onbehalf.ConnectionFilter{ZoomUserID: "zu2", State: onbehalf.StateConnected}, ""},
	} {
		got, next, err := st.ListConnections(ctx, tc.f)
		if err != nil || ids(got) != tc.want || next != "" {
			t.Errorf("ListConnections(%+v) = %s next %q err %v, want %s", tc.f, ids(got), next, err, tc.want)
		}
	}
	if got, _, _ := st.ListConnections(ctx, onbehalf.ConnectionFilter{}); len(got) == 4 && got[0].Token != a.Token {
		t.Errorf("listed connection lacks its data: %+v", got[0])
	}
}

// testListConnectionsPages: oldest first, Limit, and a cursor that skips
// and repeats nothing while connections are added.
func testListConnectionsPages(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	var all []*onbehalf.Connection
	mk := func(zu, ext string) *onbehalf.Connection {
		h.Clock.Advance(time.Second)
		a := grant(h, zu, zu)
		a.ExternalUserID = ext
		c := connect(t, st, a)
		all = append(all, c)
		return c
	}
	for _, zu := range []string{"zu1", "zu2", "zu3", "zu4", "zu5"} {
		mk(zu, map[bool]string{true: "X", false: "Y"}[zu != "zu2"])
	}
	page := func(f onbehalf.ConnectionFilter) ([]*onbehalf.Connection, string) {
		t.Helper()
		got, next, err := st.ListConnections(ctx, f)
		if err != nil {
			t.Fatalf("ListConnections(%+v): %v", f, err)
		}
		return got, next
	}
	p1, c1 := page(onbehalf.ConnectionFilter{Limit: 2})
	if ids(p1) != idsOf(all[0], all[1]) || c1 == "" {
		t.Fatalf("page 1: %s next %q", ids(p1), c1)
	}
	connect(t, st, grant(h, "zu1", "again")) // a reconnect keeps its place
	six := mk("zu6", "X")                    // a new one comes last
	p2, c2 := page(onbehalf.ConnectionFilter{Limit: 2, Cursor: c1})
	if ids(p2) != idsOf(all[2], all[3]) || c2 == "" {
		t.Fatalf("page 2: %s next %q", ids(p2), c2)
	}
	p3, c3 := page(onbehalf.ConnectionFilter{Limit: 2, Cursor: c2})
	if ids(p3) != idsOf(all[4], six) || c3 != "" {
		t.Fatalf("page 3: %s next %q, want the last two and no cursor", ids(p3), c3)
	}
	if got, next := page(onbehalf.ConnectionFilter{Limit: 100}); len(got) != 6 || next != "" {
		t.Fatalf("one large page: %d next %q", len(got), next)
	}

	// A filtered listing pages the same way.
	var seen []*onbehalf.Connection
	cursor := ""
	for range 10 {
		got, next := page(onbehalf.ConnectionFilter{ExternalUserID: "X", Limit: 1, Cursor: cursor})
		seen = append(seen, got...)
		if cursor = next; cursor == "" {
			break
		}
	}
	if ids(seen) != idsOf(all[0], all[2], all[3], all[4], six) {
		t.Fatalf("paging external user X: %s", ids(seen))
	}
}

// testListBadCursor: a cursor the store did not write is EINVALID about
// the field "cursor", for connections and bots.
func testListBadCursor(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	for _, bad := range []string{"x", "not-a-cursor", "c1.", "%%%", "eyJpZCI6MX0"} {
		_, _, err := h.Store.ListConnections(ctx, onbehalf.ConnectionFilter{Cursor: bad})
		wantCode(t, "ListConnections cursor "+bad, err, onbehalf.EINVALID)
		if onbehalf.ErrorField(err) != "cursor" {
			t.Fatalf("cursor %q: field %q, want cursor", bad, onbehalf.ErrorField(err))
		}
		_, _, err = h.Store.ListBots(ctx, onbehalf.BotFilter{Cursor: bad})
		wantCode(t, "ListBots cursor "+bad, err, onbehalf.EINVALID)
		if onbehalf.ErrorField(err) != "cursor" {
			t.Fatalf("bots cursor %q: field %q, want cursor", bad, onbehalf.ErrorField(err))
		}
	}
}

// testNoteMinted: MintedAt follows, only forwards; unknown IDs skipped;
// nothing else changes and no event is written.
func testNoteMinted(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	c := connect(t, st, grant(h, "zu1", "1"))
	seq := lastSeq(t, st)
	t1 := h.Clock.Advance(time.Minute)
	if err := st.NoteMinted(ctx, map[string]time.Time{c.ID: t1, "AAAAAAAAAAAAAAAAAAAAAA": t1}); err != nil {
		t.Fatal(err)
	}
	got := read(t, st, c.ID)
	if !got.MintedAt.Equal(t1) || got.Token != c.Token || !got.UpdatedAt.Equal(c.UpdatedAt) {
		t.Fatalf("after NoteMinted: %+v", got)
	}
	if err := st.NoteMinted(ctx, map[string]time.Time{c.ID: t1.Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, st, c.ID); !got.MintedAt.Equal(t1) {
		t.Fatalf("an older time moved MintedAt back to %v", got.MintedAt)
	}
	if err := st.NoteMinted(ctx, nil); err != nil {
		t.Fatal(err)
	}
	noEvents(t, st, seq, "NoteMinted")
}

// testCountConnections follows every change of state.
func testCountConnections(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	want := func(connected, disconnected int) {
		t.Helper()
		n, err := st.CountConnections(ctx)
		if err != nil || n[onbehalf.StateConnected] != connected || n[onbehalf.StateDisconnected] != disconnected {
			t.Fatalf("counts %v (%v), want %d connected, %d disconnected", n, err, connected, disconnected)
		}
	}
	want(0, 0)
	a, b := connect(t, st, grant(h, "zu1", "1")), connect(t, st, grant(h, "zu2", "2"))
	connect(t, st, grant(h, "zu3", "3"))
	connect(t, st, grant(h, "zu1", "1b"))
	want(3, 0)
	if _, err := st.MarkDisconnected(ctx, a.ID, "zrt_1b", "revoked"); err != nil {
		t.Fatal(err)
	}
	want(2, 1)
	if _, err := st.DeleteConnection(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	want(1, 1)
	connect(t, st, grant(h, "zu1", "1c"))
	want(2, 0)
	if _, err := st.DeleteByZoomUser(ctx, "zu1", time.Time{}); err != nil {
		t.Fatal(err)
	}
	want(1, 0)
}
