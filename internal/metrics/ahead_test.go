package metrics_test

import (
	"testing"

	"github.com/onbehalf/onbehalf/internal/metrics"
	"github.com/onbehalf/onbehalf/internal/tokens"
)

// TestRefreshSpacingSeries exports the early and ahead refresh counters.
func TestRefreshSpacingSeries(t *testing.T) {
	st := tokens.Stats{EarlyRefreshes: 3, AheadRefreshes: 7}
	m := metrics.New(metrics.Options{Stats: func() tokens.Stats { return st }})
	wantLines(t, scrape(t, m),
		metrics.NameEarlyRefreshes+` 3`,
		metrics.NameAheadRefreshes+` 7`,
	)
}
