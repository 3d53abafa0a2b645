package postgres

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store/postgres/pgtest"
	"github.com/onbehalf/onbehalf/internal/store/storetest"
)

// TestRealDiskFull fills a real disk under PostgreSQL: the store's tables
// live in a tablespace on a 1 MB tmpfs (the WAL stays on the server's own
// disk, so the server keeps running). Writes then fail with the server's
// disk_full: ESTORAGE saying the disk is full, Writable saying the same,
// reads going on; once the disk grows, writes work again and Writable
// turns healthy by itself. It needs root (mount) and a server on this
// machine, and skips otherwise.
func TestRealDiskFull(t *testing.T) {
	u, schema := pgtest.Schema(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	var dataDir string
	probe := mustOpen(t, u, Options{})
	err := probe.pool.QueryRow(ctx, "SELECT current_setting('data_directory')").Scan(&dataDir)
	probe.Close()
	if err != nil {
		t.Skipf("cannot read the server's data directory: %v", err)
	}
	fi, err := os.Stat(dataDir)
	if err != nil {
		t.Skipf("the server's data directory is not on this machine: %v", err)
	}
	dir, err := os.MkdirTemp("", "onbehalf-ts-")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		os.Remove(dir)
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	ts := "ts_" + schema
	t.Cleanup(func() {
		pgtest.Exec(t, fmt.Sprintf("DROP SCHEMA %s CASCADE", schema))
		pgtest.Exec(t, "CREATE SCHEMA "+schema) // for pgtest's own cleanup
		pgtest.Exec(t, "DROP TABLESPACE IF EXISTS "+ts)
		_ = exec.Command("umount", dir).Run()
		os.Remove(dir)
	})
	st := fi.Sys().(*syscall.Stat_t)
	if err := os.Chown(dir, int(st.Uid), int(st.Gid)); err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, fmt.Sprintf("CREATE TABLESPACE %s LOCATION '%s'", ts, dir))
	// Start again with the store's tables in the small tablespace.
	pgtest.Exec(t, fmt.Sprintf("DROP SCHEMA %s CASCADE", schema))
	pgtest.Exec(t, "CREATE SCHEMA "+schema)

	clk := storetest.NewClock()
	s := mustOpen(t, u+"&default_tablespace="+ts, Options{Now: clk.Now, ProbeInterval: 20 * time.Millisecond})
	first, _, err := s.Connect(ctx, grantOf(clk, "zu-first", "1"))
	if err != nil {
		t.Fatal(err)
	}
	var full error
	n := 0
	for ; n < 20000 && full == nil; n++ {
		items := make([]onbehalf.Authorization, 100)
		for i := range items {
			items[i] = grantOf(clk, fmt.Sprintf("zu-%d-%d", n, i), strings.Repeat("x", 200))
		}
		_, full = s.ImportConnections(ctx, items)
	}
	if onbehalf.ErrorCode(full) != onbehalf.ESTORAGE || !strings.Contains(onbehalf.ErrorMessage(full), "is full") {
		t.Fatalf("after %d batches: %v, want ESTORAGE saying the disk is full", n, full)
	}
	t.Logf("the disk filled after %d batches: %s", n, onbehalf.ErrorMessage(full))
	if w := s.Writable(ctx); onbehalf.ErrorMessage(w) != onbehalf.ErrorMessage(full) {
		t.Fatalf("Writable: %v", w)
	}
	if got, err := s.Connection(ctx, first.ID); err != nil || got.Token.RefreshToken != "zrt_1" {
		t.Fatalf("read while the disk is full: %+v %v", got, err)
	}
	if _, _, err := s.Connect(ctx, grantOf(clk, "zu-late", strings.Repeat("y", 4000))); onbehalf.ErrorCode(err) != onbehalf.ESTORAGE {
		t.Fatalf("Connect while the disk is full: %v", err)
	}

	if out, err := exec.Command("mount", "-o", "remount,size=64m", dir).CombinedOutput(); err != nil {
		t.Fatalf("growing the tmpfs: %v %s", err, out)
	}
	deadline := time.Now().Add(15 * time.Second)
	for s.Writable(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("Writable still %v after the disk grew", s.Writable(ctx))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := s.SaveToken(ctx, first.ID, "zrt_1", onbehalf.Token{AccessToken: "a", RefreshToken: "zrt_2", Expiry: clk.Now().Add(time.Hour)}); err != nil {
		t.Fatalf("SaveToken once the disk grew: %v", err)
	}
}
