package bolt

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	bbolt "go.etcd.io/bbolt"
)

// TestIdempotentAnswerKeyUse: a sealed answer counts as a use of its key
// (so that Open refuses to drop a key it needs) until it is released or
// pruned; an answer kept in clear by an earlier version still replays.
func TestIdempotentAnswerKeyUse(t *testing.T) {
	clk := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s := mustOpen(t, filepath.Join(t.TempDir(), "i.db"), Options{Now: func() time.Time { return clk }, ReserveBytes: NoReserve})
	uses := func() int {
		n := 0
		s.db.View(func(tx *bbolt.Tx) error { n = keyUse(tx.Bucket(bucketMeta))[s.keys.Current()]; return nil })
		return n
	}
	base := uses()
	resp := onbehalf.IdempotentResponse{Status: 201, Body: []byte(`{"email":"a@example.com"}`)}
	for _, k := range []string{"k1", "k2"} {
		if _, err := s.BeginIdempotent(ctx, k, []byte("h"), clk.Add(time.Minute), clk.Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishIdempotent(ctx, k, resp); err != nil {
			t.Fatal(err)
		}
	}
	if n := uses(); n != base+2 {
		t.Fatalf("key uses %d, want %d", n, base+2)
	}
	if err := s.ReleaseIdempotent(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if n := uses(); n != base+1 {
		t.Fatalf("after release: key uses %d, want %d", n, base+1)
	}
	clk = clk.Add(25 * time.Hour) // k2 expired: pruned by the next Begin
	if _, err := s.BeginIdempotent(ctx, "k3", []byte("h"), clk.Add(time.Minute), clk.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := uses(); n != base {
		t.Fatalf("after pruning: key uses %d, want %d", n, base)
	}

	// As an earlier version wrote it: the answer in clear.
	old, _ := json.Marshal(map[string]any{"hash": []byte("h"), "done": true, "response": resp,
		"locked_until": clk.Add(time.Minute), "expires_at": clk.Add(time.Hour), "index": timeKey(clk.Add(time.Hour), "old")})
	if err := s.db.Update(func(tx *bbolt.Tx) error {
		if err := tx.Bucket(bucketIdemByExpiry).Put(timeKey(clk.Add(time.Hour), "old"), nil); err != nil {
			return err
		}
		return tx.Bucket(bucketIdem).Put([]byte("old"), old)
	}); err != nil {
		t.Fatal(err)
	}
	rec, err := s.BeginIdempotent(ctx, "old", []byte("h"), clk.Add(time.Minute), clk.Add(24*time.Hour))
	if err != nil || rec == nil || !rec.Done || string(rec.Response.Body) != string(resp.Body) {
		t.Fatalf("an answer kept in clear: %+v %v", rec, err)
	}
}
