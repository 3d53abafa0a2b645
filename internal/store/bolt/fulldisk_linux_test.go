//go:build linux

package bolt

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/logtest"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// mountTmpfs mounts a tmpfs of the given size on a fresh folder and
// unmounts it when the test ends; it skips the test where mounting is not
// permitted.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tmpfs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		t.Skip("the real full-disk test mounts a small tmpfs and needs root; run the tests as root to include it")
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "size="+size+",mode=0700"); err != nil {
		t.Skipf("the real full-disk test cannot mount a tmpfs here (%v): it needs CAP_SYS_ADMIN (root outside a restricted container)", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
		}
	})
	return dir
}

// TestRealDiskFull fills a real 3 MiB file system with connections and
// refreshes, as the fault campaign measured it: no pair the store acknowledged is
// ever lost, failures say the disk is full, the reserve buys time,
// Writable and Health tell the truth all along, and once space is freed writes work
// again.
func TestRealDiskFull(t *testing.T) {
	dir := mountTmpfs(t, "3m")
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "data", "onbehalf.db")
	var log logtest.Buffer
	opts := Options{ReserveBytes: 256 << 10, ProbeInterval: 20 * time.Millisecond, Logger: logTo(&log), Timeout: time.Second}
	// While the disk fills, no background probe: its small write may fit
	// in pages bbolt has freed and rightly clear the failure before the
	// test reads it (seen under load). The reopened store probes, as it
	// must to notice the space freed below.
	filling := opts
	filling.ProbeInterval = time.Hour
	s, err := Open(path, filling)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	if err := s.Writable(ctx); err != nil {
		t.Fatalf("Writable on an empty 3 MiB disk: %v", err)
	}

	committed := map[string]string{} // connection ID → the refresh token the store acknowledged
	var order []string
	meta := json.RawMessage(`{"note":"` + strings.Repeat("m", 400) + `"}`)
	var full error
	sawNearlyFull := false
	exp := time.Now().Add(time.Hour).UTC()
	for i := 0; full == nil && i < 50_000; i++ {
		a := onbehalf.Authorization{User: user(fmt.Sprintf("zu%05d", i)), Metadata: meta,
			Token: onbehalf.Token{AccessToken: fmt.Sprintf("zat_%05d_%s", i, strings.Repeat("a", 40)), RefreshToken: fmt.Sprintf("zrt_%05d_0", i), Expiry: exp}}
		c, _, err := s.Connect(ctx, a)
		if err != nil {
			full = err
			break
		}
		committed[c.ID], order = a.Token.RefreshToken, append(order, c.ID)
		for j := range 3 { // refreshes of earlier connections
			id := order[(i*7+j*13)%len(order)]
			next := onbehalf.Token{AccessToken: "zat_r", RefreshToken: fmt.Sprintf("zrt_%05d_%d", i, j+1), Expiry: exp}
			if _, err := s.SaveToken(ctx, id, committed[id], next); err != nil {
				full = err
				break
			}
			committed[id] = next.RefreshToken
		}
		if full != nil {
			break
		}
		if w := s.Writable(ctx); w != nil {
			t.Fatalf("Writable after a write that worked: %v", w)
		}
		if w := s.Health(ctx); w != nil {
			if !strings.Contains(onbehalf.ErrorMessage(w), "nearly full") {
				t.Fatalf("Health after a write that worked: %v", w)
			}
			sawNearlyFull = true
		}
	}
	t.Logf("disk full after %d connections: %v", len(order), full)
	if onbehalf.ErrorCode(full) != onbehalf.ESTORAGE || !strings.Contains(onbehalf.ErrorMessage(full), "is full") ||
		!strings.Contains(onbehalf.ErrorMessage(full), dir) {
		t.Fatalf("the write that hit the full disk: %v, want ESTORAGE saying the disk holding DB_PATH is full", full)
	}
	if _, err := os.Stat(path + ".reserve"); !os.IsNotExist(err) {
		t.Fatalf("the reserve was not used: %v", err)
	}
	if !strings.Contains(log.String(), "level=ERROR") || !strings.Contains(log.String(), "deleted the emergency reserve") {
		t.Fatalf("no ERROR about the reserve in the log:\n%s", log.String())
	}
	if !sawNearlyFull {
		t.Fatal("Health never said the disk was nearly full between using the reserve and the disk filling up")
	}
	if w := s.Writable(ctx); onbehalf.ErrorMessage(w) != onbehalf.ErrorMessage(full) {
		t.Fatalf("Writable %v while the disk is full, want %v", w, full)
	}
	checkCommitted(t, s, committed)

	// A restart on the full disk opens and serves every pair.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(path, opts); err != nil {
		t.Fatalf("Open on a full disk: %v", err)
	}
	// No write failed yet in this process, but no reserve could be made:
	// Health says so.
	if w := s.Health(ctx); onbehalf.ErrorCode(w) != onbehalf.ESTORAGE {
		t.Fatalf("Health after a restart on a full disk: %v", w)
	}
	checkCommitted(t, s, committed)

	// Space freed: writes work again, and the reserve comes back.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	id := order[0]
	if _, err := s.SaveToken(ctx, id, committed[id], onbehalf.Token{AccessToken: "zat_after", RefreshToken: "zrt_after", Expiry: exp}); err != nil {
		t.Fatalf("SaveToken after freeing space: %v", err)
	}
	committed[id] = "zrt_after"
	deadline := time.Now().Add(10 * time.Second)
	for s.Health(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("Health after freeing space: %v", s.Health(ctx))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if fi, err := os.Stat(path + ".reserve"); err != nil || fi.Size() != opts.ReserveBytes {
		t.Fatalf("reserve after freeing space: %v %v", fi, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(path, opts); err != nil {
		t.Fatal(err)
	}
	checkCommitted(t, s, committed)
	if n, _ := s.CountConnections(ctx); n[onbehalf.StateConnected] != len(committed) {
		t.Fatalf("%v connections, want %d", n, len(committed))
	}
}

// checkCommitted checks that every connection holds the last refresh
// token the store acknowledged for it.
func checkCommitted(t *testing.T, s *Store, committed map[string]string) {
	t.Helper()
	for id, rt := range committed {
		c, err := s.Connection(ctx, id)
		if err != nil || c.Token.RefreshToken != rt || !c.Connected() {
			t.Fatalf("connection %s: %v %v, want refresh token %s (acknowledged, so never lost)", id, c, err, rt)
		}
	}
}
