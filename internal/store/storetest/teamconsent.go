package storetest

import (
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// testTeamConsent: a person's yes to their teammates' bots is set and
// withdrawn by UpdateConnection, and outlives a refresh, a reconnect and a
// reopen; a connection never asked reads no.
func testTeamConsent(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	c := connect(t, st, grant(h, "zu1", "1"))
	other := connect(t, st, grant(h, "zu2", "2"))
	if c.TeamConsent || read(t, st, c.ID).TeamConsent {
		t.Fatal("a new connection consents")
	}
	yes, no := true, false
	got, err := st.UpdateConnection(ctx, c.ID, onbehalf.ConnectionPatch{TeamConsent: &yes})
	if err != nil || !got.TeamConsent || !got.Connected() {
		t.Fatalf("consent: %+v %v", got, err)
	}
	if !read(t, st, c.ID).TeamConsent || read(t, st, other.ID).TeamConsent {
		t.Fatal("consent not stored, or stored on another connection")
	}
	if _, err := st.SaveToken(ctx, c.ID, "zrt_1", pair("3", h.Clock.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	connect(t, st, grant(h, "zu1", "4"))
	if got := read(t, st, c.ID); !got.TeamConsent || got.Token.RefreshToken != "zrt_4" {
		t.Fatalf("after a refresh and a reconnect: %+v", got)
	}
	if h.Reopen != nil {
		st = h.Reopen(t)
		if !read(t, st, c.ID).TeamConsent {
			t.Fatal("consent lost on reopen")
		}
	}
	if got, err := st.UpdateConnection(ctx, c.ID, onbehalf.ConnectionPatch{TeamConsent: &no}); err != nil || got.TeamConsent {
		t.Fatalf("withdraw: %+v %v", got, err)
	}
	if read(t, st, c.ID).TeamConsent {
		t.Fatal("withdrawal not stored")
	}
}
