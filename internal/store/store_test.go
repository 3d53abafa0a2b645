package store

import (
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

func TestIDs(t *testing.T) {
	a, err := NewID()
	b, _ := NewID()
	if err != nil || len(a) != 22 || a == b {
		t.Fatalf("NewID: %q %q %v", a, b, err)
	}
	e, err := NewEventID()
	if err != nil || !strings.HasPrefix(e, "evt_") || len(e) != 26 {
		t.Fatalf("NewEventID: %q %v", e, err)
	}
	if s, _ := RandomString(32); len(s) != 43 {
		t.Fatalf("RandomString(32) = %q", s)
	}
}

func TestCursorRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 0, 123456789, time.UTC)
	c := EncodeCursor(at, "AbC-_123")
	gotAt, gotID, err := DecodeCursor(c)
	if err != nil || !gotAt.Equal(at) || gotID != "AbC-_123" {
		t.Fatalf("DecodeCursor(%q) = %v %q %v", c, gotAt, gotID, err)
	}
	for _, bad := range []string{"", "x", "c1.", "c1.!!!", "c2." + c[3:], "c1.AAAAAAAAAAA", EncodeCursor(at, "has space"), EncodeCursor(at, strings.Repeat("a", 65))} {
		_, _, err := DecodeCursor(bad)
		if onbehalf.ErrorCode(err) != onbehalf.EINVALID || onbehalf.ErrorField(err) != "cursor" {
			t.Errorf("DecodeCursor(%q): %v, want EINVALID about cursor", bad, err)
		}
	}
}
