package postgres

import (
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/seal"
	"github.com/onbehalf/onbehalf/internal/store/postgres/pgtest"
	"github.com/onbehalf/onbehalf/internal/store/storetest"
)

// TestIdempotentAnswerKeyUse: a sealed answer is a value sealed with its
// key (Open refuses to start without that key while the answer is kept);
// an answer kept in clear by an earlier version still replays.
func TestIdempotentAnswerKeyUse(t *testing.T) {
	u, _ := pgtest.Schema(t)
	k1, _ := seal.NewKey()
	k2, _ := seal.NewKey()
	clk := storetest.NewClock()
	s, err := Open(ctx, u, Options{Keys: [][]byte{k1}, Now: clk.Now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	now := clk.Now()
	resp := onbehalf.IdempotentResponse{Status: 201, Body: []byte(`{"email":"a@example.com"}`)}
	if _, err := s.BeginIdempotent(ctx, "k1", []byte("h"), now.Add(time.Minute), now.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishIdempotent(ctx, "k1", resp); err != nil {
		t.Fatal(err)
	}
	// As an earlier version wrote it: the answer in clear.
	if _, err := s.pool.Exec(ctx, `INSERT INTO idempotency_keys (key, hash, response, locked_until, expires_at) VALUES ('old', 'h', $1, $2, $3)`,
		`{"status":201,"body":"eyJpZCI6IjEifQ=="}`, now.Add(time.Minute), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	rec, err := s.BeginIdempotent(ctx, "old", []byte("h"), now.Add(time.Minute), now.Add(24*time.Hour))
	if err != nil || rec == nil || !rec.Done || string(rec.Response.Body) != `{"id":"1"}` {
		t.Fatalf("an answer kept in clear: %+v %v", rec, err)
	}
	s.Close()
	if _, err := Open(ctx, u, Options{Keys: [][]byte{k2}, Now: clk.Now, Logger: quiet}); err == nil ||
		!strings.Contains(err.Error(), "1 value(s) are sealed with key "+seal.KeyID(k1)) {
		t.Fatalf("Open without the key of a kept answer: %v", err)
	}
	s, err = Open(ctx, u, Options{Keys: [][]byte{k2, k1}, Now: clk.Now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec, err = s.BeginIdempotent(ctx, "k1", []byte("h"), now.Add(time.Minute), now.Add(24*time.Hour))
	if err != nil || rec == nil || string(rec.Response.Body) != string(resp.Body) {
		t.Fatalf("with the rotated keyring: %+v %v", rec, err)
	}
}
