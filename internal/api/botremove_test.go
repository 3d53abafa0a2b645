package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// botJSONExt is a bot in a reply, with the fields of removal and filters.
type botJSONExt struct {
	botJSON
	ExternalUserID *string `json:"external_user_id"`
	Timeline       []struct {
		Type    string `json:"type"`
		Status  string `json:"status"`
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"timeline"`
}

func TestRemoveBot(t *testing.T) {
	e := newEnv(t)
	e.addUser("zu_ann")
	id := e.grant(t, "zu_ann", "user-ann", time.Now().Add(time.Hour))
	var b botJSONExt
	e.call(t, http.MethodPost, "/api/v1/bots", map[string]any{"connection_id": id, "meeting_url": "https://zoom.us/j/" + meeting}).decode(t, &b)
	if b.ExternalUserID == nil || *b.ExternalUserID != "user-ann" {
		t.Fatalf("created bot's external_user_id %v", b.ExternalUserID)
	}
	if evs := e.events(t, onbehalf.EventBotCreated); len(evs) != 1 || evs[0]["external_user_id"] != "user-ann" {
		t.Fatalf("bot.created events %v", evs)
	}

	r := e.call(t, http.MethodDelete, "/api/v1/bots/"+b.ID, nil)
	if r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	created := e.recall.Bots()
	if len(created) != 1 || !created[0].Removed {
		t.Fatalf("the platform's bot did not leave: %+v", created)
	}
	var got botJSONExt
	e.call(t, http.MethodGet, "/api/v1/bots/"+b.ID, nil).decode(t, &got)
	last := got.Timeline[len(got.Timeline)-1]
	if got.Status != "done" || last.Type != "status" || last.Code != "removed" || !strings.Contains(last.Message, "API key") {
		t.Fatalf("after removal: status %s, timeline %+v", got.Status, got.Timeline)
	}
	evs := e.events(t, onbehalf.EventBotStatusChanged)
	if len(evs) != 1 || evs[0]["status"] != "done" || evs[0]["previous_status"] != "created" || evs[0]["external_user_id"] != "user-ann" {
		t.Fatalf("bot.status_changed events %v", evs)
	}

	// Again: idempotent, and the platform is not asked twice.
	e.recall.FailRemove(500, `{"detail":"must not be called"}`)
	if r := e.call(t, http.MethodDelete, "/api/v1/bots/"+b.ID, nil); r.status != http.StatusNoContent {
		t.Fatalf("second DELETE: %d %s", r.status, r.body)
	}
	if n := len(e.events(t, onbehalf.EventBotStatusChanged)); n != 1 {
		t.Fatalf("%d status changes after a second DELETE", n)
	}
	e.call(t, http.MethodDelete, "/api/v1/bots/nope", nil).wantError(t, 404, onbehalf.ENOTFOUND, "id")

	// The platform refusing is a 502 with its message; the bot is unchanged.
	var b2 botJSONExt
	e.call(t, http.MethodPost, "/api/v1/bots", map[string]any{"connection_id": id, "meeting_url": "https://zoom.us/j/" + meeting}).decode(t, &b2)
	r = e.call(t, http.MethodDelete, "/api/v1/bots/"+b2.ID, nil)
	if r.status != http.StatusBadGateway || !strings.Contains(string(r.body), "must not be called") || strings.Contains(string(r.body), "rkey") {
		t.Fatalf("platform refusal: %d %s", r.status, r.body)
	}
	e.call(t, http.MethodGet, "/api/v1/bots/"+b2.ID, nil).decode(t, &got)
	if got.Status != "created" {
		t.Fatalf("refused removal changed the bot: %s", got.Status)
	}
}

func TestListBotsFilters(t *testing.T) {
	e := newEnv(t)
	e.addUser("zu_ann")
	e.addUser("zu_bob")
	ann := e.grant(t, "zu_ann", "user-ann", time.Now().Add(time.Hour))
	bob := e.grant(t, "zu_bob", "user-bob", time.Now().Add(time.Hour))
	other := "85099999999"
	var ids []string
	for _, x := range []struct{ conn, meeting string }{{ann, meeting}, {bob, meeting}, {ann, other}, {ann, meeting}} {
		var b botJSON
		e.call(t, http.MethodPost, "/api/v1/bots", map[string]any{"connection_id": x.conn, "meeting_url": "https://zoom.us/j/" + x.meeting}).decode(t, &b)
		ids = append(ids, b.ID)
	}
	if r := e.call(t, http.MethodDelete, "/api/v1/bots/"+ids[3], nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	type page struct {
		Bots       []botJSONExt `json:"bots"`
		NextCursor *string      `json:"next_cursor"`
	}
	list := func(q string) (got []string, next *string) {
		var p page
		r := e.call(t, http.MethodGet, "/api/v1/bots"+q, nil)
		if r.status != 200 {
			t.Fatalf("GET /bots%s: %d %s", q, r.status, r.body)
		}
		r.decode(t, &p)
		for _, b := range p.Bots {
			got = append(got, b.ID)
		}
		return got, p.NextCursor
	}
	want := func(q string, ids ...string) {
		t.Helper()
		got, _ := list(q)
		if strings.Join(got, ",") != strings.Join(ids, ",") {
			t.Errorf("GET /bots%s: %v, want %v", q, got, ids)
		}
	}
	want("?external_user_id=user-ann", ids[3], ids[2], ids[0])
	want("?external_user_id=user-bob", ids[1])
	want("?meeting_id="+other, ids[2])
	want("?status=done", ids[3])
	want("?status=created&external_user_id=user-ann&meeting_id="+meeting, ids[0])
	want("?external_user_id=nobody")

	// Pages of filtered listings go on from the last bot returned.
	got, next := list("?external_user_id=user-ann&limit=2")
	if strings.Join(got, ",") != ids[3]+","+ids[2] || next == nil {
		t.Fatalf("first filtered page %v, next %v", got, next)
	}
	got, next = list("?external_user_id=user-ann&limit=2&cursor=" + *next)
	if strings.Join(got, ",") != ids[0] || next != nil {
		t.Fatalf("second filtered page %v, next %v", got, next)
	}

	// Time range: all created within the last minute, none before it.
	now := time.Now().UTC()
	want("?created_after="+now.Add(-time.Minute).Format(time.RFC3339)+"&created_before="+now.Add(time.Minute).Format(time.RFC3339), ids[3], ids[2], ids[1], ids[0])
	want("?created_before=" + now.Add(-time.Minute).Format(time.RFC3339))
	want("?created_after=" + now.Add(time.Minute).Format(time.RFC3339))
	e.call(t, http.MethodGet, "/api/v1/bots?created_after="+now.Format(time.RFC3339)+"&created_before="+now.Add(-time.Hour).Format(time.RFC3339), nil).
		wantError(t, 400, onbehalf.EINVALID, "created_before")
}
