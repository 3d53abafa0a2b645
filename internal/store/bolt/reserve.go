package bolt

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
)

// reserve is the emergency ballast: a file of real blocks next to the
// database that the store deletes when a commit fails for lack of space,
// so that the commit (a rotated token pair that Zoom will not issue again)
// can be retried into the room it frees. It is recreated once there is
// room again. While it is missing, Writable says the disk is nearly full.
type reserve struct {
	path string
	size int64 // <= 0: no reserve
	log  *slog.Logger

	mu      sync.Mutex
	present bool
	reason  string // why it is missing
	freed   uint64 // how many times it was released
}

// reasonUsed is why the reserve is missing after a full disk took it.
const reasonUsed = "the emergency reserve was used"

// reserveChunk is how much of the reserve is written at a time.
const reserveChunk = 1 << 20

// newReserve returns the reserve kept at path; nothing is created yet.
func newReserve(path string, size int64, log *slog.Logger) *reserve {
	return &reserve{path: path, size: size, log: log, reason: "the emergency reserve is not in place yet"}
}

// ok reports whether the reserve is in place (or none is wanted).
func (r *reserve) ok() bool {
	if r.size <= 0 {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.present
}

// why says why the reserve is missing, for Writable.
func (r *reserve) why() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reason
}

// release deletes the reserve; it reports whether that freed any space.
func (r *reserve) release() bool {
	if r.size <= 0 {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.present {
		return false
	}
	r.present = false
	r.reason = reasonUsed
	if err := os.Remove(r.path); err != nil {
		r.log.Error("store: could not delete the emergency reserve", "path", r.path, "err", err)
		return false
	}
	r.freed++
	return true
}

// releases counts the releases so far, so that a write that failed for
// lack of space knows whether another writer freed the reserve meanwhile.
func (r *reserve) releases() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.freed
}

// ensure puts the reserve in place when it is missing and the disk has
// room for it and as much again, so that taking it back does not fill the
// disk at once. A reserve file of the right size found at open is kept.
func (r *reserve) ensure() {
	if r.size <= 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.present {
		return
	}
	if fi, err := os.Stat(r.path); err == nil && fi.Size() == r.size {
		r.present = true
		return
	}
	if free, known := freeBytes(filepath.Dir(r.path)); known && free < 2*uint64(r.size) {
		r.missing(fmt.Sprintf("there is no room for the emergency reserve (%d MiB and as much again)", r.size>>20), nil)
		return
	}
	if err := writeReserve(r.path, r.size); err != nil {
		r.missing(fmt.Sprintf("the emergency reserve could not be created (%v)", err), err)
		return
	}
	if r.reason == reasonUsed {
		r.log.Info("store: the emergency reserve is back in place", "path", r.path, "bytes", r.size)
	}
	r.present, r.reason = true, ""
}

// missing records why the reserve is not in place, logging the first
// time a reason appears.
func (r *reserve) missing(reason string, err error) {
	if r.reason == reasonUsed {
		return // still the more telling reason
	}
	if r.reason != reason {
		r.log.Warn("store: no emergency reserve", "path", r.path, "reason", reason, "err", err)
	}
	r.reason = reason
}

// writeReserve creates the reserve file with real blocks (zeros written,
// not a sparse file, which would free nothing), made durable before it is
// renamed into place, so that a reserve file found at open is whole.
func writeReserve(path string, size int64) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	err = fillZeros(f, size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// fillZeros writes size zero bytes to f.
func fillZeros(f *os.File, size int64) error {
	buf := make([]byte, min(size, reserveChunk))
	for left := size; left > 0; {
		n, err := f.Write(buf[:min(left, int64(len(buf)))])
		if err != nil {
			return err
		}
		left -= int64(n)
	}
	return nil
}

// syncDir makes the entries of a folder durable (a file just created or
// renamed in it), as a crash could otherwise lose the file itself.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
