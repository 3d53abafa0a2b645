package bolt

import (
	"errors"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// errNoChange, returned by a write function, rolls its transaction back
// and makes update return nil: there was nothing to write (a duplicate
// status report, a delivery already done). Nothing is committed, so a
// full disk does not fail a write that writes nothing.
var errNoChange = errors.New("bolt: nothing to write")

// fnError carries an error returned by a write function (a domain error,
// a decoding failure) apart from a failed commit, so that only the latter
// is taken for a storage failure.
type fnError struct{ err error }

// Error returns the write function's error text.
func (e fnError) Error() string { return e.err.Error() }

// update is the one path of every write: it runs fn in a write transaction
// and commits it. A commit that fails for lack of space frees the
// emergency reserve and is retried once (fn runs again from scratch, so it
// must set its results anew on each run). A commit that still fails is an
// ESTORAGE error saying why in an operator's words, and Writable reports
// it until a write succeeds again. Errors fn returns are returned as they
// are, and change nothing.
func (s *Store) update(fn func(tx *bbolt.Tx) error) error {
	released := s.reserve.releases()
	err := s.attempt(fn)
	if err == nil {
		s.wrote()
		return nil
	}
	var fe fnError
	if errors.As(err, &fe) {
		if fe.err == errNoChange {
			return nil
		}
		return fe.err
	}
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return store.ErrClosed()
	}
	// Retry into the room the reserve frees: this write's release, or
	// another writer's since this write began.
	if noSpace(err) && (s.reserve.release() || s.reserve.releases() != released) {
		s.log.Error("store: the disk holding the database is full: deleted the emergency reserve to finish a write; free some space now",
			"dir", s.dir, "err", err)
		if err = s.attempt(fn); err == nil {
			s.wrote()
			return nil
		} else if errors.As(err, &fe) {
			return fe.err
		}
	}
	serr := storageError(err, s.dir)
	if s.health.Fail(serr) {
		s.log.Error("store: writes fail", "reason", serr.Message, "err", err)
	}
	return serr
}

// wrote records a successful write, and says so when writes had failed.
func (s *Store) wrote() {
	if s.health.OK() {
		s.log.Info("store: writes work again", "dir", s.dir)
	}
}

// attempt runs fn in one write transaction and commits it. An injected
// fault (FailWrites) takes the place of the commit, so that it goes
// through exactly the path of a real failure: nothing is written.
func (s *Store) attempt(fn func(tx *bbolt.Tx) error) error {
	tx, err := s.db.Begin(true)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	if err := fn(tx); err != nil {
		return fnError{err}
	}
	if f := s.fault.Load(); f != nil {
		if f.once {
			s.fault.CompareAndSwap(f, nil)
		}
		return f.err
	}
	return tx.Commit()
}

// fault is an injected write failure: every commit fails with err until
// it is removed, or only the next one (once).
type fault struct {
	err  error
	once bool
}

// FailWrites makes every later commit fail with err, as if the file
// system had returned it (syscall.ENOSPC, syscall.EROFS, syscall.EIO …),
// until it is called with nil. It is for tests, this package's and its
// callers' (a /healthz that must say the disk is full): the failure takes
// the same path as a real one, emergency reserve included.
func (s *Store) FailWrites(err error) {
	if err == nil {
		s.fault.Store(nil)
		return
	}
	s.fault.Store(&fault{err: err})
}

// writeFailure is how storage failures are reported: an *onbehalf.Error
// with code ESTORAGE.
func writeFailure(message string, err error) *onbehalf.Error {
	return onbehalf.WrapError(err, onbehalf.ESTORAGE, message)
}
