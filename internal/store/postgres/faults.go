package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// storageError turns a failure of the database into the ESTORAGE error
// that pages, /healthz and the log show: what is wrong, where, and what to
// do, in an operator's words (never a secret: only the server and
// database names). It returns nil for an error that is not the database
// failing (a bug, a constraint the caller handles).
func (s *Store) storageError(err error) *onbehalf.Error {
	msg := storageMessage(err, s.where)
	if msg == "" {
		return nil
	}
	return onbehalf.WrapError(err, onbehalf.ESTORAGE, msg)
}

// storageMessage is storageError's message ("" when err is not a storage
// failure).
func storageMessage(err error, where string) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "53100":
			return fmt.Sprintf("The disk of the PostgreSQL server (%s) is full: free some space there; nothing was lost.", where)
		case pe.Code == "25006":
			return fmt.Sprintf("The PostgreSQL database (%s) is read-only (a standby, or default_transaction_read_only is on): point DATABASE_URL at the primary; nothing was lost.", where)
		case pe.Code == "53300":
			return fmt.Sprintf("The PostgreSQL server (%s) accepts no more connections: raise its max_connections or lower pool_max_conns in DATABASE_URL; the last change was not written.", where)
		case strings.HasPrefix(pe.Code, "53"):
			return fmt.Sprintf("The PostgreSQL server (%s) is out of memory or other resources (%s): check its log; the last change was not written.", where, pe.Message)
		case strings.HasPrefix(pe.Code, "58"), pe.Code == "XX001", pe.Code == "XX002":
			return fmt.Sprintf("The PostgreSQL server (%s) reports an I/O error or damaged data (%s): check its disks and its log, and keep a backup; the last change was not written.", where, pe.Message)
		case strings.HasPrefix(pe.Code, "57P"):
			return fmt.Sprintf("The PostgreSQL server (%s) is shutting down or restarting: the last change was not written; writes work again once it is back.", where)
		case pe.Code == "57014", pe.Code == "55P03":
			return fmt.Sprintf("The PostgreSQL server (%s) took too long to write (statement or lock timeout): check its load; the last change was not written.", where)
		case pe.Code == "42501":
			return fmt.Sprintf("The database user of DATABASE_URL may not write to %s: grant it the rights on onbehalf's tables; the last change was not written.", where)
		case strings.HasPrefix(pe.Code, "08"):
			return lostMessage(where)
		}
		return ""
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		pgconn.Timeout(err), pgconn.SafeToRetry(err),
		strings.Contains(err.Error(), "conn closed"), strings.Contains(err.Error(), "closed pool"):
		return lostMessage(where)
	}
	return ""
}

// lostConnection reports whether err is the loss of the connection to
// the server (or the server going away).
func lostConnection(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P")
	}
	return storageMessage(err, "") == lostMessage("")
}

// lostMessage says that the server cannot be reached.
func lostMessage(where string) string {
	return fmt.Sprintf("Cannot reach the PostgreSQL server (%s): check that it runs and that DATABASE_URL is right; the last change was not written.", where)
}

// Writable reports whether the store could write the last time it tried
// (or probed): nil, or an ESTORAGE error that says why.
func (s *Store) Writable(ctx context.Context) error {
	if err := s.health.Get(); err != nil {
		return err
	}
	return nil
}

// Health is Writable: PostgreSQL keeps no reserve of its own, so there is
// no warning beyond a failing write (what /healthz reports).
func (s *Store) Health(ctx context.Context) error { return s.Writable(ctx) }

// fault is an injected write failure: the SQLSTATE the server raises.
type fault struct{ sqlstate string }

// FailWrites makes every later write fail as if the server had answered
// err, until it is called with nil: the server itself raises the matching
// error just before the commit (disk_full for syscall.ENOSPC and EDQUOT,
// read_only_sql_transaction for EROFS, io_error for EIO, or the code of a
// *pgconn.PgError), so that the failure takes the path of a real one. It
// is for tests, this package's and its callers'.
func (s *Store) FailWrites(err error) {
	if err == nil {
		s.fault.Store(nil)
		return
	}
	code := "58000"
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe):
		code = pe.Code
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		code = "53100"
	case errors.Is(err, syscall.EROFS):
		code = "25006"
	case errors.Is(err, syscall.EIO):
		code = "58030"
	}
	s.fault.Store(&fault{sqlstate: code})
}

// probeLoop runs until Close: while writes fail it tries a small write
// every interval, so that Writable turns healthy without waiting for a
// caller's write; now and then it sweeps refresh leases whose holders
// died.
func (s *Store) probeLoop(every time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	lastSweep := time.Now()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), every+10*time.Second)
			if s.health.Get() != nil {
				_ = s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
					_, err := tx.Exec(ctx, qProbe.sql, s.now().UTC())
					return nil, err
				})
			}
			if time.Since(lastSweep) > leaseSweepEvery {
				lastSweep = time.Now()
				s.sweepLeases(ctx)
			}
			cancel()
		}
	}
}
