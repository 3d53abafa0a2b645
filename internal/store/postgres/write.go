package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
)

// errNoChange, returned by a write function, rolls its transaction back
// and makes write return nil: there was nothing to write (a duplicate
// status report, a delivery already done). Nothing is committed, so a
// database that cannot write does not fail a write that writes nothing.
var errNoChange = errors.New("postgres: nothing to write")

// maxAttempts bounds how often write runs a transaction that PostgreSQL
// aborted for a conflict with another (a deadlock, a serialization
// failure) or that failed before reaching the server.
const maxAttempts = 4

// write is the one path of every change: it runs fn in a transaction and
// commits it, with the events fn returns written last (events.go), so
// that each change and its events commit together or not at all. fn may
// run more than once (a deadlock with another instance is retried), so
// it must set its results anew on each run.
//
// Errors fn returns as *onbehalf.Error (ENOTFOUND, ECONFLICT …) are
// returned as they are. A failure of the database (disk full, read-only,
// connection lost …) is an ESTORAGE error saying why in an operator's
// words, and Writable reports it until a write succeeds again.
func (s *Store) write(ctx context.Context, fn func(tx pgx.Tx) ([]onbehalf.Event, error)) error {
	if s.closed.Load() {
		return store.ErrClosed()
	}
	var err error
	for try := 1; ; try++ {
		if err = s.attempt(ctx, fn); err == nil || try == maxAttempts || !retryable(err) || ctx.Err() != nil {
			break
		}
	}
	atCommit := true
	if u, ok := err.(uncommitted); ok {
		err, atCommit = u.err, false
	}
	var oe *onbehalf.Error
	switch {
	case err == nil:
		s.wrote()
		return nil
	case errors.Is(err, errNoChange):
		return nil
	case errors.As(err, &oe):
		return err
	case s.closed.Load():
		return store.ErrClosed()
	case ctx.Err() != nil:
		return onbehalf.WrapError(err, onbehalf.ETIMEOUT, "The database did not answer in time; the change was not written.")
	case conflict(err):
		return onbehalf.WrapError(err, onbehalf.EUNAVAILABLE, "The database was busy with conflicting writes; the change was not written: try again.")
	}
	serr := s.storageError(err)
	if serr == nil {
		return err
	}
	if atCommit && lostConnection(err) {
		// The commit was sent: it may have landed. Callers that care
		// (SaveToken) find out by their compare-and-swap on retry.
		serr.Message = strings.Replace(serr.Message, "the last change was not written", "the last change may not have been written", 1)
	}
	if s.health.Fail(serr) {
		s.log.Error("store: writes fail", "reason", serr.Message, "err", err)
	}
	return serr
}

// attempt runs fn and its events in one transaction and commits it. An
// injected fault (FailWrites) makes the server fail the transaction just
// before the commit, so that it takes exactly the path of a real failure:
// nothing is written.
func (s *Store) attempt(ctx context.Context, fn func(tx pgx.Tx) ([]onbehalf.Event, error)) error {
	if err := s.run(ctx, fn); err != nil {
		return err
	}
	s.registered.Store(true)
	return nil
}

// run is attempt's transaction. A failure before the commit is sent is
// marked uncommitted: the transaction certainly wrote nothing, so a lost
// connection can be retried on another.
func (s *Store) run(ctx context.Context, fn func(tx pgx.Tx) ([]onbehalf.Event, error)) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return uncommitted{err}
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit it is a no-op
	if err := s.registerIn(ctx, tx); err != nil {
		return uncommitted{err}
	}
	events, err := fn(tx)
	if err != nil {
		return uncommitted{err}
	}
	if err := s.addEvents(ctx, tx, events); err != nil {
		return uncommitted{err}
	}
	if f := s.fault.Load(); f != nil {
		if _, err := tx.Exec(ctx, qFailSetCode.sql, f.sqlstate); err != nil {
			return uncommitted{err}
		}
		if _, err := tx.Exec(ctx, qFail.sql); err != nil {
			return uncommitted{err}
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	if len(events) > 0 {
		s.Committed()
	}
	return nil
}

// uncommitted marks the failure of a transaction that never sent its
// commit.
type uncommitted struct{ err error }

// Error returns the failure's text.
func (u uncommitted) Error() string { return u.err.Error() }

// Unwrap returns the failure.
func (u uncommitted) Unwrap() error { return u.err }

// retryable reports whether a failed transaction can run again: the
// server aborted it for a conflict with another transaction, or the
// connection failed before the commit was sent (a pooled connection the
// server closed: the next one may work).
func retryable(err error) bool {
	var u uncommitted
	return conflict(err) || pgconn.SafeToRetry(err) || (errors.As(err, &u) && lostConnection(err))
}

// conflict reports whether the server aborted a transaction for a
// conflict with another one (a deadlock, a serialization failure).
func conflict(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// wrote records a successful write, and says so when writes had failed.
func (s *Store) wrote() {
	if s.health.OK() {
		s.log.Info("store: writes work again", "database", s.where)
	}
}

// one reads one row into dest and reports whether there was one, so that
// the caller answers a missing row with its own error.
func one(row pgx.Row, dest ...any) (bool, error) {
	err := row.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
