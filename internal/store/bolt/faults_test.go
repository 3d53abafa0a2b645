//go:build linux || darwin

package bolt

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/logtest"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

func TestStorageErrorsSayWhatToDo(t *testing.T) {
	for _, tc := range []struct {
		err   error
		words []string
	}{
		{syscall.ENOSPC, []string{"DB_PATH (/srv/data)", "is full", "free some space", "nothing was lost"}},
		{syscall.EDQUOT, []string{"DB_PATH (/srv/data)", "quota", "nothing was lost"}},
		{syscall.EROFS, []string{"DB_PATH (/srv/data)", "read-only", "remount"}},
		{syscall.EIO, []string{"DB_PATH (/srv/data)", "I/O errors"}},
		{&os.PathError{Op: "write", Path: "/srv/data/onbehalf.db", Err: syscall.ENOSPC}, []string{"is full"}},
		{syscall.EACCES, []string{"DB_PATH (/srv/data)", "cannot be written", "permission"}},
	} {
		e := storageError(tc.err, "/srv/data")
		if e.Code != onbehalf.ESTORAGE {
			t.Fatalf("%v: code %s", tc.err, e.Code)
		}
		for _, w := range tc.words {
			if !strings.Contains(e.Message, w) {
				t.Errorf("%v: message %q lacks %q", tc.err, e.Message, w)
			}
		}
	}
}

// logTo returns a logger writing text records to buf.
func logTo(buf *logtest.Buffer) *slog.Logger { return slog.New(slog.NewTextHandler(buf, nil)) }

// reserveBlocks is the space a reserve file really takes (not its
// apparent size).
func reserveBlocks(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("reserve: %v", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fi.Size()
	}
	return int64(st.Blocks) * 512
}

// TestReserveSavesTheCommit: a commit that fails for lack of space frees
// the reserve and goes through on the retry; the log says so at ERROR;
// Writable tells the disk is nearly full until the reserve is back.
func TestReserveSavesTheCommit(t *testing.T) {
	var log logtest.Buffer
	path := filepath.Join(t.TempDir(), "r.db")
	s := mustOpen(t, path, Options{ReserveBytes: 256 << 10, ProbeInterval: time.Hour, Logger: logTo(&log)})
	if got := reserveBlocks(t, path+".reserve"); got < 256<<10 {
		t.Fatalf("reserve takes %d bytes on disk, want 256 KiB of real blocks (not a sparse file)", got)
	}
	if err := s.Writable(ctx); err != nil {
		t.Fatalf("Writable with the reserve in place: %v", err)
	}
	c := connectUser(t, s, user("zu1"), tok("1"))

	s.fault.Store(&fault{err: &os.PathError{Op: "write", Path: path, Err: syscall.ENOSPC}, once: true})
	if _, err := s.SaveToken(ctx, c.ID, "rt1", tok("2")); err != nil {
		t.Fatalf("SaveToken with the reserve to free: %v", err)
	}
	if got, _ := s.Connection(ctx, c.ID); got.Token != tok("2") {
		t.Fatalf("the retried commit is not there: %+v", got.Token)
	}
	if _, err := os.Stat(path + ".reserve"); !os.IsNotExist(err) {
		t.Fatalf("reserve still there: %v", err)
	}
	if !strings.Contains(log.String(), "level=ERROR") || !strings.Contains(log.String(), "emergency reserve") {
		t.Fatalf("log: %s", log.String())
	}
	// Writes work (no refresh is refused), but the operator is told.
	if w := s.Writable(ctx); w != nil {
		t.Fatalf("Writable after using the reserve: %v, want nil: writes work", w)
	}
	w := s.Health(ctx)
	if onbehalf.ErrorCode(w) != onbehalf.ESTORAGE || !strings.Contains(onbehalf.ErrorMessage(w), "nearly full") ||
		!strings.Contains(onbehalf.ErrorMessage(w), "emergency reserve was used") {
		t.Fatalf("Health after using the reserve: %v", w)
	}
	// Writes keep working meanwhile.
	if _, err := s.SaveToken(ctx, c.ID, "rt2", tok("3")); err != nil {
		t.Fatal(err)
	}
	// With the disk full for good, nothing is left to free: ESTORAGE.
	s.FailWrites(syscall.ENOSPC)
	_, err := s.SaveToken(ctx, c.ID, "rt3", tok("4"))
	if onbehalf.ErrorCode(err) != onbehalf.ESTORAGE || !strings.Contains(onbehalf.ErrorMessage(err), "is full") {
		t.Fatalf("SaveToken with the reserve gone: %v", err)
	}
	if w := s.Writable(ctx); onbehalf.ErrorMessage(w) != onbehalf.ErrorMessage(err) {
		t.Fatalf("Writable %v, want the write's error", w)
	}
	if w := s.Health(ctx); onbehalf.ErrorMessage(w) != onbehalf.ErrorMessage(err) {
		t.Fatalf("Health %v, want the write's error", w)
	}
	s.FailWrites(nil)
	s.probe() // writes work again and the disk has room: the reserve comes back
	if err := s.Health(ctx); err != nil {
		t.Fatalf("Health after the probe: %v", err)
	}
	if got := reserveBlocks(t, path+".reserve"); got < 256<<10 {
		t.Fatalf("recreated reserve takes %d bytes", got)
	}
	if got, _ := s.Connection(ctx, c.ID); got.Token != tok("3") {
		t.Fatalf("committed pair after all that: %+v", got.Token)
	}
}

// TestProbeHealsWithoutWrites: after a failure, the background probe
// finds out that writes work again, with no caller writing.
func TestProbeHealsWithoutWrites(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "p.db"), Options{ReserveBytes: NoReserve, ProbeInterval: 5 * time.Millisecond})
	s.FailWrites(syscall.EROFS)
	if err := s.SetMeta(ctx, "a", "b"); !strings.Contains(onbehalf.ErrorMessage(err), "read-only") {
		t.Fatalf("SetMeta on a read-only file system: %v", err)
	}
	time.Sleep(20 * time.Millisecond)
	if err := s.Writable(ctx); onbehalf.ErrorCode(err) != onbehalf.ESTORAGE {
		t.Fatalf("Writable while the probe fails: %v", err)
	}
	s.FailWrites(nil)
	deadline := time.Now().Add(5 * time.Second)
	for s.Writable(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("the probe never healed: %v", s.Writable(ctx))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestReserveKeptAcrossOpens: a whole reserve found at open is kept, a
// damaged one replaced, and none is made with NoReserve.
func TestReserveKeptAcrossOpens(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "k.db")
	s := mustOpen(t, path, Options{ReserveBytes: 128 << 10})
	fi1, _ := os.Stat(path + ".reserve")
	s.Close()
	s = mustOpen(t, path, Options{ReserveBytes: 128 << 10})
	if fi2, _ := os.Stat(path + ".reserve"); fi1 == nil || fi2 == nil || !os.SameFile(fi1, fi2) {
		t.Fatal("a whole reserve was rewritten at open")
	}
	s.Close()
	os.Truncate(path+".reserve", 10)
	s = mustOpen(t, path, Options{ReserveBytes: 128 << 10})
	if fi, _ := os.Stat(path + ".reserve"); fi == nil || fi.Size() != 128<<10 {
		t.Fatalf("damaged reserve not replaced: %v", fi)
	}
	s.Close()
	other := filepath.Join(dir, "none.db")
	mustOpen(t, other, Options{ReserveBytes: NoReserve})
	if _, err := os.Stat(other + ".reserve"); !os.IsNotExist(err) {
		t.Fatalf("NoReserve made a reserve: %v", err)
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}
}

// TestNoRoomForReserveIsReported: when the disk has no room for the
// reserve at open, Health says the disk is nearly full (Writable does not:
// writes work).
func TestNoRoomForReserveIsReported(t *testing.T) {
	free, known := freeBytes(t.TempDir())
	if !known {
		t.Skip("this system does not report free space")
	}
	huge := int64(free) // needs twice as much
	s := mustOpen(t, filepath.Join(t.TempDir(), "n.db"), Options{ReserveBytes: huge})
	if err := s.Writable(ctx); err != nil {
		t.Fatalf("Writable = %v, want nil", err)
	}
	err := s.Health(ctx)
	if onbehalf.ErrorCode(err) != onbehalf.ESTORAGE || !strings.Contains(onbehalf.ErrorMessage(err), "no room for the emergency reserve") {
		t.Fatalf("Health = %v", err)
	}
	if err := s.SetMeta(ctx, "still", "writes"); err != nil {
		t.Fatalf("writes must keep working: %v", err)
	}
}
