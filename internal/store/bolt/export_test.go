package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
	"github.com/onbehalf/onbehalf/internal/store/storetest"
)

// recorder is a store.Sink that keeps what it receives.
type recorder struct {
	conns    []*onbehalf.Connection
	bots     []*onbehalf.Bot
	events   []store.EventRecord
	lastSeq  int64
	keys     []onbehalf.APIKey
	links    []store.LinkRecord
	secrets  map[string]string
	settings map[string]string
}

func (r *recorder) Connection(_ context.Context, c *onbehalf.Connection) error {
	r.conns = append(r.conns, c)
	return nil
}
func (r *recorder) Bot(_ context.Context, b *onbehalf.Bot) error {
	r.bots = append(r.bots, b)
	return nil
}
func (r *recorder) Event(_ context.Context, e store.EventRecord) error {
	r.events = append(r.events, e)
	return nil
}
func (r *recorder) EventSeq(_ context.Context, last int64) error { r.lastSeq = last; return nil }
func (r *recorder) APIKey(_ context.Context, k onbehalf.APIKey) error {
	r.keys = append(r.keys, k)
	return nil
}
func (r *recorder) Link(_ context.Context, l store.LinkRecord) error {
	r.links = append(r.links, l)
	return nil
}
func (r *recorder) Secret(_ context.Context, name, value string) error {
	r.secrets[name] = value
	return nil
}
func (r *recorder) Setting(_ context.Context, name, value string) error {
	r.settings[name] = value
	return nil
}

// TestExportReadOnly exports a filled database opened read-only: every
// record comes out in clear, with the delivery state, and the file and
// its folder are left as they were (no key file, no reserve, no write).
func TestExportReadOnly(t *testing.T) {
	clk := storetest.NewClock()
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "onbehalf.db")
	s := mustOpen(t, path, Options{Now: clk.Now, DeliverEvents: true, ReserveBytes: NoReserve})
	c := connectUser(t, s, user("zu1"), tok("1"))
	gone := connectUser(t, s, user("zu2"), tok("2"))
	if _, err := s.MarkDisconnected(ctx, gone.ID, tok("2").RefreshToken, "revoked"); err != nil {
		t.Fatal(err)
	}
	b := &onbehalf.Bot{Platform: "recall", PlatformBotID: "rb-1", ConnectionID: c.ID, Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}}
	if err := s.CreateBot(ctx, b); err != nil {
		t.Fatal(err)
	}
	evs, _ := s.EventsAfter(ctx, 0, 0)
	if err := s.DeliveryFailed(ctx, evs[0].ID, clk.Now(), clk.Now().Add(time.Minute), "HTTP 500"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeliveryDone(ctx, evs[1].ID, clk.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateConnectLink(ctx, onbehalf.ConnectLink{ID: "cl_export", Secret: "link-0123456789abcdef", ExternalUserID: "u-1",
		Metadata: json.RawMessage(`{"a":1}`), ExpiresAt: clk.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAPIKey(ctx, onbehalf.APIKey{ID: "k1", Name: "one", Hash: bytes.Repeat([]byte{7}, 32), Prefix: "obk_k1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Secret(ctx, "session_secret", func() (string, error) { return "s3cret", nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMeta(ctx, "m", "v"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	before := listing(t, dir)
	raw, _ := os.ReadFile(path)

	ro, err := OpenReadOnly(path, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{secrets: map[string]string{}, settings: map[string]string{}}
	if err := ro.Export(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ro.Connect(ctx, onbehalf.Authorization{User: user("zu3"), Token: tok("3")}); err == nil {
		t.Fatal("a write through a read-only store worked")
	}
	ro.Close()

	if len(rec.conns) != 2 || len(rec.bots) != 1 || len(rec.events) != len(evs) || rec.lastSeq != evs[len(evs)-1].Seq ||
		len(rec.keys) != 1 || len(rec.links) != 1 || rec.secrets["session_secret"] != "s3cret" || rec.settings["m"] != "v" {
		t.Fatalf("exported %+v", rec)
	}
	for _, got := range rec.conns {
		if got.ID == c.ID && (got.Token != c.Token || got.Email != c.Email) {
			t.Fatalf("exported connection %+v, want %+v", got, c)
		}
	}
	if d := rec.events[0].Delivery; !d.Pending || d.Attempts != 1 || d.LastError != "HTTP 500" || !d.Due.Equal(clk.Now().Add(time.Minute)) {
		t.Fatalf("failed delivery exported as %+v", d)
	}
	if d := rec.events[1].Delivery; d.Pending || !d.DoneAt.Equal(clk.Now()) {
		t.Fatalf("done delivery exported as %+v", d)
	}
	if l := rec.links[0]; l.Key != store.LinkKey("link-0123456789abcdef") || string(l.Metadata) != `{"a":1}` {
		t.Fatalf("link exported as %+v", l)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(raw, after) || listing(t, dir) != before {
		t.Fatalf("the export changed the folder: %s, was %s", listing(t, dir), before)
	}
}

// TestOpenReadOnlyRefuses: a running onbehalf's file, a missing file, a
// missing key.
func TestOpenReadOnlyRefuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "onbehalf.db")
	if _, err := OpenReadOnly(path, Options{Logger: quiet}); err == nil || !strings.Contains(err.Error(), "no database") {
		t.Fatalf("missing file: %v", err)
	}
	s := mustOpen(t, path, Options{ReserveBytes: NoReserve})
	connectUser(t, s, user("zu1"), tok("1"))
	if _, err := OpenReadOnly(path, Options{Logger: quiet, Timeout: 50 * time.Millisecond}); err == nil || !strings.Contains(err.Error(), "stop it first") {
		t.Fatalf("file of a running onbehalf: %v", err)
	}
	s.Close()
	if err := os.Rename(path+".key", path+".key.moved"); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenReadOnly(path, Options{Logger: quiet}); err == nil || !strings.Contains(err.Error(), "key file") {
		t.Fatalf("missing key: %v", err)
	}
}

// listing names the files of a folder with their sizes.
func listing(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		fi, _ := e.Info()
		out = append(out, e.Name()+":"+fi.ModTime().String())
	}
	return strings.Join(out, " ")
}
