package platformtest

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
)

// Run runs the conformance suite on the platform h sets up.
func Run(t *testing.T, h Harness) {
	t.Run("Describe", func(t *testing.T) { testDescribe(t, h) })
	t.Run("CreateBot", func(t *testing.T) { testCreateBot(t, h) })
	t.Run("CreateBotErrors", func(t *testing.T) { testCreateBotErrors(t, h) })
	t.Run("FetchEveryKind", func(t *testing.T) { testFetch(t, h, false) })
	t.Run("TamperedURL", func(t *testing.T) { testTampered(t, h) })
	t.Run("OtherMeeting", func(t *testing.T) { testOtherMeeting(t, h) })
	t.Run("HeadNeverMints", func(t *testing.T) { testHead(t, h) })
	t.Run("ErrorsReachTheBot", func(t *testing.T) { testErrors(t, h) })
	t.Run("RemoveBot", func(t *testing.T) { testRemoveBot(t, h) })
	if h.Secured {
		t.Run("Secured", func(t *testing.T) { testFetch(t, h, true) })
		t.Run("MissingCredentials", func(t *testing.T) { testNoCredentials(t, h) })
	}
}

// launched is a bot created through the adapter.
type launched struct {
	p    onbehalf.Platform
	fake platformdemo.Fake
	srv  *Server
	bot  platformdemo.FakeBot
	urls []onbehalf.TokenURL
}

// launch creates a bot for h.Kinds through the adapter, against its fake.
func launch(t *testing.T, h Harness, secured bool) *launched {
	t.Helper()
	p, fake := h.New(t, secured)
	srv := h.server(t, p)
	urls := srv.TokenURLs(t, p, h.Kinds, "bot_suite_1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	created, err := p.CreateBot(ctx, onbehalf.BotRequest{
		BotID:     "bot_suite_1",
		Meeting:   onbehalf.Meeting{ID: MeetingID, URL: MeetingURL, Password: "abc.1"},
		BotName:   BotName,
		TokenURLs: urls,
	})
	if err != nil {
		t.Fatalf("CreateBot: %v", err)
	}
	if created == nil || created.PlatformBotID == "" {
		t.Fatalf("CreateBot returned no platform bot ID: %+v", created)
	}
	var bot platformdemo.FakeBot
	for _, b := range fake.Bots() {
		if b.ID == created.PlatformBotID {
			bot = b
		}
	}
	if bot.ID == "" {
		t.Fatalf("the fake has no bot %q (it has %d)", created.PlatformBotID, len(fake.Bots()))
	}
	return &launched{p: p, fake: fake, srv: srv, bot: bot, urls: urls}
}

func testDescribe(t *testing.T, h Harness) {
	p, _ := h.New(t, false)
	if p.Name() == "" || strings.ToLower(p.Name()) != p.Name() || strings.ContainsAny(p.Name(), "/ ") {
		t.Errorf("Name %q: want a lower-case key fit for a path", p.Name())
	}
	if p.Title() == "" {
		t.Error("Title is empty")
	}
	routes := p.TokenRoutes()
	if len(routes) == 0 {
		t.Fatal("no token routes")
	}
	for _, rt := range routes {
		if !strings.HasPrefix(rt.Path, "/") || len(rt.Methods) == 0 || len(rt.Kinds) == 0 {
			t.Errorf("route %+v: want a path, methods and kinds", rt)
		}
		if rt.Default != "" && !onbehalf.HasKind(rt.Kinds, rt.Default) {
			t.Errorf("route %s: default kind %s not among its kinds", rt.Path, rt.Default)
		}
	}
	plans, err := p.PlanTokenURLs(h.Kinds)
	if err != nil {
		t.Fatalf("PlanTokenURLs(%v): %v", h.Kinds, err)
	}
	var covered []onbehalf.TokenKind
	for _, pl := range plans {
		found := false
		for _, rt := range routes {
			if rt.Path == pl.Path {
				found = true
				for _, k := range pl.Kinds {
					if !onbehalf.HasKind(rt.Kinds, k) {
						t.Errorf("plan %+v: route %s does not serve %s", pl, rt.Path, k)
					}
				}
			}
		}
		if !found {
			t.Errorf("plan %+v: no token route has its path", pl)
		}
		covered = append(covered, pl.Kinds...)
	}
	if onbehalf.KindsString(covered) != onbehalf.KindsString(h.Kinds) || len(covered) != len(h.Kinds) {
		t.Errorf("plans cover %v, want each of %v once", covered, h.Kinds)
	}
	for _, kinds := range h.Refused {
		if _, err := p.PlanTokenURLs(kinds); onbehalf.ErrorCode(err) != onbehalf.EINVALID || onbehalf.ErrorMessage(err) == "" {
			t.Errorf("PlanTokenURLs(%v) = %v, want an EINVALID error saying why", kinds, err)
		}
	}
}

func testCreateBot(t *testing.T, h Harness) {
	l := launch(t, h, false)
	if l.bot.MeetingURL != MeetingURL {
		t.Errorf("meeting URL %q, want the canonical %q", l.bot.MeetingURL, MeetingURL)
	}
	if l.bot.BotName != BotName {
		t.Errorf("bot name %q, want %q", l.bot.BotName, BotName)
	}
	for _, u := range l.urls {
		for _, k := range u.Kinds {
			if got := l.bot.TokenURLs[k]; got != u.URL {
				t.Errorf("token URL for %s: got %q, want %q", k, got, u.URL)
			}
		}
	}
	if len(l.bot.TokenURLs) != len(h.Kinds) {
		t.Errorf("the bot got token URLs for %d kinds, want %d", len(l.bot.TokenURLs), len(h.Kinds))
	}
}

func testCreateBotErrors(t *testing.T, h Harness) {
	p, fake := h.New(t, false)
	srv := h.server(t, p)
	urls := srv.TokenURLs(t, p, h.Kinds, "bot_suite_2")
	req := onbehalf.BotRequest{BotID: "bot_suite_2", Meeting: onbehalf.Meeting{ID: MeetingID, URL: MeetingURL}, BotName: BotName, TokenURLs: urls}
	// The platform echoing what it got must not leak it.
	echo := `{"detail":"Invalid token URL ` + urls[0].URL + ` for key ` + h.APIKey + `"}`
	fake.FailCreate(http.StatusBadRequest, echo)
	_, err := p.CreateBot(context.Background(), req)
	if onbehalf.ErrorCode(err) != onbehalf.EUPSTREAM || !strings.Contains(onbehalf.ErrorMessage(err), "400") {
		t.Fatalf("error %v: want EUPSTREAM naming the status 400", err)
	}
	msg := onbehalf.ErrorMessage(err)
	if !strings.Contains(msg, p.Title()) {
		t.Errorf("message %q does not name %s", msg, p.Title())
	}
	u, _ := url.Parse(urls[0].URL)
	for _, secret := range []string{h.APIKey, urls[0].URL, u.Query().Get("sig")} {
		if secret != "" && strings.Contains(msg, secret) {
			t.Errorf("message %q leaks %q", msg, secret)
		}
	}
	fake.FailCreate(http.StatusUnauthorized, `{"detail":"Invalid token."}`)
	if _, err := p.CreateBot(context.Background(), req); onbehalf.ErrorCode(err) != onbehalf.EUPSTREAM || !strings.Contains(onbehalf.ErrorMessage(err), "401") {
		t.Errorf("401: %v", err)
	}
	// A platform that does not answer in time.
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	time.Sleep(time.Millisecond)
	if _, err := p.CreateBot(ctx, req); onbehalf.ErrorCode(err) != onbehalf.ETIMEOUT {
		t.Errorf("expired deadline: %v, want ETIMEOUT", err)
	}
}

// testFetch has the bot fetch every kind and checks each token came from
// the minter for the right connection, meeting and kind.
func testFetch(t *testing.T, h Harness, secured bool) {
	l := launch(t, h, secured)
	for _, k := range h.Kinds {
		before := len(l.srv.Minter.Calls())
		got := l.fake.Fetch(context.Background(), l.bot.ID, k, platformdemo.Tamper{})
		if got.Status/100 != 2 || got.Tokens[k] == "" {
			t.Fatalf("fetch %s: status %d, tokens %v, body %q", k, got.Status, got.Tokens, got.Body)
		}
		calls := l.srv.Minter.Calls()[before:]
		found := false
		for _, c := range calls {
			if c.Token == got.Tokens[k] {
				found = true
				if c.ConnID != ConnID || c.Kind != k || (k.NeedsMeeting() && c.MeetingID != MeetingID) {
					t.Errorf("token %s minted for %+v", k, c)
				}
			}
		}
		if !found {
			t.Errorf("fetch %s: the bot got %q, which the minter never minted", k, got.Tokens[k])
		}
	}
}

func testTampered(t *testing.T, h Harness) {
	l := launch(t, h, false)
	k := h.Kinds[0]
	for name, change := range map[string]func(string) string{
		"meeting_id changed": func(u string) string { return strings.Replace(u, "meeting_id="+MeetingID, "meeting_id=85012345679", 1) },
		"user_id changed":    func(u string) string { return strings.Replace(u, "user_id=", "user_id=x", 1) },
		"sig dropped":        func(u string) string { return dropParam(u, "sig") },
		"kinds changed":      otherKinds,
	} {
		got := l.fake.Fetch(context.Background(), l.bot.ID, k, platformdemo.Tamper{URL: change})
		if got.Status/100 == 2 || len(got.Tokens) > 0 {
			t.Errorf("%s: served (status %d, tokens %v)", name, got.Status, got.Tokens)
		}
	}
	if n := len(l.srv.Minter.Calls()); n != 0 {
		t.Errorf("tampered URLs minted %d tokens", n)
	}
}

func testOtherMeeting(t *testing.T, h Harness) {
	if !h.Claims {
		t.Skip("this platform's fetches do not name the meeting")
	}
	l := launch(t, h, false)
	got := l.fake.Fetch(context.Background(), l.bot.ID, h.Kinds[0], platformdemo.Tamper{Meeting: "85099999999"})
	if got.Status/100 == 2 || len(got.Tokens) > 0 || len(l.srv.Minter.Calls()) != 0 {
		t.Fatalf("a fetch for another meeting was served: %+v", got)
	}
}

func testHead(t *testing.T, h Harness) {
	l := launch(t, h, false)
	for _, u := range l.urls {
		for _, rt := range l.p.TokenRoutes() {
			if !strings.Contains(u.URL, rt.Path+"?") || !hasMethod(rt.Methods, http.MethodGet) {
				continue
			}
			resp, err := http.Head(u.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("HEAD %s: %d, want 200", rt.Path, resp.StatusCode)
			}
		}
	}
	if n := len(l.srv.Minter.Calls()); n != 0 {
		t.Errorf("HEAD minted %d tokens", n)
	}
}

func testErrors(t *testing.T, h Harness) {
	l := launch(t, h, false)
	k := h.Kinds[0]
	for _, tc := range []struct {
		err    error
		status int
	}{
		{onbehalf.Errorf(onbehalf.EDISCONNECTED, "Zoom refused refreshing the token: invalid_grant."), http.StatusConflict},
		{onbehalf.Errorf(onbehalf.ENOTFOUND, "No such connection."), http.StatusNotFound},
		{onbehalf.Errorf(onbehalf.EUPSTREAM, "Zoom error 3001 while minting the token: Meeting does not exist."), http.StatusBadGateway},
	} {
		l.srv.Minter.Fail(tc.err)
		got := l.fake.Fetch(context.Background(), l.bot.ID, k, platformdemo.Tamper{})
		if got.Status != tc.status || len(got.Tokens) > 0 {
			t.Errorf("minter error %v: the bot saw %d (tokens %v), want %d", tc.err, got.Status, got.Tokens, tc.status)
		}
	}
}

func testNoCredentials(t *testing.T, h Harness) {
	l := launch(t, h, true)
	got := l.fake.Fetch(context.Background(), l.bot.ID, h.Kinds[0], platformdemo.Tamper{NoCredentials: true})
	if got.Status/100 == 2 || len(got.Tokens) > 0 || len(l.srv.Minter.Calls()) != 0 {
		t.Fatalf("served without the platform's credentials: %+v", got)
	}
}

func hasMethod(ms []string, m string) bool {
	for _, x := range ms {
		if x == m {
			return true
		}
	}
	return false
}

// otherKinds sets a URL's kinds to others than it was signed for: all
// kinds, or only OBF when it serves all.
func otherKinds(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	other := "obf,zak,join"
	if u.Query().Get("kinds") == other {
		other = "obf"
	}
	return setParam(raw, "kinds", other)
}

// dropParam removes a query parameter from a URL.
func dropParam(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	q.Del(name)
	u.RawQuery = q.Encode()
	return u.String()
}

// setParam sets a query parameter of a URL.
func setParam(raw, name, value string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	q.Set(name, value)
	u.RawQuery = q.Encode()
	return u.String()
}
