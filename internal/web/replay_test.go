package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/clocktest"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// deauthEvent is the app_deauthorized Zoom sends when the default user
// removes the app at the given time.
func deauthEvent(at time.Time) []byte {
	return []byte(`{"event":"app_deauthorized","event_ts":1,"payload":{"account_id":"acct_1","user_id":"` + zoomdemo.DefaultUserID +
		`","client_id":"cid","deauthorization_time":"` + at.UTC().Format("2006-01-02T15:04:05.000Z") + `"}}`)
}

// TestZoomDeauthorizationReplayed: the real handler, the real store and
// the fake Zoom. A deauthorization delivered twice changes nothing the
// second time, even after the user connected again; the same event signed
// afresh (what a late Zoom retry looks like) is older than the new grant
// and keeps the connection, with its ID and its token URLs.
func TestZoomDeauthorizationReplayed(t *testing.T) {
	clock := clocktest.New(time.Now().Truncate(time.Millisecond))
	e := newEnv(t, envOpts{webhookSecret: webhookSecret, now: clock.Now})
	first := e.tokenURL(t)
	before := e.connID(t)

	removedAt := clock.Advance(time.Second)
	ev := deauthEvent(removedAt)
	hdr := signed(clock.Now(), ev)
	if code, got := postWebhook(t, e, ev, hdr); code != 200 || got != "deleted" {
		t.Fatalf("deauthorization: %d %q", code, got)
	}
	if resp := get(t, http.DefaultClient, first); resp.StatusCode != 404 {
		t.Fatalf("token URL after the deauthorization: %d, want 404", resp.StatusCode)
	}

	// The same request 2 s later: acknowledged, nothing to delete.
	clock.Advance(2 * time.Second)
	if code, got := postWebhook(t, e, ev, hdr); code != 200 || !strings.Contains(got, "already delivered") {
		t.Fatalf("same request again: %d %q", code, got)
	}

	// The user connects again: a new connection, new token URLs.
	clock.Advance(time.Second)
	tokenURL := e.tokenURL(t)
	id := e.connID(t)
	if id == before {
		t.Fatalf("the deleted connection came back with its ID %s", id)
	}

	// The same signed request again, now that a new connection exists.
	clock.Advance(2 * time.Second)
	if code, got := postWebhook(t, e, ev, hdr); code != 200 || !strings.Contains(got, "already delivered") {
		t.Fatalf("replay after the reconnect: %d %q", code, got)
	}
	// The old event freshly signed (a late retry): older than the grant.
	if code, got := postWebhook(t, e, ev, signed(clock.Now(), ev)); code != 200 || !strings.Contains(got, "connected again") {
		t.Fatalf("old event freshly signed: %d %q", code, got)
	}
	if resp := get(t, http.DefaultClient, tokenURL); resp.StatusCode != 200 {
		t.Fatalf("token URL after the late deauthorization: %d, want 200", resp.StatusCode)
	}
	if got := e.connID(t); got != id {
		t.Fatalf("connection ID %s, want %s kept", got, id)
	}
	if !strings.Contains(e.logs.String(), "the user connected again after it") {
		t.Errorf("the ignored deauthorization is not logged:\n%s", e.logs.String())
	}

	// A new deauthorization, after the grant, still deletes.
	later := deauthEvent(clock.Advance(time.Second))
	if code, got := postWebhook(t, e, later, signed(clock.Now(), later)); code != 200 || got != "deleted" {
		t.Fatalf("new deauthorization: %d %q", code, got)
	}
	if _, err := e.store.Connection(context.Background(), id); onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND {
		t.Fatalf("connection after a new deauthorization: %v", err)
	}
}
