package bots

import (
	"testing"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// TestRecordQueue: a full batch wakes Run once; past the queue's bound
// fetches are dropped and counted, never waited for.
func TestRecordQueue(t *testing.T) {
	s := &Service{}
	s.Start()
	for range recordBatch - 1 {
		s.Record(onbehalf.TokenFetch{ConnectionID: "c"})
	}
	select {
	case <-s.rec.full:
		t.Fatal("Run woken before a batch was full")
	default:
	}
	s.Record(onbehalf.TokenFetch{ConnectionID: "c"})
	select {
	case <-s.rec.full:
	default:
		t.Fatal("a full batch did not wake Run")
	}
	for range recordQueue - recordBatch + 5 {
		s.Record(onbehalf.TokenFetch{ConnectionID: "c"})
	}
	if got := s.Dropped(); got != 5 {
		t.Fatalf("dropped %d, want 5", got)
	}
	if len(s.rec.queue) != recordQueue {
		t.Fatalf("queued %d, want %d", len(s.rec.queue), recordQueue)
	}
}
