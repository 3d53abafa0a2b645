package bolt

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	bbolt "go.etcd.io/bbolt"
)

// keyProbe is the meta key the background probe writes to find out
// whether writes work again.
var keyProbe = []byte("probe_at")

// noSpace reports whether a failed write ran out of space (the disk, or
// the user's quota).
func noSpace(err error) bool {
	return isErrno(err, syscall.ENOSPC) || isErrno(err, syscall.EDQUOT)
}

// isErrno reports whether err is, or says it is, the system error e: bbolt
// wraps some file errors as text ("file resize error: no space left on
// device"), which errors.Is cannot see through.
func isErrno(err error, e syscall.Errno) bool {
	return errors.Is(err, e) || strings.HasSuffix(err.Error(), e.Error())
}

// storageError turns a failed commit into the ESTORAGE error that pages,
// /healthz and the log show: what is wrong, where, and what to do, in an
// operator's words. It never holds a secret: only the folder's path.
func storageError(err error, dir string) *onbehalf.Error {
	var msg string
	switch {
	case isErrno(err, syscall.EDQUOT):
		msg = fmt.Sprintf("The disk quota for DB_PATH (%s) is used up: free some space or raise the quota; nothing was lost.", dir)
	case isErrno(err, syscall.ENOSPC):
		msg = fmt.Sprintf("The disk holding DB_PATH (%s) is full: free some space; nothing was lost.", dir)
	case isErrno(err, syscall.EROFS):
		msg = fmt.Sprintf("The file system holding DB_PATH (%s) is read-only: remount it read-write; nothing was lost.", dir)
	case isErrno(err, syscall.EIO):
		msg = fmt.Sprintf("The disk holding DB_PATH (%s) reports I/O errors: check the disk (dmesg) and keep a backup of the database; the last change was not written.", dir)
	default:
		msg = fmt.Sprintf("The database at DB_PATH (%s) cannot be written (%v): check the disk and the file's permissions; the last change was not written.", dir, err)
	}
	return writeFailure(msg, err)
}

// Writable reports whether the store could write the last time it tried
// (or probed): nil, or the ESTORAGE error that says why. The token manager
// starts no refresh while it fails. A used-up emergency reserve does not
// make it fail: writes still work, and the reserve exists so that they do.
func (s *Store) Writable(ctx context.Context) error {
	if err := s.health.Get(); err != nil {
		return err
	}
	return nil
}

// Health is Writable plus the warning an operator must see while the
// emergency reserve is used up (writes still work, but the disk is nearly
// full): what /healthz and the home page report.
func (s *Store) Health(ctx context.Context) error {
	if err := s.Writable(ctx); err != nil {
		return err
	}
	if !s.reserve.ok() {
		return writeFailure(fmt.Sprintf("The disk holding DB_PATH (%s) is nearly full: %s. Free some space; writes still work for now.",
			s.dir, s.reserve.why()), nil)
	}
	return nil
}

// probeLoop runs until Close: while writes fail it tries a small write
// every interval, and while the reserve is missing it recreates it once
// there is room, so that Writable turns healthy without waiting for a
// caller's write.
func (s *Store) probeLoop(every time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.probe()
		}
	}
}

// probe is one round of probeLoop.
func (s *Store) probe() {
	if s.health.Get() != nil {
		err := s.update(func(tx *bbolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(keyProbe, []byte(s.now().UTC().Format(time.RFC3339Nano)))
		})
		if err != nil {
			return
		}
	}
	s.reserve.ensure()
}
