package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/tokenserve"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// connectAs walks the OAuth flow as the fake Zoom's user, in browser b.
func (e *testEnv) connectAs(t *testing.T, b *http.Client, user string) string {
	t.Helper()
	nb := *b
	nb.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp := get(t, &nb, e.srv.URL+"/zoom/oauth")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("oauth start: %d", resp.StatusCode)
	}
	resp = get(t, b, with(resp.Header.Get("Location"), "fake_user", user))
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/launch" {
		t.Fatalf("oauth flow ended at %s with %d", resp.Request.URL, resp.StatusCode)
	}
	c, err := e.store.ConnectionByZoomUser(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// postValues posts a form in browser b.
func postValues(t *testing.T, b *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := b.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp, body(resp)
}

// TestTeammates: Bob says yes on his page; Ann's launch form offers him;
// her bot gets his token when it fetches again; his page shows her bot;
// once he withdraws, the next fetch skips him.
func TestTeammates(t *testing.T) {
	var env *testEnv // the token handler checks consent through the env's launch service
	e := newEnv(t, envOpts{tokens: func(o *tokenserve.Options) { o.Teammates = lazyTeammates{&env} }})
	env = e
	e.zoom.AddUser(zoomdemo.User{ID: "zu_ann", AccountID: "acct_team", Email: "ann@example.com", DisplayName: "Ann"})
	e.zoom.AddUser(zoomdemo.User{ID: "zu_bob", AccountID: "acct_team", Email: "bob@example.com", DisplayName: "Bob"})
	e.zoom.AddUser(zoomdemo.User{ID: "zu_eve", AccountID: "acct_other", Email: "eve@example.com", DisplayName: "Eve"})
	ann, bob, eve := browser(t), browser(t), browser(t)
	annID := e.connectAs(t, ann, "zu_ann")
	bobID := e.connectAs(t, bob, "zu_bob")
	e.connectAs(t, eve, "zu_eve")

	if page := body(get(t, ann, e.srv.URL+"/launch")); strings.Contains(page, `name="teammate"`) {
		t.Fatal("a teammate offered before saying yes")
	}
	if resp, page := postValues(t, bob, e.srv.URL+"/teammates", url.Values{"team_consent": {"1"}}); resp.StatusCode != 200 || !strings.Contains(page, `id="team_consent" name="team_consent" value="1" checked`) {
		t.Fatalf("consent: %d %s", resp.StatusCode, page)
	}
	page := body(get(t, ann, e.srv.URL+"/launch"))
	if !strings.Contains(page, `value="`+bobID+`"`) || strings.Contains(page, "eve@example.com") {
		t.Fatalf("launch form does not offer Bob alone:\n%s", page)
	}
	if page := body(get(t, eve, e.srv.URL+"/launch")); strings.Contains(page, bobID) {
		t.Fatal("another account's person is offered Bob")
	}
	resp, page := e.launchForm(t, ann, url.Values{"meeting_url": {"https://zoom.us/j/" + meeting}, "teammate": {bobID}}, nil)
	if resp.StatusCode != 200 || resp.Request.URL.Query().Get("created") == "" {
		t.Fatalf("launch: %d %s", resp.StatusCode, page)
	}
	rb := e.recall.Bots()
	u := rb[len(rb)-1].TokenURLs[onbehalf.KindOBF]
	if !strings.Contains(u, "also="+bobID) || !strings.Contains(u, "team=1") {
		t.Fatalf("token URL %s", u)
	}
	fetch := func() {
		t.Helper()
		if r := get(t, http.DefaultClient, u); r.StatusCode != 200 {
			t.Fatalf("fetch: %d %s", r.StatusCode, body(r))
		}
	}
	fetch() // Ann's
	fetch() // Bob's: the platform fetched again
	waitFor(t, "Bob's page lists Ann's bot", func() bool {
		return strings.Contains(body(get(t, bob, e.srv.URL+"/")), "Teammates' bots that used your token")
	})
	postValues(t, bob, e.srv.URL+"/teammates", url.Values{}) // withdraw
	fetch()                                                  // a new round: Ann's
	fetch()                                                  // Bob's turn, but he withdrew: Ann's again
	var b *onbehalf.Bot
	waitFor(t, "four fetches on the timeline", func() bool {
		list, _, _ := e.store.ListBots(context.Background(), onbehalf.BotFilter{ConnectionID: annID})
		b = list[0]
		return len(b.Timeline) >= 5
	})
	var whose []string
	for _, ev := range b.Timeline {
		whose = append(whose, ev.ConnectionID+":"+map[bool]string{true: "ok", false: "no"}[ev.HTTPStatus == 200])
	}
	want := []string{annID + ":ok", bobID + ":ok", annID + ":ok", bobID + ":no", annID + ":ok"}
	if strings.Join(whose, " ") != strings.Join(want, " ") || !strings.Contains(b.Timeline[4].Why, "skipped "+bobID) {
		t.Fatalf("timeline %v, want %v (%+v)", whose, want, b.Timeline)
	}
	// Ann's page says whose token each fetch got, by name.
	if frag := body(get(t, ann, e.srv.URL+"/launch/bots")); !strings.Contains(frag, "Bob&#39;s token: next after you") || !strings.Contains(frag, "your token: first choice") {
		t.Fatalf("Ann's timeline does not name whose token:\n%s", frag)
	}
}

// lazyTeammates checks consent through an env made after the options.
type lazyTeammates struct{ e **testEnv }

func (l lazyTeammates) CheckTeammate(ctx context.Context, first, id string) error {
	return (*l.e).bots.CheckTeammate(ctx, first, id)
}

// waitFor waits for cond with a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
