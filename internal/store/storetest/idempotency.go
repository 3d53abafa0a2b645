package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// testIdempotency: a key is claimed once; while its run is in flight a
// second Begin sees it not done; a finished run is returned with its
// answer (and the first request's hash) until it expires, across
// reopening; a released key, an expired record and a run abandoned past
// its lock are claimed anew.
func testIdempotency(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	begin := func(key, hash string, lock, ttl time.Duration) *onbehalf.IdempotentRecord {
		t.Helper()
		now := h.Clock.Now()
		rec, err := st.BeginIdempotent(ctx, key, []byte(hash), now.Add(lock), now.Add(ttl))
		if err != nil {
			t.Fatalf("BeginIdempotent(%q): %v", key, err)
		}
		return rec
	}
	if rec := begin("k1", "h1", time.Minute, 24*time.Hour); rec != nil {
		t.Fatalf("first Begin: %+v, want the key claimed", rec)
	}
	rec := begin("k1", "h2", time.Minute, 24*time.Hour)
	if rec == nil || rec.Done || !bytes.Equal(rec.Hash, []byte("h1")) {
		t.Fatalf("Begin while in flight: %+v, want the first request's record, not done", rec)
	}
	resp := onbehalf.IdempotentResponse{Status: 201, Header: map[string]string{"Location": "/api/v1/bots/b1"}, Body: []byte(`{"id":"b1"}`)}
	if err := st.FinishIdempotent(ctx, "k1", resp); err != nil {
		t.Fatal(err)
	}
	check := func(st onbehalf.Store, what string) {
		t.Helper()
		now := h.Clock.Now()
		rec, err := st.BeginIdempotent(ctx, "k1", []byte("h1"), now.Add(time.Minute), now.Add(24*time.Hour))
		if err != nil || rec == nil || !rec.Done || rec.Response.Status != 201 ||
			rec.Response.Header["Location"] != "/api/v1/bots/b1" || string(rec.Response.Body) != `{"id":"b1"}` {
			t.Fatalf("%s: %+v %v, want the finished answer", what, rec, err)
		}
	}
	h.Clock.Advance(time.Hour) // past the lock: a done record still holds
	check(st, "Begin after the run")
	if h.Reopen != nil {
		st = h.Reopen(t)
		check(st, "after reopening")
	}

	// An abandoned run (lock passed, never finished) frees its key.
	begin("k2", "h1", time.Minute, 24*time.Hour)
	h.Clock.Advance(2 * time.Minute)
	if rec := begin("k2", "h3", time.Minute, 24*time.Hour); rec != nil {
		t.Fatalf("Begin after an abandoned run: %+v, want the key claimed", rec)
	}
	// A released key is free.
	if err := st.ReleaseIdempotent(ctx, "k2"); err != nil {
		t.Fatal(err)
	}
	if rec := begin("k2", "h4", time.Minute, 24*time.Hour); rec != nil {
		t.Fatalf("Begin after release: %+v, want the key claimed", rec)
	}
	if err := st.ReleaseIdempotent(ctx, "unknown"); err != nil {
		t.Fatalf("ReleaseIdempotent of an unknown key: %v", err)
	}
	wantCode(t, "finishing an unknown key", st.FinishIdempotent(ctx, "unknown", resp), onbehalf.ENOTFOUND)

	// Expired records are claimed anew (and pruned).
	h.Clock.Advance(24 * time.Hour)
	if rec := begin("k1", "h5", time.Minute, 24*time.Hour); rec != nil {
		t.Fatalf("Begin after expiry: %+v, want the key claimed", rec)
	}
	for _, bad := range []string{"", string(make([]byte, 129))} {
		_, err := st.BeginIdempotent(ctx, bad, nil, h.Clock.Now(), h.Clock.Now().Add(time.Minute))
		wantCode(t, "bad key", err, onbehalf.EINVALID)
	}
}

// testIdempotentAnswerSealed: a kept answer (a connection's email and
// name, say) is sealed at rest, and read back whole.
func testIdempotentAnswerSealed(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	now := h.Clock.Now()
	if rec, err := st.BeginIdempotent(ctx, "idem-sealed", []byte("h1"), now.Add(time.Minute), now.Add(24*time.Hour)); err != nil || rec != nil {
		t.Fatalf("BeginIdempotent = %+v %v", rec, err)
	}
	body := `{"id":"c1","email":"IDEM-EMAIL-SEALED@example.com","display_name":"IDEM-NAME-SEALED"}`
	resp := onbehalf.IdempotentResponse{Status: 201, Header: map[string]string{"Location": "/api/v1/connections/IDEM-LOCATION-SEALED"}, Body: []byte(body)}
	must(t, st.FinishIdempotent(ctx, "idem-sealed", resp))
	rec, err := st.BeginIdempotent(ctx, "idem-sealed", []byte("h1"), now.Add(time.Minute), now.Add(24*time.Hour))
	if err != nil || rec == nil || !rec.Done || rec.Response.Status != 201 || string(rec.Response.Body) != body ||
		rec.Response.Header["Location"] != resp.Header["Location"] {
		t.Fatalf("read back: %+v %v", rec, err)
	}
	if h.Dump == nil {
		return
	}
	dump := h.Dump(t)
	for _, clear := range []string{"IDEM-EMAIL-SEALED", "IDEM-NAME-SEALED", "IDEM-LOCATION-SEALED"} {
		if bytes.Contains(dump, []byte(clear)) {
			t.Errorf("the database holds %q in clear", clear)
		}
	}
}
