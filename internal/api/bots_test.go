package api_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/api"
	"github.com/onbehalf/onbehalf/internal/bots"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
)

// botJSON is a bot in a reply.
type botJSON struct {
	ID            string   `json:"id"`
	Platform      string   `json:"platform"`
	PlatformBotID string   `json:"platform_bot_id"`
	ConnectionID  string   `json:"connection_id"`
	MeetingID     string   `json:"meeting_id"`
	BotName       string   `json:"bot_name"`
	Kinds         []string `json:"kinds"`
	Status        string   `json:"status"`
	CreatedAt     string   `json:"created_at"`
	Timeline      []struct {
		At         time.Time `json:"at"`
		Type       string    `json:"type"`
		Status     string    `json:"status"`
		Kind       string    `json:"kind"`
		HTTPStatus int       `json:"http_status"`
		Message    string    `json:"message"`
	} `json:"timeline"`
}

func TestCreateBotAndTimeline(t *testing.T) {
	e := newEnv(t)
	e.addUser("zu_ann")
	id := e.grant(t, "zu_ann", "", time.Now().Add(time.Hour))
	r := e.call(t, http.MethodPost, "/api/v1/bots", map[string]any{
		"platform": "recall", "connection_id": id, "bot_name": "Notes",
		"meeting_url":      "Join Zoom Meeting https://us02web.zoom.us/j/" + meeting + "?pwd=abc (Passcode: 123)",
		"kinds":            []string{"obf", "zak"},
		"platform_options": map[string]any{"recording_config": map[string]any{"transcript": true}},
	})
	if r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var b botJSON
	r.decode(t, &b)
	if !strings.HasPrefix(b.ID, "bot_") || b.Platform != "recall" || b.PlatformBotID == "" || b.ConnectionID != id ||
		b.MeetingID != meeting || b.BotName != "Notes" || b.Status != "created" || len(b.Kinds) != 2 || b.CreatedAt == "" {
		t.Fatalf("bot %+v", b)
	}
	if r.header.Get("Location") != "/api/v1/bots/"+b.ID {
		t.Fatalf("Location %q", r.header.Get("Location"))
	}
	created := e.recall.Created()
	if len(created) != 1 || created[0].MeetingURL != "https://us02web.zoom.us/j/"+meeting+"?pwd=abc" ||
		!strings.Contains(string(created[0].Raw), `"recording_config"`) || created[0].TokenURLs[onbehalf.KindZAK] == "" {
		t.Fatalf("recall got %+v", created)
	}

	// The bot fetches its OBF token; the fetch goes on its timeline.
	got := e.recall.Fetch(context.Background(), b.PlatformBotID, onbehalf.KindOBF, platformdemo.Tamper{})
	if got.Status != 200 || got.Tokens[onbehalf.KindOBF] == "" {
		t.Fatalf("fetch: %+v", got)
	}
	var one botJSON
	eventually(t, "no timeline entry for the fetch", func() bool {
		e.call(t, http.MethodGet, "/api/v1/bots/"+b.ID, nil).decode(t, &one)
		return len(one.Timeline) > 0
	})
	if tl := one.Timeline[0]; tl.Type != "token" || tl.Kind != "obf" || tl.HTTPStatus != 200 || one.Status != "waiting" {
		t.Fatalf("timeline %+v, status %s", one.Timeline, one.Status)
	}

	// A failed fetch says why (Zoom's words) on the timeline.
	e.zoom.RevokeGrant("zu_ann")
	e.zoom.FailMintEvery(1)
	e.recall.Fetch(context.Background(), b.PlatformBotID, onbehalf.KindZAK, platformdemo.Tamper{})
	eventually(t, "no timeline entry for the failed fetch", func() bool {
		e.call(t, http.MethodGet, "/api/v1/bots/"+b.ID, nil).decode(t, &one)
		return len(one.Timeline) > 1
	})
	if tl := one.Timeline[len(one.Timeline)-1]; tl.Kind != "zak" || tl.HTTPStatus < 400 || tl.Message == "" {
		t.Fatalf("failed fetch on the timeline: %+v", tl)
	}
}

func TestCreateBotRefusesBadInput(t *testing.T) {
	e := newEnv(t)
	e.addUser("zu_ann")
	id := e.grant(t, "zu_ann", "", time.Now().Add(time.Hour))
	link := "https://zoom.us/j/" + meeting
	for name, tc := range map[string]struct {
		body   map[string]any
		status int
		code   string
		field  string
	}{
		"no connection":      {map[string]any{"meeting_url": link}, 400, onbehalf.EINVALID, "connection_id"},
		"unknown connection": {map[string]any{"connection_id": "nope", "meeting_url": link}, 404, onbehalf.ENOTFOUND, "connection_id"},
		"no meeting":         {map[string]any{"connection_id": id}, 400, onbehalf.EINVALID, "meeting_url"},
		"personal link":      {map[string]any{"connection_id": id, "meeting_url": "https://zoom.us/my/ann"}, 400, onbehalf.EINVALID, "meeting_url"},
		"not zoom":           {map[string]any{"connection_id": id, "meeting_url": "https://meet.google.com/abc"}, 400, onbehalf.EINVALID, "meeting_url"},
		"unknown platform":   {map[string]any{"platform": "teams", "connection_id": id, "meeting_url": link}, 400, onbehalf.EINVALID, "platform"},
		"bad kinds":          {map[string]any{"connection_id": id, "meeting_url": link, "kinds": []string{"all"}}, 400, onbehalf.EINVALID, "kinds"},
		"options list":       {map[string]any{"connection_id": id, "meeting_url": link, "platform_options": []int{1}}, 400, onbehalf.EINVALID, "platform_options"},
		"long name":          {map[string]any{"connection_id": id, "meeting_url": link, "bot_name": strings.Repeat("n", 101)}, 400, onbehalf.EINVALID, "bot_name"},
		"unknown field":      {map[string]any{"connection_id": id, "meeting_url": link, "name": "x"}, 400, onbehalf.EINVALID, "name"},
	} {
		t.Run(name, func(t *testing.T) {
			e.call(t, http.MethodPost, "/api/v1/bots", tc.body).wantError(t, tc.status, tc.code, tc.field)
		})
	}
	if n := len(e.recall.Created()); n != 0 {
		t.Fatalf("%d bots created at the platform for refused requests", n)
	}
	// The platform's refusal, relayed.
	e.recall.FailCreate(400, `{"meeting_url": ["This meeting is not supported."]}`)
	r := e.call(t, http.MethodPost, "/api/v1/bots", map[string]any{"connection_id": id, "meeting_url": link})
	if r.status/100 != 4 && r.status/100 != 5 || !strings.Contains(string(r.body), "not supported") {
		t.Fatalf("platform refusal: %d %s", r.status, r.body)
	}
	e.call(t, http.MethodGet, "/api/v1/bots/nope", nil).wantError(t, 404, onbehalf.ENOTFOUND, "id")
}

func TestListBots(t *testing.T) {
	e := newEnv(t)
	e.addUser("zu_ann")
	e.addUser("zu_bob")
	ann := e.grant(t, "zu_ann", "", time.Now().Add(time.Hour))
	bob := e.grant(t, "zu_bob", "", time.Now().Add(time.Hour))
	var ids []string
	for _, conn := range []string{ann, bob, ann} {
		var b botJSON
		r := e.call(t, http.MethodPost, "/api/v1/bots", map[string]any{"connection_id": conn, "meeting_url": "https://zoom.us/j/" + meeting})
		r.decode(t, &b)
		ids = append(ids, b.ID)
		time.Sleep(2 * time.Millisecond)
	}
	type page struct {
		Bots       []botJSON `json:"bots"`
		NextCursor *string   `json:"next_cursor"`
	}
	var p page
	e.call(t, http.MethodGet, "/api/v1/bots?limit=2", nil).decode(t, &p)
	if len(p.Bots) != 2 || p.Bots[0].ID != ids[2] || p.Bots[1].ID != ids[1] || p.NextCursor == nil || p.Bots[0].Timeline == nil {
		t.Fatalf("first page (newest first): %+v", p)
	}
	e.call(t, http.MethodGet, "/api/v1/bots?limit=2&cursor="+url.QueryEscape(*p.NextCursor), nil).decode(t, &p)
	if len(p.Bots) != 1 || p.Bots[0].ID != ids[0] || p.NextCursor != nil {
		t.Fatalf("second page: %+v", p)
	}
	e.call(t, http.MethodGet, "/api/v1/bots?connection_id="+ann+"&platform=recall", nil).decode(t, &p)
	if len(p.Bots) != 2 || p.Bots[0].ID != ids[2] || p.Bots[1].ID != ids[0] {
		t.Fatalf("ann's bots: %+v", p)
	}
	e.call(t, http.MethodGet, "/api/v1/bots?platform=attendee", nil).decode(t, &p)
	if len(p.Bots) != 0 {
		t.Fatalf("attendee bots: %+v", p)
	}
	for q, field := range map[string]string{"?limit=201": "limit", "?cursor=x": "cursor", "?status=gone": "status", "?created_after=yesterday": "created_after", "?meeting_id=12": "meeting_id", "?sort=new": "sort"} {
		e.call(t, http.MethodGet, "/api/v1/bots"+q, nil).wantError(t, 400, onbehalf.EINVALID, field)
	}
}

// A server with no bot platform at all answers the bot calls 503
// unavailable, saying what to set (docs/api.md's table); a platform it
// does not offer, when it offers one, is a 400 (TestCreateBotRefusesBadInput).
func TestNoPlatformConfigured(t *testing.T) {
	e := newEnv(t, func(o *api.Options) {
		none := *o.Bots.(*bots.Service)
		none.Platforms = nil
		o.Bots = &none
	})
	e.addUser("zu_ann")
	id := e.grant(t, "zu_ann", "", time.Now().Add(time.Hour))
	link := "https://zoom.us/j/" + meeting
	e.call(t, http.MethodPost, "/api/v1/bots", map[string]any{"platform": "recall", "connection_id": id, "meeting_url": link}).
		wantError(t, 503, onbehalf.EUNAVAILABLE, "")
	e.call(t, http.MethodPost, "/api/v1/connections/"+id+"/token-urls", map[string]any{"platform": "recall", "meeting_url": link}).
		wantError(t, 503, onbehalf.EUNAVAILABLE, "")
}
