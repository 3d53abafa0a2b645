package web

import (
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// TestBotCardAtRisk: the card of a bot still to join says when its
// connection lacks a scope the bot's kinds need or stopped working; a bot
// in the call, or one whose connection is fine, says nothing.
func TestBotCardAtRisk(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	ok := &onbehalf.Connection{ID: "c1", State: onbehalf.StateConnected,
		Token: onbehalf.Token{RefreshToken: "r", Scope: "user:read:user user:read:token"}}
	dead := &onbehalf.Connection{ID: "c1", State: onbehalf.StateDisconnected, DisconnectedReason: "Zoom refused the refresh token."}
	b := &onbehalf.Bot{ID: "b1", Platform: "recall", ConnectionID: "c1", Status: onbehalf.BotCreated, CreatedAt: now,
		JoinAt: now.Add(time.Hour), Kinds: []onbehalf.TokenKind{onbehalf.KindOBF, onbehalf.KindJoin}}
	at := func(c *onbehalf.Connection, b *onbehalf.Bot) string {
		v := vc
		v.conn, v.now = c, now
		return newBotView(b, v).AtRisk
	}
	if got := at(ok, b); !strings.Contains(got, "meeting:read:local_recording_token") {
		t.Errorf("missing scope: %q", got)
	}
	if got := at(dead, b); !strings.Contains(got, "reconnect Zoom") {
		t.Errorf("disconnected: %q", got)
	}
	obf := *b
	obf.Kinds = []onbehalf.TokenKind{onbehalf.KindOBF}
	if got := at(ok, &obf); got != "" {
		t.Errorf("healthy: %q", got)
	}
	in := *b
	in.Status = onbehalf.BotInCall
	if got := at(dead, &in); got != "" {
		t.Errorf("in the call: %q", got)
	}
	// A bot whose token was refused already says what to do in its
	// headline: no second, at-risk line saying it again.
	refused := *b
	refused.Timeline = []onbehalf.BotEvent{{At: now, Type: onbehalf.BotEventToken, Kind: onbehalf.KindOBF, HTTPStatus: 409,
		Message: "This Zoom connection no longer works."}}
	if got := at(dead, &refused); got != "" {
		t.Errorf("token refused: %q", got)
	}
}
