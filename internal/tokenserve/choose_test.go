package tokenserve_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/tokenserve"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
)

// connMinter mints "<conn>-<n>" and fails the connections in fail.
type connMinter struct {
	mu    sync.Mutex
	fail  map[string]error
	n     int
	conns []string // whom each mint was for
}

func (m *connMinter) Mint(_ context.Context, conn string, k onbehalf.TokenKind, _ string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.conns = append(m.conns, conn)
	if err := m.fail[conn]; err != nil {
		return "", err
	}
	m.n++
	return conn + "-" + string(k), nil
}

// presence reports the connections in in as in a meeting.
type presence struct {
	mu sync.Mutex
	in map[string]bool
}

func (p *presence) InMeeting(_ context.Context, id string) (bool, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.in[id], true
}

// listPlatform is jsonPlatform taking a list of OBF tokens, as Attendee.
type listPlatform struct{ jsonPlatform }

func (listPlatform) TakesTokenList() bool { return true }
func (listPlatform) WriteTokens(w http.ResponseWriter, _ *http.Request, toks []onbehalf.MintedToken) {
	var obf []string
	for _, t := range toks {
		obf = append(obf, t.Token)
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"obf": strings.Join(obf, ",")})
}

// bots is a BotLookup over bots kept by a recorder that applies fetches
// to their timelines, as the store does.
type bots struct {
	mu sync.Mutex
	m  map[string]*onbehalf.Bot
}

func (b *bots) Bot(_ context.Context, id string) (*onbehalf.Bot, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	x, ok := b.m[id]
	if !ok {
		return nil, onbehalf.Errorf(onbehalf.ENOTFOUND, "no bot")
	}
	c := *x
	c.Timeline = append([]onbehalf.BotEvent(nil), x.Timeline...)
	return &c, nil
}

func (b *bots) Record(f onbehalf.TokenFetch) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if x := b.m[f.BotID]; x != nil {
		onbehalf.ApplyTokenFetch(x, f, f.At)
	}
}

var three = []string{"c1", "c2", "c3"}

func multiURL(bot string, cands ...string) string {
	return signer.URL("", route.Path, tokenurl.Params{Platform: "json", Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}, ConnID: cands[0],
		MeetingID: "85012345678", BotID: bot, Candidates: cands})
}

// clockAt is a clock moving one second per call.
func clockAt() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

func fetchOBF(t *testing.T, s *tokenserve.Server, p onbehalf.Platform, target string) (int, string) {
	t.Helper()
	w := httptest.NewRecorder()
	s.Serve(w, httptest.NewRequest(http.MethodGet, target, nil), p, route, "203.0.113.1")
	var m map[string]string
	_ = json.Unmarshal(w.Body.Bytes(), &m)
	return w.Code, m["obf"]
}

// TestChooseMovesOnEachFetch: without presence, each fetch by the same bot
// takes the next candidate, then starts over; the timeline says whose
// token and why.
func TestChooseMovesOnEachFetch(t *testing.T) {
	b := &bots{m: map[string]*onbehalf.Bot{"bot_1": {ID: "bot_1", ConnectionIDs: three}}}
	s := tokenserve.New(tokenserve.Options{Signer: signer, Minter: &connMinter{}, Recorder: b, Bots: b, Now: clockAt()})
	var got []string
	for range 4 {
		code, tok := fetchOBF(t, s, jsonPlatform{}, multiURL("bot_1", three...))
		if code != 200 {
			t.Fatalf("%d", code)
		}
		got = append(got, tok)
	}
	if want := "c1-obf c2-obf c3-obf c1-obf"; strings.Join(got, " ") != want {
		t.Fatalf("served %v, want %s", got, want)
	}
	tl := b.m["bot_1"].Timeline
	if len(tl) != 4 || tl[0].ConnectionID != "c1" || tl[0].Why != "first choice" || !strings.HasPrefix(tl[1].Why, "next after c1") ||
		!strings.Contains(tl[3].Why, "starting over") {
		t.Fatalf("timeline %+v", tl)
	}
}

// TestChooseAcrossInstances: a retry landing on another instance (no
// memory of the bot) moves on from what the bot's timeline says.
func TestChooseAcrossInstances(t *testing.T) {
	b := &bots{m: map[string]*onbehalf.Bot{"bot_1": {ID: "bot_1", ConnectionIDs: three}}}
	now := clockAt()
	a := tokenserve.New(tokenserve.Options{Signer: signer, Minter: &connMinter{}, Recorder: b, Bots: b, Now: now})
	c := tokenserve.New(tokenserve.Options{Signer: signer, Minter: &connMinter{}, Recorder: b, Bots: b, Now: now})
	var got []string
	for _, s := range []*tokenserve.Server{a, c, a, c} {
		_, tok := fetchOBF(t, s, jsonPlatform{}, multiURL("bot_1", three...))
		got = append(got, tok)
	}
	if want := "c1-obf c2-obf c3-obf c1-obf"; strings.Join(got, " ") != want {
		t.Fatalf("served %v, want %s", got, want)
	}
}

// TestChoosePresenceFirst: a candidate Zoom reports in a meeting is served
// first; when it was not let in either, the others follow in order.
func TestChoosePresenceFirst(t *testing.T) {
	p := &presence{in: map[string]bool{"c3": true}}
	s := tokenserve.New(tokenserve.Options{Signer: signer, Minter: &connMinter{}, Presence: p, Now: clockAt()})
	rec := &recorder{}
	s2 := tokenserve.New(tokenserve.Options{Signer: signer, Minter: &connMinter{}, Presence: p, Recorder: rec, Now: clockAt()})
	var got []string
	for range 3 {
		_, tok := fetchOBF(t, s, jsonPlatform{}, multiURL("bot_2", three...))
		got = append(got, tok)
	}
	if want := "c3-obf c1-obf c2-obf"; strings.Join(got, " ") != want {
		t.Fatalf("served %v, want %s", got, want)
	}
	fetchOBF(t, s2, jsonPlatform{}, multiURL("bot_2", three...))
	if len(rec.got) != 1 || rec.got[0].ConnectionID != "c3" || !strings.Contains(rec.got[0].Why, "in a meeting") {
		t.Fatalf("recorded %+v", rec.got)
	}
}

// TestChooseSkipsDisconnected: a disconnected candidate is skipped in the
// same fetch, with the reason; all failing is the first error.
func TestChooseSkipsDisconnected(t *testing.T) {
	m := &connMinter{fail: map[string]error{"c1": onbehalf.Errorf(onbehalf.EDISCONNECTED, "invalid_grant")}}
	rec := &recorder{}
	s := tokenserve.New(tokenserve.Options{Signer: signer, Minter: m, Recorder: rec, Now: clockAt()})
	if code, tok := fetchOBF(t, s, jsonPlatform{}, multiURL("bot_3", three...)); code != 200 || tok != "c2-obf" {
		t.Fatalf("%d %q", code, tok)
	}
	if len(rec.got) != 2 || rec.got[0].HTTPStatus != 409 || rec.got[0].ConnectionID != "c1" || rec.got[1].ConnectionID != "c2" ||
		!strings.Contains(rec.got[1].Why, "skipped c1") {
		t.Fatalf("recorded %+v", rec.got)
	}
	m.fail["c2"], m.fail["c3"] = m.fail["c1"], m.fail["c1"]
	if code, _ := fetchOBF(t, s, jsonPlatform{}, multiURL("bot_3", three...)); code != 409 {
		t.Fatalf("all disconnected: %d", code)
	}
}

// TestChooseList: a platform that takes a list gets every candidate's
// token, those in a meeting first, leaving out those that fail.
func TestChooseList(t *testing.T) {
	m := &connMinter{fail: map[string]error{"c2": onbehalf.Errorf(onbehalf.ENOTFOUND, "gone")}}
	p := &presence{in: map[string]bool{"c3": true}}
	s := tokenserve.New(tokenserve.Options{Signer: signer, Minter: m, Presence: p})
	if code, tok := fetchOBF(t, s, listPlatform{}, multiURL("bot_4", three...)); code != 200 || tok != "c3-obf,c1-obf" {
		t.Fatalf("%d %q", code, tok)
	}
}

// TestChooseOneIsUnchanged: a URL of one connection mints for it alone,
// records no reason, asks no presence.
func TestChooseOneIsUnchanged(t *testing.T) {
	p := &presence{in: map[string]bool{}}
	m := &connMinter{}
	rec := &recorder{}
	s := tokenserve.New(tokenserve.Options{Signer: signer, Minter: m, Presence: p, Recorder: rec})
	for range 2 {
		if code, tok := fetchOBF(t, s, jsonPlatform{}, multiURL("bot_5", "c9")); code != 200 || tok != "c9-obf" {
			t.Fatalf("%d %q", code, tok)
		}
	}
	if len(rec.got) != 2 || rec.got[1].Why != "" || rec.got[1].ConnectionID != "c9" {
		t.Fatalf("recorded %+v", rec.got)
	}
}
