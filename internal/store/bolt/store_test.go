package bolt

import (
	"encoding/json"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
	bbolt "go.etcd.io/bbolt"
)

// openTemp opens a store in a fresh folder (created by Open) without a
// reserve.
func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "onbehalf.db")
	return mustOpen(t, path, Options{Timeout: 200 * time.Millisecond, ReserveBytes: NoReserve}), path
}

func user(id string) onbehalf.ZoomUser {
	return onbehalf.ZoomUser{ID: id, AccountID: "acct", Email: id + "@example.com", FirstName: "Ada", LastName: "Lovelace"}
}

func tok(n string) onbehalf.Token {
	return onbehalf.Token{AccessToken: "at" + n, RefreshToken: "rt" + n, Expiry: time.Unix(1_900_000_000, 0).UTC(), Scope: "user:read:token"}
}

// connectUser stores a grant and fails the test on error.
func connectUser(t testing.TB, s *Store, u onbehalf.ZoomUser, tk onbehalf.Token) *onbehalf.Connection {
	t.Helper()
	c, _, err := s.Connect(ctx, onbehalf.Authorization{User: u, Token: tk})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestIDsAreRandom128Bits(t *testing.T) {
	s, _ := openTemp(t)
	c := connectUser(t, s, user("zu1"), tok("1"))
	if len(c.ID) != 22 {
		t.Fatalf("ID %q: want 22 chars of base64url (128 bits)", c.ID)
	}
	evs, _ := s.EventsAfter(ctx, 0, 1)
	if len(evs) != 1 || len(evs[0].ID) != 26 || !strings.HasPrefix(evs[0].ID, "evt_") {
		t.Fatalf("event ID %+v", evs)
	}
}

func TestSecondProcessGetsClearErrorQuickly(t *testing.T) {
	_, path := openTemp(t)
	// bbolt's flock is per open file description, so a second Open in the
	// same process behaves like a second process.
	start := time.Now()
	_, err := Open(path, Options{Timeout: 300 * time.Millisecond, Logger: quiet})
	if err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("got %v, want a lock error", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("took %s", time.Since(start))
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	s, path := openTemp(t)
	if err := s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, []byte("99"))
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(path, Options{Logger: quiet}); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("got %v", err)
	}
}

func TestConcurrentReadersAndWriter(t *testing.T) {
	s, _ := openTemp(t)
	c := connectUser(t, s, user("zu1"), tok("0"))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				got, err := s.Connection(ctx, c.ID)
				if err != nil || got.Token.RefreshToken == "" || got.ID != c.ID {
					t.Errorf("reader: %v %+v", err, got)
					return
				}
			}
		}()
	}
	from := "rt0"
	for i := range 50 {
		next := tok(string(rune('a' + i%26)))
		next.RefreshToken += "-" + string(rune('0'+i/26))
		if _, err := s.SaveToken(ctx, c.ID, from, next); err != nil {
			t.Fatal(err)
		}
		from = next.RefreshToken
	}
	close(stop)
	wg.Wait()
}

func TestCachedReadsFollowWrites(t *testing.T) {
	s, _ := openTemp(t)
	a := onbehalf.Authorization{User: user("zu1"), Token: tok("1"), Metadata: json.RawMessage(`{"a":1}`)}
	c, _, err := s.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 { // warm the cache
		got, _ := s.Connection(ctx, c.ID)
		got.Token.AccessToken = "mutated by a caller"
		got.Metadata[1] = 'X'
	}
	if got, _ := s.Connection(ctx, c.ID); got.Token != tok("1") || string(got.Metadata) != `{"a":1}` {
		t.Fatalf("a caller's change leaked into the cache: %+v %s", got.Token, got.Metadata)
	}
	minted := time.Now().UTC().Truncate(time.Second)
	if err := s.NoteMinted(ctx, map[string]time.Time{c.ID: minted}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Connection(ctx, c.ID); !got.MintedAt.Equal(minted) || got.Token != tok("1") {
		t.Fatalf("stale after NoteMinted: %+v", got)
	}
	s.SaveToken(ctx, c.ID, "rt1", tok("2"))
	if got, _ := s.Connection(ctx, c.ID); got.Token != tok("2") {
		t.Fatalf("stale after SaveToken: %+v", got.Token)
	}
	s.MarkDisconnected(ctx, c.ID, "rt2", "gone")
	if got, _ := s.Connection(ctx, c.ID); got.Connected() {
		t.Fatal("stale after MarkDisconnected")
	}
	s.DeleteConnection(ctx, c.ID)
	if _, err := s.Connection(ctx, c.ID); onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND {
		t.Fatalf("after delete: %v", err)
	}
	// A bounded cache keeps working past its size.
	small := mustOpen(t, filepath.Join(t.TempDir(), "small.db"), Options{CacheSize: 2, ReserveBytes: NoReserve})
	var ids []string
	for _, u := range []string{"a", "b", "c", "d"} {
		ids = append(ids, connectUser(t, small, user(u), tok(u)).ID)
	}
	for range 2 {
		for i, id := range ids {
			if got, err := small.Connection(ctx, id); err != nil || got.Token != tok(string("abcd"[i])) {
				t.Fatalf("small cache read %d: %v", i, err)
			}
		}
	}
	if n := len(small.cache.m); n > 2 {
		t.Fatalf("cache holds %d entries, bound 2", n)
	}
}

// TestDeleteRemovesEveryIndexEntry looks into the buckets: nothing of a
// deleted connection is left but its sealed connection.deleted event.
func TestDeleteRemovesEveryIndexEntry(t *testing.T) {
	s, _ := openTemp(t)
	a := onbehalf.Authorization{User: user("zu1"), Token: tok("1"), ExternalUserID: "ext-1"}
	c, _, err := s.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteByZoomUser(ctx, "zu1", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := s.db.View(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketConnections, bucketByZoomUser, bucketByExpiry, bucketConnsByCreated, bucketConnsByExternal} {
			if k, _ := tx.Bucket(b).Cursor().First(); k != nil {
				t.Errorf("bucket %s still holds %q", b, k)
			}
		}
		meta := tx.Bucket(bucketMeta)
		for _, st := range []onbehalf.ConnState{onbehalf.StateConnected, onbehalf.StateDisconnected} {
			if n := readCount(meta, countPrefix+string(st)); n != 0 {
				t.Errorf("count %s = %d", st, n)
			}
		}
		uses := 0
		for _, n := range keyUse(meta) {
			uses += n
		}
		if events := tx.Bucket(bucketEvents).Stats().KeyN; uses != events {
			t.Errorf("key use counts %d, want one per sealed event (%d)", uses, events)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if again := connectUser(t, s, user("zu1"), tok("2")); again.ID == c.ID {
		t.Fatal("deleted connection ID reused")
	}
}

// TestExpiredLinksArePruned: links that expired more than a day ago go
// when the next link is made, with their sealed metadata's key use.
func TestExpiredLinksArePruned(t *testing.T) {
	clk := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { return clk }
	s := mustOpen(t, filepath.Join(t.TempDir(), "l.db"), Options{Now: now, ReserveBytes: NoReserve})
	old := onbehalf.ConnectLink{ID: "cl_old", Secret: "link-old-0123456789", ExternalUserID: "u", Metadata: json.RawMessage(`{"a":1}`), ExpiresAt: clk.Add(time.Hour)}
	if err := s.CreateConnectLink(ctx, old); err != nil {
		t.Fatal(err)
	}
	clk = clk.Add(24*time.Hour + 30*time.Minute) // expired 23.5 h ago: kept, says expired
	if err := s.CreateConnectLink(ctx, onbehalf.ConnectLink{ID: "cl_new1", Secret: "link-new-1", ExpiresAt: clk.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseConnectLink(ctx, old.Secret, clk); onbehalf.ErrorCode(err) != onbehalf.ECONFLICT {
		t.Fatalf("recently expired link: %v, want ECONFLICT", err)
	}
	clk = clk.Add(time.Hour)
	if err := s.CreateConnectLink(ctx, onbehalf.ConnectLink{ID: "cl_new2", Secret: "link-new-2", ExpiresAt: clk.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConnectLink(ctx, old.Secret); onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND {
		t.Fatalf("link expired over a day ago: %v, want pruned", err)
	}
	if _, err := s.ConnectLinkByID(ctx, old.ID); onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND {
		t.Fatalf("link expired over a day ago, by ID: %v, want pruned", err)
	}
	s.db.View(func(tx *bbolt.Tx) error {
		if n := tx.Bucket(bucketLinksByExpiry).Stats().KeyN; n != 2 {
			t.Errorf("expiry index holds %d entries, want 2", n)
		}
		if n := tx.Bucket(bucketLinksByID).Stats().KeyN; n != 2 {
			t.Errorf("ID index holds %d entries, want 2", n)
		}
		if uses := keyUse(tx.Bucket(bucketMeta)); len(uses) != 0 {
			t.Errorf("key use counts left by the pruned link: %v", uses)
		}
		return nil
	})
}

// TestProbeGoroutineStopsOnClose: opening and closing stores leaves no
// goroutine behind.
func TestProbeGoroutineStopsOnClose(t *testing.T) {
	dir := t.TempDir()
	before := runtime.NumGoroutine()
	for i := range 20 {
		s, err := Open(filepath.Join(dir, "p.db"), Options{ProbeInterval: time.Millisecond, ReserveBytes: NoReserve, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			time.Sleep(2 * time.Millisecond)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	}
	time.Sleep(10 * time.Millisecond)
	if after := runtime.NumGoroutine(); after > before+2 {
		t.Fatalf("%d goroutines before, %d after 20 open/close", before, after)
	}
}

// TestUseAfterClose: a closed store says so instead of panicking.
func TestUseAfterClose(t *testing.T) {
	s, _ := openTemp(t)
	s.Close()
	if _, err := s.Connection(ctx, "x"); onbehalf.ErrorCode(err) != onbehalf.EUNAVAILABLE {
		t.Fatalf("read after Close: %v", err)
	}
	if err := s.SetMeta(ctx, "a", "b"); onbehalf.ErrorCode(err) != onbehalf.EUNAVAILABLE {
		t.Fatalf("write after Close: %v", err)
	}
	if err := s.Writable(ctx); err != nil {
		t.Fatalf("Writable after Close: %v (closing is not a disk problem)", err)
	}
}

// TestCursorIsSharedFormat: a page's cursor is the shared store format.
func TestCursorIsSharedFormat(t *testing.T) {
	s, _ := openTemp(t)
	a := connectUser(t, s, user("a"), tok("a"))
	connectUser(t, s, user("b"), tok("b"))
	_, next, err := s.ListConnections(ctx, onbehalf.ConnectionFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if at, id, err := store.DecodeCursor(next); err != nil || id != a.ID || !at.Equal(a.CreatedAt) {
		t.Fatalf("cursor %q = %v %q %v", next, at, id, err)
	}
}
