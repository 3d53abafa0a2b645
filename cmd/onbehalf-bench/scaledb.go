package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store/storetest"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
	bbolt "go.etcd.io/bbolt"
)

// fill adds n filler connections to a database with storetest.Seed
// (ImportConnections, storetest.SeedBatch per transaction), or (how =
// "upsert") one Connect each, as OAuth callbacks write them. The records
// are the same; their access tokens expire in 55 minutes, so no refresh
// falls due while the bench runs.
func fill(db *database, n, tokenLen int, how string) error {
	if n <= 0 {
		return nil
	}
	st, err := db.open(nil)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	t0 := time.Now()
	exp := time.Now().Add(55 * time.Minute).UTC()
	grant := func(i int) onbehalf.Authorization {
		id := fmt.Sprintf("zu_fill_%07d", i)
		return onbehalf.Authorization{
			User: onbehalf.ZoomUser{ID: id, AccountID: "acct_fill_0001", Email: id + "@example.com",
				FirstName: "Filler", LastName: fmt.Sprint(i), DisplayName: "Filler User " + fmt.Sprint(i), Status: "active"},
			Token: onbehalf.Token{AccessToken: "zat_" + randToken(tokenLen), RefreshToken: "zrt_" + randToken(tokenLen),
				Expiry: exp, Scope: zoomdemo.Scope},
		}
	}
	step, shown := max(n/10, 1), 0
	progress := func(done int) {
		if done/step != shown/step || done == n {
			shown = done
			el := time.Since(t0)
			fmt.Printf("  %d written, %s, %.0f/s\n", done, round(el), float64(done)/el.Seconds())
		}
	}
	if how == fillUpsert {
		fmt.Printf("\nwriting %d filler connections with store.Connect (one transaction each)…\n", n)
		for i := range n {
			if _, _, err := st.Connect(ctx, grant(i)); err != nil {
				return fmt.Errorf("filling (%d written): %w", i, err)
			}
			progress(i + 1)
		}
		return nil
	}
	fmt.Printf("\nwriting %d filler connections with storetest.Seed (ImportConnections, %d per transaction)…\n", n, storetest.SeedBatch)
	if _, err := storetest.Seed(ctx, st, n, grant, progress); err != nil {
		return fmt.Errorf("filling: %w", err)
	}
	return nil
}

// printDBStats prints what the database holds: per bbolt bucket or
// PostgreSQL table, its size and keys or rows.
func printDBStats(db *database) error {
	if db.kind == storeBolt {
		return printBoltStats(db.path)
	}
	tables, err := db.tableSizes()
	if err != nil {
		return err
	}
	size, err := db.size()
	if err != nil {
		return err
	}
	fmt.Printf("  %-22s %9s %16s %16s\n", "table", "rows", "with indexes", "heap")
	var conns, connBytes int64
	for _, t := range tables {
		if t.total < 128<<10 && t.name != "connections" {
			continue
		}
		fmt.Printf("  %-22s %9d %13.2f MB %13.2f MB\n", t.name, t.rows, mb(t.total), mb(t.heap))
		if t.name == "connections" {
			conns, connBytes = t.rows, t.total
		}
	}
	fmt.Printf("  database %.2f MB (pg_database_size)\n", mb(size))
	if conns > 0 {
		fmt.Printf("  per connection: %.0f B of the connections table with its indexes, %.0f B of the database\n",
			float64(connBytes)/float64(conns), float64(size)/float64(conns))
	}
	return nil
}

// printBoltStats prints what the bbolt file holds: per bucket, the keys and
// the bytes allocated to and used by its pages, and the free pages.
func printBoltStats(path string) error {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return err
	}
	defer db.Close()
	var conns int
	fmt.Printf("  %-16s %9s %13s %13s\n", "bucket", "keys", "allocated", "in use")
	var alloc, inuse int
	err = db.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			st := b.Stats()
			a, u := st.BranchAlloc+st.LeafAlloc, st.BranchInuse+st.LeafInuse
			alloc, inuse = alloc+a, inuse+u
			if string(name) == "connections" {
				conns = st.KeyN
			}
			fmt.Printf("  %-16s %9d %10.2f MB %10.2f MB\n", name, st.KeyN, mb(int64(a)), mb(int64(u)))
			return nil
		})
	})
	if err != nil {
		return err
	}
	fs := db.Stats()
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	free := int64(fs.FreePageN) * int64(db.Info().PageSize)
	fmt.Printf("  file %.2f MB: pages of buckets %.2f MB (%.2f MB in use), free pages %.2f MB, rest (meta, freelist, growth slack) %.2f MB\n",
		mb(fi.Size()), mb(int64(alloc)), mb(int64(inuse)), mb(free), mb(fi.Size()-int64(alloc)-free))
	if conns > 0 {
		fmt.Printf("  per connection: %.0f B of file, %.0f B of bucket pages, %.0f B in use\n",
			float64(fi.Size())/float64(conns), float64(alloc)/float64(conns), float64(inuse)/float64(conns))
	}
	return nil
}

// randToken returns a random token body: n characters of base64url, or
// 26 characters (as long as the fake Zoom's) when n is 0.
func randToken(n int) string {
	if n == 0 {
		return rand.Text()
	}
	b := make([]byte, (n*3+3)/4)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

// copyDir copies the regular files of one folder into a new one (the
// database, its key file).
func copyDir(from, to string) error {
	if err := os.MkdirAll(to, 0o700); err != nil {
		return err
	}
	ents, err := os.ReadDir(from)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() || strings.HasSuffix(e.Name(), ".lock") {
			continue
		}
		if err := copyFile(filepath.Join(from, e.Name()), filepath.Join(to, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
