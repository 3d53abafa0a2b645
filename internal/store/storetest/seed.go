package storetest

import (
	"context"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// SeedBatch is how many grants Seed stores per ImportConnections call
// (one transaction): large enough that a commit's fixed cost (bbolt's
// fsync and page writes, PostgreSQL's COPY set-up) is spread thin, small
// enough that a batch's memory stays in tens of megabytes.
const SeedBatch = 20_000

// Seed stores n grants, grant(i) for i in [0, n), in transactions of
// SeedBatch, and returns their connection IDs in order. The next batch is
// made while the store writes the current one, so that building the
// grants (random tokens, names) costs no time of its own. progress, when
// not nil, is called after each batch with how many are stored. It is for
// benchmarks that need many connections (a million in seconds to
// minutes, not the hours of one Connect each).
func Seed(ctx context.Context, s Importer, n int, grant func(i int) onbehalf.Authorization, progress func(done int)) ([]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []onbehalf.Authorization, 1)
	go func() {
		defer close(batches)
		for start := 0; start < n; start += SeedBatch {
			items := make([]onbehalf.Authorization, min(SeedBatch, n-start))
			for i := range items {
				items[i] = grant(start + i)
			}
			select {
			case batches <- items:
			case <-ctx.Done():
				return
			}
		}
	}()
	ids := make([]string, 0, n)
	for items := range batches {
		got, err := s.ImportConnections(ctx, items)
		if err != nil {
			return ids, err
		}
		ids = append(ids, got...)
		if progress != nil {
			progress(len(ids))
		}
	}
	return ids, ctx.Err()
}
