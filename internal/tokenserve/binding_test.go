package tokenserve_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/attendee"
	"github.com/onbehalf/onbehalf/internal/platform/meetingbaas"
	"github.com/onbehalf/onbehalf/internal/platform/meetstream"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
	"github.com/onbehalf/onbehalf/internal/platform/recall"
	"github.com/onbehalf/onbehalf/internal/ratelimit"
	"github.com/onbehalf/onbehalf/internal/tokenserve"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
)

const (
	bindConn    = "conn_bind_1"
	bindMeeting = "85012345678"
	// recallSecret is a RECALL_VERIFICATION_SECRET (whsec_ + base64).
	recallSecret = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	msSecret     = "meetstream-webhook-secret"
)

// platforms returns the four real adapters (no network is used: only
// their token routes are served). secured turns on the platforms' own
// request checks where they have one.
func platforms(t *testing.T, secured bool) []onbehalf.Platform {
	t.Helper()
	rc, mc := recall.Config{APIKey: "k"}, meetstream.Config{APIKey: "k"}
	if secured {
		rc.VerificationSecret, mc.WebhookSecret = recallSecret, msSecret
	}
	r, err := recall.New(rc, platform.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := meetstream.New(mc, platform.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := attendee.New(attendee.Config{APIKey: "k"}, platform.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := meetingbaas.New(meetingbaas.Config{APIKey: "k"}, platform.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return []onbehalf.Platform{r, m, a, b}
}

// botLookup is the store's bot lookup: bots by ID.
type botLookup map[string]*onbehalf.Bot

func (l botLookup) Bot(_ context.Context, id string) (*onbehalf.Bot, error) {
	if b, ok := l[id]; ok {
		return b, nil
	}
	return nil, onbehalf.Errorf(onbehalf.ENOTFOUND, "no bot")
}

// bindServer is a token server with no failure budget to run out of.
func bindServer(m *minter, bots botLookup) *tokenserve.Server {
	return tokenserve.New(tokenserve.Options{Signer: signer, Minter: m, Bots: bots, BaseURL: "https://x.example", AllowZAK: true,
		Failures: ratelimit.New(1000, 1_000_000, 100)})
}

// fetch sends a token request for target (path and query) on route rt of
// p, as p's bots send it: method, appended parameters, headers, body.
func fetch(s *tokenserve.Server, p onbehalf.Platform, rt onbehalf.TokenRoute, target, method string, sign bool) *httptest.ResponseRecorder {
	var body string
	switch p.Name() {
	case meetstream.Name:
		target += "&meeting_number=" + bindMeeting
	case meetingbaas.Name:
		target += "&bot_id=" + platformdemo.NewUUID()
	case attendee.Name:
		body = `{"bot_id":"bot_att_1","bot_metadata":null,"callback_type":"zoom_tokens","meeting_url":"https://zoom.us/j/` + bindMeeting + `"}`
	}
	if method == "" {
		method = rt.Methods[0]
	}
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if sign {
		switch p.Name() {
		case meetstream.Name:
			r.Header.Set(meetstream.HeaderBotID, "ms_bot_1")
			r.Header.Set(meetstream.HeaderWebhookSecret, msSecret)
		case recall.Name:
			key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(recallSecret, "whsec_"))
			platformdemo.SignHeader(r.Header, "webhook-", key, time.Now(), nil)
		}
	} else if p.Name() == meetstream.Name {
		r.Header.Set(meetstream.HeaderBotID, "ms_bot_1")
	}
	w := httptest.NewRecorder()
	s.Serve(w, r, p, rt, "203.0.113.9")
	return w
}

// madeURL is a token URL made for a platform.
type madeURL struct {
	platform    string
	path, query string
	kinds       []onbehalf.TokenKind
}

// plannedURLs returns every URL the server hands p's bots: each kind
// alone and all kinds at once, as p plans them, with and without a bot.
func plannedURLs(t *testing.T, p onbehalf.Platform) []madeURL {
	t.Helper()
	var out []madeURL
	sets := [][]onbehalf.TokenKind{onbehalf.Kinds}
	for _, k := range onbehalf.Kinds {
		sets = append(sets, []onbehalf.TokenKind{k})
	}
	for _, kinds := range sets {
		plans, err := p.PlanTokenURLs(kinds)
		if err != nil {
			continue // a kind set the platform cannot take
		}
		for _, pl := range plans {
			for _, bot := range []string{"", "bot_" + p.Name()} {
				u := signer.URL("", pl.Path, tokenurl.Params{Platform: p.Name(), Kinds: pl.Kinds, ConnID: bindConn, MeetingID: bindMeeting, BotID: bot})
				path, query, _ := strings.Cut(u, "?")
				out = append(out, madeURL{platform: p.Name(), path: path, query: query, kinds: pl.Kinds})
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s plans no URL", p.Name())
	}
	return out
}

// serves reports whether rt serves every kind of kinds.
func serves(rt onbehalf.TokenRoute, kinds []onbehalf.TokenKind) bool {
	for _, k := range kinds {
		if !onbehalf.HasKind(rt.Kinds, k) {
			return false
		}
	}
	return true
}

// TestURLsAreBoundToTheirPlatform tries every URL made for each platform
// (every kind, each platform's plan) on every token route of every
// platform: refused (401) on every other platform's routes, served (200)
// on its own. Refusals never mint.
func TestURLsAreBoundToTheirPlatform(t *testing.T) {
	ps := platforms(t, false)
	m := &minter{}
	s := bindServer(m, botLookup{})
	served, refused := 0, 0
	for _, a := range ps {
		for _, u := range plannedURLs(t, a) {
			for _, b := range ps {
				for _, rt := range b.TokenRoutes() {
					w := fetch(s, b, rt, rt.Path+"?"+u.query, "", false)
					name := fmt.Sprintf("%s URL %s?%s on %s %s", a.Name(), u.path, u.query, b.Name(), rt.Path)
					if w.Code == http.StatusOK {
						served += len(u.kinds) // one mint per kind
					}
					switch {
					case b.Name() == a.Name() && rt.Path == u.path:
						if w.Code != http.StatusOK {
							t.Errorf("%s: %d %s, want 200", name, w.Code, w.Body)
						}
					case b.Name() != a.Name():
						if w.Code != http.StatusUnauthorized {
							t.Errorf("%s: %d %s, want 401", name, w.Code, w.Body)
						}
						// Where the route serves the URL's kinds, only the
						// binding can refuse it.
						if serves(rt, u.kinds) && !strings.Contains(w.Body.String(), "made for "+a.Name()) {
							t.Errorf("%s: %s, want the platform named", name, w.Body)
						}
						refused++
					}
				}
			}
		}
	}
	if m.calls != served || refused < 100 {
		t.Fatalf("%d mints for %d kinds served (%d refused)", m.calls, served, refused)
	}
}

// specV2 signs a version 2 URL (no platform) exactly as this server did
// before URLs were bound to platforms: from the written specification.
func specV2(kinds, connID, meetingID, botID string, exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	msg := []byte("onbehalf-token-url\x00v2\x00")
	for _, f := range []string{kinds, connID, meetingID, botID, e} {
		msg = binary.BigEndian.AppendUint32(msg, uint32(len(f)))
		msg = append(msg, f...)
	}
	m := hmac.New(sha256.New, signer.Key)
	m.Write(msg)
	q := "user_id=" + url.QueryEscape(connID) + "&meeting_id=" + meetingID + "&kinds=" + url.QueryEscape(kinds)
	if botID != "" {
		q += "&bot=" + botID
	}
	return q + "&exp=" + e + "&sig=" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// TestOldURLsKeepWorking: version 2 URLs handed out before URLs named
// their platform keep working on their own platform's routes. One that
// names a bot is bound to that bot's recorded platform; one that names no
// bot (or a bot this server never stored) cannot be attributed and is
// served until it expires.
func TestOldURLsKeepWorking(t *testing.T) {
	ps := platforms(t, false)
	bots := botLookup{}
	for _, p := range ps {
		bots["bot_old_"+p.Name()] = &onbehalf.Bot{ID: "bot_old_" + p.Name(), Platform: p.Name()}
	}
	m := &minter{}
	s := bindServer(m, bots)
	exp := time.Now().Add(30 * time.Minute)
	for _, a := range ps {
		for _, u := range plannedURLs(t, a) {
			if strings.Contains(u.query, "bot=") {
				continue // the bot is set below
			}
			kinds := onbehalf.KindsString(u.kinds)
			for _, b := range ps {
				for _, rt := range b.TokenRoutes() {
					if !serves(rt, u.kinds) {
						continue
					}
					own := b.Name() == a.Name() && rt.Path == u.path
					for bot, want := range map[string]int{
						"bot_old_" + a.Name(): map[bool]int{true: 200, false: 401}[b.Name() == a.Name()],
						"":                    200, // unattributable: accepted anywhere its kinds are served
						"bot_never_stored":    200,
					} {
						if !own && b.Name() == a.Name() {
							continue // another path of the same platform
						}
						w := fetch(s, b, rt, rt.Path+"?"+specV2(kinds, bindConn, bindMeeting, bot, exp), "", false)
						if w.Code != want {
							t.Errorf("v2 %s URL (bot %q) on %s %s: %d %s, want %d", a.Name(), bot, b.Name(), rt.Path, w.Code, w.Body, want)
						}
					}
				}
			}
		}
	}
	// Without a bot lookup, a v2 URL naming a bot cannot be checked: a
	// server error, never a token.
	noLookup := tokenserve.New(tokenserve.Options{Signer: signer, Minter: m, BaseURL: "https://x.example"})
	rt := ps[0].TokenRoutes()[1]
	if w := fetch(noLookup, ps[0], rt, rt.Path+"?"+specV2("obf", bindConn, bindMeeting, "bot_old_recall", exp), "", false); w.Code != 500 {
		t.Fatalf("no lookup: %d %s", w.Code, w.Body)
	}
}

// TestVersion1OnlyOnRecall: version 1 URLs (the kind given by the path)
// are served only by routes with a default kind, which are Recall's.
func TestVersion1OnlyOnRecall(t *testing.T) {
	for _, p := range platforms(t, false) {
		for _, rt := range p.TokenRoutes() {
			if rt.Default != "" && p.Name() != recall.Name {
				t.Errorf("%s route %s serves version 1 URLs (default kind %s): they were Recall's", p.Name(), rt.Path, rt.Default)
			}
		}
	}
}

// TestHeadChecksLikeGet: HEAD runs every check GET runs (the platform's
// own authentication, signature, expiry, platform binding) and never
// mints, so it cannot tell whether a URL is live to anyone GET would
// refuse.
func TestHeadChecksLikeGet(t *testing.T) {
	ps := platforms(t, true)
	rc, ms := ps[0], ps[1]
	m := &minter{}
	s := bindServer(m, botLookup{})
	obfRoute := func(p onbehalf.Platform) onbehalf.TokenRoute {
		for _, rt := range p.TokenRoutes() {
			if onbehalf.HasKind(rt.Kinds, onbehalf.KindOBF) && (p.Name() != recall.Name || rt.Path == recall.PathOBF) {
				return rt
			}
		}
		t.Fatalf("%s has no OBF route", p.Name())
		return onbehalf.TokenRoute{}
	}
	made := func(p onbehalf.Platform, ttl time.Duration) string {
		sg := &tokenurl.Signer{Key: signer.Key, TTL: ttl}
		return sg.URL("", obfRoute(p).Path, tokenurl.Params{Platform: p.Name(), Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}, ConnID: bindConn, MeetingID: bindMeeting})
	}
	expired := &tokenurl.Signer{Key: signer.Key, TTL: time.Hour, Now: func() time.Time { return time.Now().Add(-2 * time.Hour) }}
	for _, p := range []onbehalf.Platform{rc, ms} {
		rt := obfRoute(p)
		good := made(p, time.Hour)
		other := ps[3] // Meeting BaaS: no check of its own
		rows := []struct {
			name   string
			target string
			sign   bool
			want   int
		}{
			{"authenticated", good, true, 200},
			{"no platform authentication", good, false, 401},
			{"tampered", strings.Replace(good, "user_id=", "user_id=x", 1), true, 401},
			{"expired", expired.URL("", rt.Path, tokenurl.Params{Platform: p.Name(), Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}, ConnID: bindConn, MeetingID: bindMeeting}), true, 401},
			{"made for another platform", rt.Path + "?" + strings.SplitN(made(other, time.Hour), "?", 2)[1], true, 401},
		}
		for _, r := range rows {
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				before := m.calls
				w := fetch(s, p, rt, r.target, method, r.sign)
				if w.Code != r.want {
					t.Errorf("%s %s %s: %d %s, want %d", p.Name(), method, r.name, w.Code, w.Body, r.want)
				}
				minted := m.calls - before
				if method == http.MethodHead && (minted != 0 || w.Body.Len() != 0) {
					t.Errorf("%s HEAD %s minted %d, body %q", p.Name(), r.name, minted, w.Body)
				}
			}
		}
	}
	// The other way round: a Recall URL on Meeting BaaS's route (which
	// checks nothing of its own) is refused to HEAD as to GET, so the
	// weakest route tells nothing about a Recall URL.
	mb := ps[3]
	rt := obfRoute(mb)
	target := rt.Path + "?" + strings.SplitN(made(rc, time.Hour), "?", 2)[1]
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		if w := fetch(s, mb, rt, target, method, false); w.Code != 401 {
			t.Errorf("Recall URL on Meeting BaaS, %s: %d", method, w.Code)
		}
	}
}
