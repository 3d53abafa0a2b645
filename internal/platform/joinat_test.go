package platform_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
)

func TestJoinAtOption(t *testing.T) {
	want := time.Date(2026, 1, 15, 10, 30, 0, 0, time.UTC)
	for _, ok := range []string{
		`{"join_at": "2026-01-15T10:30:00Z"}`,
		`{"join_at": "2026-01-15T16:00:00+05:30", "bot_name": "x"}`,
		`{"join_at": "2026-01-15T10:30:00+0000"}`,
		`{"join_at": "2026-01-15T10:30:00.000Z"}`,
	} {
		got, has, err := platform.JoinAtOption(json.RawMessage(ok), "join_at")
		if err != nil || !has || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%s: %s %v %v, want %s", ok, got, has, err, want)
		}
	}
	for _, none := range []string{``, `null`, `{}`, `{"join_at": null}`, `{"other": "2026-01-15T10:30:00Z"}`} {
		if _, has, err := platform.JoinAtOption(json.RawMessage(none), "join_at"); has || err != nil {
			t.Errorf("%q: %v %v, want no join time", none, has, err)
		}
	}
	for _, bad := range []string{`[]`, `"x"`, `{"join_at": 5}`, `{"join_at": "2026-01-15 10:30"}`, `{"join_at": "2026-01-15T10:30:00"}`, `{"join_at": "tomorrow"}`} {
		_, _, err := platform.JoinAtOption(json.RawMessage(bad), "join_at")
		if onbehalf.ErrorCode(err) != onbehalf.EINVALID || onbehalf.ErrorField(err) != "platform_options" {
			t.Errorf("%s: %v, want EINVALID on platform_options", bad, err)
		}
	}
}

func TestRefuseJoinAt(t *testing.T) {
	if _, has, err := platform.RefuseJoinAt(json.RawMessage(`{"bot_name": "x"}`), "join_at", "no."); has || err != nil {
		t.Fatalf("no join_at: %v %v", has, err)
	}
	_, _, err := platform.RefuseJoinAt(json.RawMessage(`{"join_at": "2026-01-15T10:30:00Z"}`), "join_at", "use the other route.")
	if onbehalf.ErrorCode(err) != onbehalf.EINVALID || onbehalf.ErrorField(err) != "platform_options" {
		t.Fatalf("join_at: %v, want EINVALID on platform_options", err)
	}
}
