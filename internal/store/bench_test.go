package store

// Benchmarks of the store's hot path: reading one connection, which every
// token callback does once. They use the exported API only, so that they
// measure what callers pay (bbolt read transaction, JSON decode, unsealing).
//
//	go test -run='^$' -bench=. -benchmem ./internal/store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// benchStore opens a store on a temp file and writes n connections with
// UpsertConnection; it returns the store and the ID of the last one.
// Tokens are as long as real Zoom ones are in shape only (prefix + 26
// characters, like the fake Zoom's).
func benchStore(b *testing.B, n int) (*Store, string) {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	bg := context.Background()
	var id string
	for i := range n {
		zid := fmt.Sprintf("zu_bench_%07d", i)
		c, err := s.UpsertConnection(bg,
			onbehalf.ZoomUser{ID: zid, AccountID: "acct_bench", Email: zid + "@example.com", DisplayName: "Bench User"},
			onbehalf.Token{AccessToken: "zat_ABCDEFGHIJKLMNOPQRSTUVWXYZ", RefreshToken: "zrt_ABCDEFGHIJKLMNOPQRSTUVWXYZ",
				Expiry: time.Now().Add(time.Hour).UTC(), Scope: "user:read:user user:read:token user:read:zak"})
		if err != nil {
			b.Fatal(err)
		}
		id = c.ID
	}
	return s, id
}

// BenchmarkConnection reads one connection (Store.Connection), as every
// token callback does, with 1 and with 10,000 connections in the file.
func BenchmarkConnection(b *testing.B) {
	for _, n := range []int{1, 10_000} {
		b.Run(fmt.Sprintf("conns=%d", n), func(b *testing.B) {
			s, id := benchStore(b, n)
			bg := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				c, err := s.Connection(bg, id)
				if err != nil || c.Token.AccessToken == "" {
					b.Fatal(c, err)
				}
			}
		})
	}
	b.Run("conns=1/parallel", func(b *testing.B) {
		s, id := benchStore(b, 1)
		bg := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Connection(bg, id); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkConnectionMissing reads an unknown ID (a 404 callback).
func BenchmarkConnectionMissing(b *testing.B) {
	s, _ := benchStore(b, 1)
	bg := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Connection(bg, "AAAAAAAAAAAAAAAAAAAAAA"); onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND {
			b.Fatal(err)
		}
	}
}

// TestImportConnectionsLikeUpsert checks that ImportConnections stores
// what UpsertConnection would: readable, indexed by Zoom user (a later
// upsert keeps the ID), and in the due index.
func TestImportConnectionsLikeUpsert(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "import.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bg := context.Background()
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	items := []ConnectionImport{
		{User: onbehalf.ZoomUser{ID: "zu_i1", Email: "i1@example.com", DisplayName: "I One"}, Token: onbehalf.Token{AccessToken: "a1", RefreshToken: "r1", Expiry: exp}},
		{User: onbehalf.ZoomUser{ID: "zu_i2", Email: "i2@example.com"}, Token: onbehalf.Token{AccessToken: "a2", RefreshToken: "r2", Expiry: exp.Add(time.Minute)}},
	}
	ids, err := s.ImportConnections(bg, items)
	if err != nil || len(ids) != 2 || ids[0] == ids[1] {
		t.Fatal(ids, err)
	}
	again, err := s.ImportConnections(bg, items[:1])
	if err != nil || again[0] != ids[0] {
		t.Fatalf("re-import: %v %v, want ID %s kept", again, err, ids[0])
	}
	c, err := s.Connection(bg, ids[0])
	if err != nil || c.ZoomUserID != "zu_i1" || c.Email != "i1@example.com" || c.DisplayName != "I One" ||
		c.Token.AccessToken != "a1" || !c.Token.Expiry.Equal(exp) || !c.Connected() {
		t.Fatalf("read back: %+v %v", c, err)
	}
	up, err := s.UpsertConnection(bg, items[1].User, onbehalf.Token{AccessToken: "a3", RefreshToken: "r3", Expiry: exp})
	if err != nil || up.ID != ids[1] {
		t.Fatalf("upsert after import: %+v %v, want ID %s", up, err, ids[1])
	}
	due, err := s.DueBefore(bg, exp.Add(time.Hour), 10)
	if err != nil || len(due) != 2 {
		t.Fatalf("due index: %v %v", due, err)
	}
	if n, _ := s.CountConnections(bg); n != 2 {
		t.Fatalf("%d connections", n)
	}
	if _, err := s.ImportConnections(bg, []ConnectionImport{{}}); onbehalf.ErrorCode(err) != onbehalf.EINVALID {
		t.Fatalf("no user ID: %v", err)
	}
}

// BenchmarkImportConnections writes connections in batches of 10,000
// (one transaction each); ns/op is per connection.
func BenchmarkImportConnections(b *testing.B) {
	s, _ := benchStore(b, 0)
	bg := context.Background()
	exp := time.Now().Add(time.Hour).UTC()
	batch := make([]ConnectionImport, 0, 10_000)
	n := 0
	flush := func() {
		if _, err := s.ImportConnections(bg, batch); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	b.ReportAllocs()
	for b.Loop() {
		zid := fmt.Sprintf("zu_import_%08d", n)
		n++
		batch = append(batch, ConnectionImport{
			User:  onbehalf.ZoomUser{ID: zid, AccountID: "acct_bench", Email: zid + "@example.com", DisplayName: "Bench User"},
			Token: onbehalf.Token{AccessToken: "zat_ABCDEFGHIJKLMNOPQRSTUVWXYZ", RefreshToken: "zrt_ABCDEFGHIJKLMNOPQRSTUVWXYZ", Expiry: exp},
		})
		if len(batch) == cap(batch) {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
}

// BenchmarkSaveToken commits a refreshed pair (one fsynced bbolt write
// transaction): the cost of a refresh on the store side, and the rate at
// which connections can be written one by one.
func BenchmarkSaveToken(b *testing.B) {
	s, id := benchStore(b, 1)
	bg := context.Background()
	tok := onbehalf.Token{AccessToken: "zat_ABCDEFGHIJKLMNOPQRSTUVWXYZ", RefreshToken: "zrt_ABCDEFGHIJKLMNOPQRSTUVWXYZ",
		Expiry: time.Now().Add(time.Hour).UTC()}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.SaveToken(bg, id, tok); err != nil {
			b.Fatal(err)
		}
	}
}
