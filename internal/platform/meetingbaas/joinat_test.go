package meetingbaas

import (
	"encoding/json"
	"testing"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// TestJoinAtRefused: the route this server calls sends the bot now, so a
// join_at is refused instead of being ignored.
func TestJoinAtRefused(t *testing.T) {
	a := &Adapter{}
	if _, ok, err := a.JoinAt(json.RawMessage(`{"timeout_config": {}}`)); ok || err != nil {
		t.Fatalf("no join_at: %v %v", ok, err)
	}
	if _, _, err := a.JoinAt(json.RawMessage(`{"join_at": "2026-01-15T10:30:00Z"}`)); onbehalf.ErrorCode(err) != onbehalf.EINVALID {
		t.Fatalf("join_at: %v, want EINVALID", err)
	}
}
