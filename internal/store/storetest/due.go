package storetest

import (
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// testDueBefore: soonest first, bounded, following refreshes and
// disconnects, and blind to keep-alive claims.
func testDueBefore(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	base := h.Clock.Now()
	mk := func(zu string, in time.Duration) *onbehalf.Connection {
		return connect(t, st, onbehalf.Authorization{User: zoomUser(zu), Token: pair(zu, base.Add(in))})
	}
	late, soon, mid := mk("late", 50*time.Minute), mk("soon", 5*time.Minute), mk("mid", 20*time.Minute)
	due, err := st.DueBefore(ctx, base.Add(30*time.Minute), 10)
	if err != nil || len(due) != 2 || due[0].ConnID != soon.ID || due[1].ConnID != mid.ID || !due[0].Expiry.Equal(base.Add(5*time.Minute)) {
		t.Fatalf("due = %+v %v", due, err)
	}
	if due, _ := st.DueBefore(ctx, base.Add(30*time.Minute), 1); len(due) != 1 || due[0].ConnID != soon.ID {
		t.Fatalf("limit 1: %+v", due)
	}
	// Claimed by a keep-alive: still listed, and listing claims nothing.
	if got, err := st.ClaimDue(ctx, "ka-1", base.Add(time.Hour), 10, time.Minute); err != nil || len(got) != 3 {
		t.Fatalf("ClaimDue: %+v %v", got, err)
	}
	if due, _ := st.DueBefore(ctx, base.Add(time.Hour), 10); len(due) != 3 {
		t.Fatalf("DueBefore of claimed connections: %+v, want all 3", due)
	}
	if _, err := st.SaveToken(ctx, soon.ID, "zrt_soon", pair("soon2", base.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if _, err := st.MarkDisconnected(ctx, mid.ID, "zrt_mid", "revoked"); err != nil {
		t.Fatal(err)
	}
	if due, _ := st.DueBefore(ctx, base.Add(55*time.Minute), 10); len(due) != 1 || due[0].ConnID != late.ID {
		t.Fatalf("after refresh and disconnect: %+v", due)
	}
	if due, _ := st.DueBefore(ctx, base.Add(2*time.Hour), 0); len(due) != 0 {
		t.Fatalf("limit 0: %+v", due)
	}
}

// testClaimDue: two owners never get one connection; an owner sees its
// own claims again; claims run out by the store's clock; a write of the
// token pair ends the claim; a store that cannot write still lists.
func testClaimDue(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	base := h.Clock.Now()
	const n = 40
	var conns []*onbehalf.Connection
	for i := range n {
		zu := fmt.Sprintf("zu%02d", i)
		conns = append(conns, connect(t, st, onbehalf.Authorization{User: zoomUser(zu), Token: pair(zu, base.Add(time.Duration(i+1)*time.Minute))}))
	}
	horizon := base.Add(2 * time.Hour)
	claim := func(owner string, limit int) []onbehalf.Due {
		t.Helper()
		got, err := st.ClaimDue(ctx, owner, horizon, limit, time.Minute)
		if err != nil {
			t.Fatalf("ClaimDue(%s): %v", owner, err)
		}
		return got
	}
	if got := claim("a", 0); len(got) != 0 {
		t.Fatalf("limit 0: %+v", got)
	}
	a := claim("a", 10)
	if len(a) != 10 || a[0].ConnID != conns[0].ID || a[9].ConnID != conns[9].ID || !a[0].Expiry.Equal(base.Add(time.Minute)) {
		t.Fatalf("a's first claim: %+v, want the 10 soonest", a)
	}
	b := claim("b", n)
	if len(b) != n-10 || overlap(a, b) != 0 || b[0].ConnID != conns[10].ID {
		t.Fatalf("b: %d connections, %d of a's; want the %d others", len(b), overlap(a, b), n-10)
	}
	if again := claim("a", n); len(again) != 10 || overlap(again, a) != 10 {
		t.Fatalf("a again: %d, want its own 10", len(again))
	}
	// b stops (dies): its claims run out after a minute.
	h.Clock.Advance(59 * time.Second)
	if got := claim("a", n); len(got) != 10 {
		t.Fatalf("before b's claims ran out: %d, want a's 10", len(got))
	}
	h.Clock.Advance(time.Second)
	if got := claim("a", n); len(got) != n {
		t.Fatalf("after b's claims ran out: %d, want all %d", len(got), n)
	}
	// A refresh ends a's claim on that connection: the next cycle is
	// anybody's.
	c := conns[0]
	if _, err := st.SaveToken(ctx, c.ID, "zrt_zu00", pair("zu00b", base.Add(90*time.Minute))); err != nil {
		t.Fatal(err)
	}
	if got := claim("b", n); len(got) != 1 || got[0].ConnID != c.ID || !got[0].Expiry.Equal(base.Add(90*time.Minute)) {
		t.Fatalf("b after a's refresh: %+v, want only the refreshed %s", got, c.ID)
	}
	// A store that cannot write still lists, claimed or not.
	h.FailWrites(syscall.EROFS)
	got, err := st.ClaimDue(ctx, "a", horizon, n, time.Minute)
	h.FailWrites(nil)
	if err != nil || len(got) == 0 {
		t.Fatalf("ClaimDue on a store that cannot write: %d, %v", len(got), err)
	}
}

// testClaimDueConcurrent: owners claiming and refreshing at once split
// the due connections between them, none twice.
func testClaimDueConcurrent(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	const n, owners = 60, 3
	for i := range n {
		connect(t, st, grant(h, fmt.Sprintf("zu%02d", i), fmt.Sprint(i)))
	}
	horizon := h.Clock.Now().Add(2 * time.Hour)
	got := make([][]onbehalf.Due, owners)
	var wg sync.WaitGroup
	for i := range owners {
		wg.Go(func() {
			// As a keep-alive pass does: claim a page, refresh it (which
			// moves it past the horizon), again.
			for {
				page, err := st.ClaimDue(ctx, fmt.Sprintf("owner-%d", i), horizon, 7, time.Hour)
				if err != nil || len(page) == 0 {
					if err != nil {
						t.Error(err)
					}
					return
				}
				got[i] = append(got[i], page...)
				for _, d := range page {
					c, err := st.Connection(ctx, d.ConnID)
					if err == nil {
						_, err = st.SaveToken(ctx, c.ID, c.Token.RefreshToken, pair(c.ID, horizon.Add(time.Hour)))
					}
					if err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	total := 0
	for i := range owners {
		total += len(got[i])
		for j := i + 1; j < owners; j++ {
			if both := overlap(got[i], got[j]); both != 0 {
				t.Fatalf("owners %d and %d both claimed %d connections", i, j, both)
			}
		}
	}
	if total != n {
		t.Fatalf("%d claimed in all, want %d", total, n)
	}
}

// overlap counts the connections listed in both a and b.
func overlap(a, b []onbehalf.Due) int {
	in := map[string]bool{}
	for _, d := range a {
		in[d.ConnID] = true
	}
	n := 0
	for _, d := range b {
		if in[d.ConnID] {
			n++
		}
	}
	return n
}
