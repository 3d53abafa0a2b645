package postgres

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/seal"
	"github.com/onbehalf/onbehalf/internal/store"
	"github.com/onbehalf/onbehalf/internal/store/postgres/pgtest"
	"github.com/onbehalf/onbehalf/internal/store/storetest"
)

// TestStorageMessages: every failure of the server an operator can meet
// says what it is, and nothing else is taken for one.
func TestStorageMessages(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&pgconn.PgError{Code: "53100"}, "is full"},
		{&pgconn.PgError{Code: "25006"}, "read-only"},
		{&pgconn.PgError{Code: "58030"}, "I/O error"},
		{&pgconn.PgError{Code: "53200", Message: "out of memory"}, "out of memory"},
		{&pgconn.PgError{Code: "53300"}, "no more connections"},
		{&pgconn.PgError{Code: "57P01"}, "restarting"},
		{&pgconn.PgError{Code: "57014"}, "too long"},
		{&pgconn.PgError{Code: "42501"}, "may not write"},
		{&pgconn.PgError{Code: "08006"}, "Cannot reach"},
		{fmt.Errorf("sending: %w", io.ErrUnexpectedEOF), "Cannot reach"},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, "Cannot reach"},
		{&pgconn.PgError{Code: "23505"}, ""},
		{&pgconn.PgError{Code: "42P01"}, ""},
		{errors.New("no randomness"), ""},
	} {
		got := storageMessage(tc.err, "database onbehalf on db:5432")
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%v: %q, want one saying %q", tc.err, got, tc.want)
		}
		if got != "" && !strings.Contains(got, "db:5432") {
			t.Errorf("%v: %q does not say which server", tc.err, got)
		}
	}
}

// TestOpenNeedsKeys: PostgreSQL never makes a key of its own.
func TestOpenNeedsKeys(t *testing.T) {
	u, _ := pgtest.Schema(t)
	_, err := Open(ctx, u, Options{Logger: quiet})
	if err == nil || !strings.Contains(err.Error(), "no sealing key") {
		t.Fatalf("Open without keys: %v", err)
	}
	_, err = Open(ctx, u, Options{Logger: quiet, Keys: [][]byte{[]byte("short")}})
	if err == nil || !strings.Contains(err.Error(), "TOKEN_ENCRYPTION_KEY") {
		t.Fatalf("Open with a bad key: %v", err)
	}
}

// TestKeyRotation: a key that sealed values cannot be dropped; listed
// after a new one it opens the old values, and the compare-and-swap still
// matches refresh tokens hashed under it; a key no value uses is
// forgotten.
func TestKeyRotation(t *testing.T) {
	u, _ := pgtest.Schema(t)
	k1, _ := seal.NewKey()
	k2, _ := seal.NewKey()
	clk := storetest.NewClock()
	open := func(keys ...[]byte) (*Store, error) {
		return Open(ctx, u, Options{Keys: keys, Now: clk.Now, Logger: quiet})
	}
	s, err := open(k1)
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := s.Connect(ctx, grantOf(clk, "zu1", "1"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := open(k2); err == nil || !strings.Contains(err.Error(), "sealed with key "+seal.KeyID(k1)) ||
		!strings.Contains(err.Error(), "3 value(s)") {
		t.Fatalf("Open without the key that sealed the values: %v", err)
	}
	s, err = open(k2, k1)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Connection(ctx, c.ID); err != nil || got.Token.RefreshToken != "zrt_1" {
		t.Fatalf("old value with the rotated keyring: %+v %v", got, err)
	}
	if _, err := s.SaveToken(ctx, c.ID, "zrt_1", onbehalf.Token{AccessToken: "zat_2", RefreshToken: "zrt_2", Expiry: clk.Now().Add(time.Hour)}); err != nil {
		t.Fatalf("SaveToken from a refresh token hashed under the old key: %v", err)
	}
	if _, err := s.MarkDisconnected(ctx, c.ID, "zrt_2", "revoked"); err != nil {
		t.Fatalf("MarkDisconnected from a refresh token hashed under the new key: %v", err)
	}
	s.Close()

	// A key registered but never used is forgotten.
	u2, _ := pgtest.Schema(t)
	s, err = Open(ctx, u2, Options{Keys: [][]byte{k1}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, u2, Options{Keys: [][]byte{k2}, Logger: quiet})
	if err != nil {
		t.Fatalf("a key no value uses blocked Open: %v", err)
	}
	defer s.Close()
	var ids []string
	rows, _ := s.pool.Query(ctx, qSealKeys.sql)
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		ids = append(ids, id)
	}
	if strings.Join(ids, ",") != seal.KeyID(k2) {
		t.Fatalf("registered keys %v, want only %s", ids, seal.KeyID(k2))
	}
}

// TestReadOnlyDatabase: a real read-only database (a standby, or
// default_transaction_read_only) fails writes with ESTORAGE saying so,
// and reads go on.
func TestReadOnlyDatabase(t *testing.T) {
	u, _ := pgtest.Schema(t)
	clk := storetest.NewClock()
	rw := mustOpen(t, u, Options{Now: clk.Now})
	c, _, err := rw.Connect(ctx, grantOf(clk, "zu1", "1"))
	if err != nil {
		t.Fatal(err)
	}
	ro := mustOpen(t, u+"&default_transaction_read_only=on", Options{Now: clk.Now})
	_, err = ro.SaveToken(ctx, c.ID, "zrt_1", onbehalf.Token{AccessToken: "a", RefreshToken: "zrt_2"})
	if onbehalf.ErrorCode(err) != onbehalf.ESTORAGE || !strings.Contains(onbehalf.ErrorMessage(err), "read-only") {
		t.Fatalf("SaveToken on a read-only database: %v", err)
	}
	if w := ro.Writable(ctx); onbehalf.ErrorMessage(w) != onbehalf.ErrorMessage(err) {
		t.Fatalf("Writable: %v", w)
	}
	if got, err := ro.Connection(ctx, c.ID); err != nil || got.Token.RefreshToken != "zrt_1" {
		t.Fatalf("read on a read-only database: %+v %v", got, err)
	}
	if due, err := ro.ClaimDue(ctx, "ka", clk.Now().Add(2*time.Hour), 10, time.Minute); err != nil || len(due) != 1 {
		t.Fatalf("ClaimDue on a read-only database lists unclaimed: %v %v", due, err)
	}
}

// TestConnectionsKilled: the server closes every connection of an
// instance (a restart, a failover, a pooler): the next writes go through
// on new connections, and a write that cannot reach the server at all is
// ESTORAGE saying so.
func TestConnectionsKilled(t *testing.T) {
	u, _ := pgtest.Schema(t)
	clk := storetest.NewClock()
	name, _ := store.RandomString(8)
	s := mustOpen(t, u+"&application_name=killed-"+name, Options{Now: clk.Now})
	c, _, err := s.Connect(ctx, grantOf(clk, "zu1", "1"))
	if err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", "killed-"+name)
	if _, err := s.SaveToken(ctx, c.ID, "zrt_1", onbehalf.Token{AccessToken: "a", RefreshToken: "zrt_2", Expiry: clk.Now().Add(time.Hour)}); err != nil {
		t.Fatalf("SaveToken after the server closed the pool's connections: %v", err)
	}
	if err := s.Writable(ctx); err != nil {
		t.Fatalf("Writable: %v", err)
	}

	// A server that is not there.
	gone := mustOpen(t, u, Options{Now: clk.Now})
	gone.pool.Close()
	_, err = gone.SaveToken(ctx, c.ID, "zrt_2", onbehalf.Token{AccessToken: "a", RefreshToken: "zrt_3"})
	if onbehalf.ErrorCode(err) != onbehalf.ESTORAGE || !strings.Contains(onbehalf.ErrorMessage(err), "Cannot reach") {
		t.Fatalf("SaveToken without a server: %v", err)
	}
}
