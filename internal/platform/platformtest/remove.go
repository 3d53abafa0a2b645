package platformtest

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// testRemoveBot checks RemoveBot against the fake: a bot created then
// removed has left at the platform (and no other bot has); a bot the
// platform does not know is ENOTFOUND; a failing answer is EUPSTREAM with
// the platform's status and message, never the API key.
func testRemoveBot(t *testing.T, h Harness) {
	l := launch(t, h, false)
	ctx := context.Background()
	if err := l.p.RemoveBot(ctx, l.bot.ID); err != nil {
		t.Fatalf("RemoveBot(%s): %v", l.bot.ID, err)
	}
	removed := false
	for _, b := range l.fake.Bots() {
		if b.ID == l.bot.ID {
			removed = b.Removed
		} else if b.Removed {
			t.Errorf("bot %s was removed too", b.ID)
		}
	}
	if !removed {
		t.Errorf("the fake's bot %s has not left after RemoveBot", l.bot.ID)
	}

	err := l.p.RemoveBot(ctx, "00000000-0000-4000-8000-000000000000")
	if onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND || !strings.Contains(onbehalf.ErrorMessage(err), "404") {
		t.Errorf("unknown bot: %v, want ENOTFOUND naming the status 404", err)
	}

	l.fake.FailRemove(http.StatusBadRequest, `{"detail":"Bot is not in a state to leave; key `+h.APIKey+`"}`)
	err = l.p.RemoveBot(ctx, l.bot.ID)
	msg := onbehalf.ErrorMessage(err)
	if onbehalf.ErrorCode(err) != onbehalf.EUPSTREAM || !strings.Contains(msg, "400") || !strings.Contains(msg, l.p.Title()) {
		t.Errorf("failing answer: %v, want EUPSTREAM naming %s and 400", err, l.p.Title())
	}
	if !strings.Contains(msg, "not in a state to leave") {
		t.Errorf("message %q lacks the platform's message", msg)
	}
	if strings.Contains(msg, h.APIKey) {
		t.Errorf("message %q leaks the API key", msg)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := l.p.RemoveBot(cctx, l.bot.ID); err == nil {
		t.Error("RemoveBot with a canceled context succeeded")
	}
}
