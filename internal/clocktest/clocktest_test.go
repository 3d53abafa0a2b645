package clocktest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/clocktest"
)

var start = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// TestMovesOnlyWhenTold: Now stays put until Set or Advance, and Advance
// returns the time Now then reads.
func TestMovesOnlyWhenTold(t *testing.T) {
	c := clocktest.New(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now = %v, want %v", got, start)
	}
	if got := c.Advance(90 * time.Second); !got.Equal(start.Add(90*time.Second)) || !c.Now().Equal(got) {
		t.Fatalf("Advance = %v, Now = %v", got, c.Now())
	}
	c.Set(start.Add(-time.Hour))
	if got := c.Now(); !got.Equal(start.Add(-time.Hour)) {
		t.Fatalf("after Set back: %v", got)
	}
}

// TestConcurrent: readers and movers at once lose no move (run with
// -race to check the locking).
func TestConcurrent(t *testing.T) {
	c := clocktest.New(start)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				c.Advance(time.Millisecond)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	if got, want := c.Now(), start.Add(800*time.Millisecond); !got.Equal(want) {
		t.Fatalf("Now = %v, want %v", got, want)
	}
}
