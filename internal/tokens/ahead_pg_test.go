package tokens_test

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestRefreshAheadOncePG: two instances on PostgreSQL refresh one
// connection ahead of one bot at the same moment: Zoom is called once.
func TestRefreshAheadOncePG(t *testing.T) {
	p := newPGPair(t)
	due := time.Now().Add(5 * time.Minute)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		m := p.mgrs[i%2]
		wg.Go(func() { _, errs[i] = m.RefreshAhead(context.Background(), p.connID, due) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
	}
	if n := p.fake.RefreshCalls(); n != 1 {
		t.Fatalf("Zoom refresh calls: %d, want 1", n)
	}
}
