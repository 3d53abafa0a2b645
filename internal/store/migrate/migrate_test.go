package migrate

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/clocktest"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/seal"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
	"github.com/onbehalf/onbehalf/internal/store/postgres"
	"github.com/onbehalf/onbehalf/internal/store/postgres/pgtest"
	"github.com/onbehalf/onbehalf/internal/store/storetest"
)

var ctx = context.Background()

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// source is a bbolt install filled through its public API, and what the
// test expects to find again.
type source struct {
	path                 string
	live, gone, moved    *onbehalf.Connection
	bot                  *onbehalf.Bot
	events               []onbehalf.Event
	lastSeq              int64
	pending              int
	linkUnused, linkUsed string
	key                  onbehalf.APIKey
	secret               string
}

// fill writes a bbolt store the way a running server does: connections
// (one refreshed, one disconnected, one with an external user and
// metadata), a bot with a timeline, events delivered, failed and pending,
// pruned ones, an API key, connect links, secrets and a setting.
func fill(t *testing.T, clk *clocktest.Clock) source {
	t.Helper()
	src := source{path: filepath.Join(t.TempDir(), "data", "onbehalf.db")}
	st, err := bolt.Open(src.path, bolt.Options{Now: clk.Now, DeliverEvents: true, ReserveBytes: bolt.NoReserve, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	grant := func(zu, n, ext, meta string) onbehalf.Authorization {
		a := onbehalf.Authorization{
			User:  onbehalf.ZoomUser{ID: zu, AccountID: "acct-" + zu, Email: zu + "@example.com", DisplayName: "User " + zu},
			Token: onbehalf.Token{AccessToken: "zat_" + n, RefreshToken: "zrt_" + n, Expiry: clk.Now().Add(time.Hour), Scope: "user:read:token"},
		}
		a.ExternalUserID = ext
		if meta != "" {
			a.Metadata = json.RawMessage(meta)
		}
		return a
	}
	connect := func(a onbehalf.Authorization) *onbehalf.Connection {
		c, _, err := st.Connect(ctx, a)
		must(err)
		return c
	}
	// Events that will be pruned: the sequence must survive them.
	old := connect(grant("zu-old", "old", "", ""))
	evs, _ := st.EventsAfter(ctx, 0, 0)
	must(st.DeliveryDone(ctx, evs[0].ID, clk.Now()))
	_, err = st.DeleteConnection(ctx, old.ID)
	must(err)
	evs, _ = st.EventsAfter(ctx, 0, 0)
	must(st.DeliveryDone(ctx, evs[1].ID, clk.Now()))
	clk.Advance(48 * time.Hour)
	n, err := st.PruneEvents(ctx, clk.Now().Add(-time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("pruned %d %v", n, err)
	}

	src.live = connect(grant("zu-live", "1", "ext-1", `{"plan":"pro"}`))
	clk.Advance(time.Minute)
	src.live, err = st.SaveToken(ctx, src.live.ID, "zrt_1", onbehalf.Token{AccessToken: "zat_2", RefreshToken: "zrt_2", Expiry: clk.Now().Add(time.Hour)})
	must(err)
	must(st.NoteMinted(ctx, map[string]time.Time{src.live.ID: clk.Now()}))
	src.live, _ = st.Connection(ctx, src.live.ID)
	src.gone = connect(grant("zu-gone", "g", "", ""))
	src.gone, err = st.MarkDisconnected(ctx, src.gone.ID, "zrt_g", "Zoom said invalid_grant.")
	must(err)
	// (A connection never moves between external users: one with none yet
	// is claimed by the first that names one.)
	connect(grant("zu-moved", "m1", "", `{"a":1}`))
	src.moved = connect(grant("zu-moved", "m2", "ext-b", ""))

	b := &onbehalf.Bot{Platform: "recall", PlatformBotID: "rb-1", ConnectionID: src.live.ID, MeetingID: "85012345678", BotName: "Notetaker", Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}}
	must(st.CreateBot(ctx, b))
	clk.Advance(time.Second)
	_, _, err = st.ApplyStatus(ctx, onbehalf.StatusReport{Platform: "recall", PlatformBotID: "rb-1", EventID: "e1", Status: onbehalf.BotJoining, Code: "bot.joining", At: clk.Now()})
	must(err)
	must(st.RecordTokenFetches(ctx, []onbehalf.TokenFetch{{ConnectionID: src.live.ID, BotID: b.ID, Platform: "recall", At: clk.Now(), Kind: onbehalf.KindOBF, HTTPStatus: 502, Message: "Zoom said no."}}))
	src.bot, _ = st.Bot(ctx, b.ID)

	src.events, _ = st.EventsAfter(ctx, 0, 0)
	must(st.DeliveryDone(ctx, src.events[0].ID, clk.Now()))
	must(st.DeliveryFailed(ctx, src.events[1].ID, clk.Now(), clk.Now().Add(time.Minute), "HTTP 500"))
	src.pending, _ = st.PendingDeliveries(ctx)
	src.lastSeq, _ = st.LastEventSeq(ctx)

	src.key = onbehalf.APIKey{ID: "key1", Name: "backend", Hash: sha(t, "obk_secret"), Prefix: "obk_se", CreatedAt: clk.Now()}
	must(st.CreateAPIKey(ctx, src.key))
	src.linkUnused, src.linkUsed = "link-unused-0123456789abcdef", "link-used-0123456789abcdef"
	for _, secret := range []string{src.linkUnused, src.linkUsed} {
		must(st.CreateConnectLink(ctx, onbehalf.ConnectLink{ID: "cl_" + secret[:9], Secret: secret, ExternalUserID: "ext-9", Metadata: json.RawMessage(`{"team":"blue"}`),
			ReturnTo: "https://app.example.com/done", ExpiresAt: clk.Now().Add(time.Hour)}))
	}
	_, err = st.UseConnectLink(ctx, src.linkUsed, clk.Now())
	must(err)
	must(st.LinkConnectLink(ctx, src.linkUsed, "conn-by-link"))
	src.secret, err = st.Secret(ctx, "obf_callback_secret", func() (string, error) { return "the-callback-secret-0123", nil })
	must(err)
	must(st.SetMeta(ctx, "webhook_url_hash", "abc123"))
	return src
}

// sha returns SHA-256 of s.
func sha(t *testing.T, s string) []byte {
	t.Helper()
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// fileSum returns SHA-256 of a file and its modification time.
func fileSum(t *testing.T, path string) (string, time.Time) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	sum := sha256.Sum256(b)
	return string(sum[:]), fi.ModTime()
}

// openTarget opens a PostgreSQL store on a fresh schema, with its own key.
func openTarget(t *testing.T, clk *clocktest.Clock) (*postgres.Store, string) {
	t.Helper()
	u, _ := pgtest.Schema(t)
	key, _ := seal.NewKey()
	pg, err := postgres.Open(ctx, u, postgres.Options{Keys: [][]byte{key}, Now: clk.Now, DeliverEvents: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	return pg, u
}

func TestCopyEverything(t *testing.T) {
	pgtest.ServerURL(t)
	clk := storetest.NewClock()
	src := fill(t, clk)
	sumBefore, modBefore := fileSum(t, src.path)

	// A running server holds the file: the copy waits, then says so.
	running, err := bolt.Open(src.path, bolt.Options{Now: clk.Now, ReserveBytes: bolt.NoReserve, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bolt.OpenReadOnly(src.path, bolt.Options{Timeout: 100 * time.Millisecond, Logger: quiet}); err == nil || !strings.Contains(err.Error(), "stop it first") {
		t.Fatalf("OpenReadOnly while the server runs: %v", err)
	}
	running.Close()
	sumBefore, modBefore = fileSum(t, src.path)

	from, err := bolt.OpenReadOnly(src.path, bolt.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer from.Close()
	to, _ := openTarget(t, clk)
	counts, err := Copy(ctx, from, to, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if counts.Connections != 3 || counts.Bots != 1 || counts.Events != len(src.events) || counts.APIKeys != 1 ||
		counts.Links != 2 || counts.Secrets != 1 || counts.Settings != 1 || counts.LastEventSeq != src.lastSeq {
		t.Fatalf("copied %s", counts)
	}
	checkCopy(t, clk, src, to)

	// Again into the same database: refused, nothing written.
	if _, err := Copy(ctx, from, to, quiet); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("second copy: %v, want a refusal of a database that is not empty", err)
	}
	from.Close()
	if sum, mod := fileSum(t, src.path); sum != sumBefore || !mod.Equal(modBefore) {
		t.Fatal("the bbolt file changed during the copy")
	}
}

// checkCopy reads everything back through the PostgreSQL store's public
// API.
func checkCopy(t *testing.T, clk *clocktest.Clock, src source, to *postgres.Store) {
	t.Helper()
	for _, want := range []*onbehalf.Connection{src.live, src.gone, src.moved} {
		got, err := to.Connection(ctx, want.ID)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("connection %s:\n got %+v %v\nwant %+v", want.ID, got, err, want)
		}
		if byZoom, err := to.ConnectionByZoomUser(ctx, want.ZoomUserID); err != nil || byZoom.ID != want.ID {
			t.Fatalf("by Zoom user %s: %v %v", want.ZoomUserID, byZoom, err)
		}
	}
	if got, _, _ := to.ListConnections(ctx, onbehalf.ConnectionFilter{ExternalUserID: "ext-b"}); len(got) != 1 || got[0].ID != src.moved.ID {
		t.Fatalf("external user listing: %v", got)
	}
	if due, _ := to.DueBefore(ctx, clk.Now().Add(2*time.Hour), 10); len(due) != 2 {
		t.Fatalf("due after the copy: %v", due)
	}
	// The compare-and-swap works on the copied pair; the dead one stays
	// dead until its user connects again, keeping its ID.
	if _, err := to.SaveToken(ctx, src.live.ID, "zrt_2", onbehalf.Token{AccessToken: "zat_3", RefreshToken: "zrt_3", Expiry: clk.Now().Add(time.Hour)}); err != nil {
		t.Fatalf("SaveToken from the copied refresh token: %v", err)
	}
	if _, err := to.SaveToken(ctx, src.gone.ID, "", onbehalf.Token{AccessToken: "x", RefreshToken: "y"}); onbehalf.ErrorCode(err) != onbehalf.EDISCONNECTED {
		t.Fatalf("SaveToken on the copied disconnected connection: %v", err)
	}
	if got, err := to.Secret(ctx, "obf_callback_secret", nil); err != nil || got != src.secret {
		t.Fatalf("secret %q %v", got, err)
	}
	if v, ok, _ := to.Meta(ctx, "webhook_url_hash"); !ok || v != "abc123" {
		t.Fatalf("setting %q %v", v, ok)
	}
	if got, err := to.Bot(ctx, src.bot.ID); err != nil || !reflect.DeepEqual(got, src.bot) || len(got.Timeline) != 2 {
		t.Fatalf("bot:\n got %+v %v\nwant %+v", got, err, src.bot)
	}
	if got, err := to.BotByPlatformID(ctx, "recall", "rb-1"); err != nil || got.ID != src.bot.ID {
		t.Fatalf("bot by platform ID: %v %v", got, err)
	}
	evs, err := to.EventsAfter(ctx, 0, 0)
	if err != nil || len(evs) != len(src.events) {
		t.Fatalf("events %d %v, want %d", len(evs), err, len(src.events))
	}
	for i := range evs {
		a, b := evs[i], src.events[i]
		if a.ID != b.ID || a.Seq != b.Seq || a.Type != b.Type || !a.Time.Equal(b.Time) || string(a.Data) != string(b.Data) {
			t.Fatalf("event %d: %+v, want %+v", i, a, b)
		}
	}
	if n, _ := to.PendingDeliveries(ctx); n != src.pending {
		t.Fatalf("pending %d, want %d", n, src.pending)
	}
	ds, err := to.ClaimDeliveries(ctx, clk.Now().Add(time.Minute), time.Minute, 100)
	if err != nil || len(ds) != src.pending || ds[0].Event.ID != src.events[1].ID || ds[0].Attempts != 1 || !ds[0].FirstTried.Equal(clk.Now()) {
		t.Fatalf("deliveries after the copy: %+v %v", ds, err)
	}
	c, _, err := to.Connect(ctx, onbehalf.Authorization{User: onbehalf.ZoomUser{ID: "zu-gone"}, Token: onbehalf.Token{AccessToken: "a", RefreshToken: "r"}})
	if err != nil || c.ID != src.gone.ID {
		t.Fatalf("reconnect after the copy: %v %v", c, err)
	}
	if evs, _ := to.EventsAfter(ctx, src.lastSeq, 0); len(evs) != 1 || evs[0].Seq != src.lastSeq+1 {
		t.Fatalf("the next event after the copy: %+v, want seq %d", evs, src.lastSeq+1)
	}
	if keys, _ := to.APIKeys(ctx); len(keys) != 1 || !reflect.DeepEqual(keys[0], src.key) {
		t.Fatalf("API keys %+v, want %+v", keys, src.key)
	}
	if k, err := to.APIKeyByHash(ctx, src.key.Hash); err != nil || k.ID != "key1" {
		t.Fatalf("API key by hash: %v %v", k, err)
	}
	if l, err := to.UseConnectLink(ctx, src.linkUnused, clk.Now()); err != nil || l.ExternalUserID != "ext-9" || string(l.Metadata) != `{"team":"blue"}` {
		t.Fatalf("unused link: %+v %v", l, err)
	}
	if _, err := to.UseConnectLink(ctx, src.linkUsed, clk.Now()); onbehalf.ErrorCode(err) != onbehalf.ECONFLICT {
		t.Fatalf("used link: %v", err)
	}
	if l, err := to.ConnectLinkByID(ctx, "cl_"+src.linkUsed[:9]); err != nil || l.ConnectionID != "conn-by-link" || l.CreatedAt.IsZero() {
		t.Fatalf("used link by ID: %+v %v", l, err)
	}
}

// TestCopyEmpty copies a database that holds nothing.
func TestCopyEmpty(t *testing.T) {
	pgtest.ServerURL(t)
	clk := storetest.NewClock()
	path := filepath.Join(t.TempDir(), "onbehalf.db")
	st, err := bolt.Open(path, bolt.Options{Now: clk.Now, ReserveBytes: bolt.NoReserve, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	from, err := bolt.OpenReadOnly(path, bolt.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer from.Close()
	to, _ := openTarget(t, clk)
	if counts, err := Copy(ctx, from, to, quiet); err != nil || counts.Connections != 0 {
		t.Fatalf("copy of an empty database: %s %v", counts, err)
	}
}
