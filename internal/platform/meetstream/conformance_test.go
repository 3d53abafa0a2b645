package meetstream

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/meetstream/meetstreamdemo"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
	"github.com/onbehalf/onbehalf/internal/platform/platformtest"
	"github.com/onbehalf/onbehalf/internal/tokenserve"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
)

// Credentials of the tests.
const (
	testKey     = "ms_live_test_key_4f1c2d"
	testSecret  = "bot-webhook-secret-9a8b7c"
	testSigning = "endpoint-signing-secret-1234"
)

// newPair returns an adapter configured against a new fake. secured turns
// on the webhook secret on both sides.
func newPair(t *testing.T, secured bool) (*Adapter, *meetstreamdemo.Fake) {
	t.Helper()
	o := meetstreamdemo.Options{APIKey: testKey, AllowHTTP: true}
	c := Config{APIKey: testKey}
	if secured {
		o.WebhookSecret, c.WebhookSecret = testSecret, testSecret
	}
	fake := meetstreamdemo.New(o)
	t.Cleanup(fake.Close)
	c.BaseURL = fake.URL()
	a, err := New(c, platform.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return a, fake
}

func harness(kind onbehalf.TokenKind) platformtest.Harness {
	return platformtest.Harness{
		New: func(t *testing.T, secured bool) (onbehalf.Platform, platformdemo.Fake) {
			return newPair(t, secured)
		},
		Kinds: []onbehalf.TokenKind{kind},
		Refused: [][]onbehalf.TokenKind{
			nil,
			{onbehalf.KindJoin},
			{onbehalf.KindOBF, onbehalf.KindZAK},
			{onbehalf.KindOBF, onbehalf.KindJoin},
			{onbehalf.KindZAK, onbehalf.KindJoin},
			{onbehalf.KindOBF, onbehalf.KindZAK, onbehalf.KindJoin},
		},
		// OBF fetches name the meeting (meeting_number); ZAK fetches do not.
		Claims:  kind == onbehalf.KindOBF,
		Secured: true,
		APIKey:  testKey,
	}
}

func TestConformance(t *testing.T) {
	t.Run("obf", func(t *testing.T) { platformtest.Run(t, harness(onbehalf.KindOBF)) })
	t.Run("zak", func(t *testing.T) { platformtest.Run(t, harness(onbehalf.KindZAK)) })
}

// tokenServer serves the adapter's token path with tokenserve behind
// routes, which wrap the real handler as a proxy or framework would.
type tokenServer struct {
	*httptest.Server
	minter *platformtest.Minter
	signer *tokenurl.Signer

	mu      sync.Mutex
	methods []string // of the requests seen, in order
}

// seen returns the methods of the requests seen so far.
func (s *tokenServer) seen() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.methods, ",")
}

func newTokenServer(t *testing.T, a *Adapter, routes func(mux *http.ServeMux, serve http.HandlerFunc)) *tokenServer {
	t.Helper()
	s := &tokenServer{minter: &platformtest.Minter{}, signer: &tokenurl.Signer{Key: tokenurl.NewKey(), TTL: time.Hour}}
	ts := tokenserve.New(tokenserve.Options{Signer: s.signer, Minter: s.minter, BaseURL: "http://onbehalf.test", AllowZAK: true})
	rt := a.TokenRoutes()[0]
	mux := http.NewServeMux()
	routes(mux, func(w http.ResponseWriter, r *http.Request) { ts.Serve(w, r, a, rt, "127.0.0.1") })
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.methods = append(s.methods, r.Method)
		s.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// launch creates a bot for kind whose token URL points at s.
func (s *tokenServer) launch(t *testing.T, a *Adapter, fake *meetstreamdemo.Fake, kind onbehalf.TokenKind) string {
	t.Helper()
	u := s.signer.URL(s.URL, TokenPath, tokenurl.Params{Platform: a.Name(), Kinds: []onbehalf.TokenKind{kind}, ConnID: platformtest.ConnID,
		MeetingID: platformtest.MeetingID, BotID: "bot_fallback"})
	created, err := a.CreateBot(context.Background(), onbehalf.BotRequest{
		BotID:     "bot_fallback",
		Meeting:   onbehalf.Meeting{ID: platformtest.MeetingID, URL: platformtest.MeetingURL},
		BotName:   platformtest.BotName,
		TokenURLs: []onbehalf.TokenURL{{Kinds: []onbehalf.TokenKind{kind}, URL: u}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return created.PlatformBotID
}

// TestPOSTFallback proves MeetStream's POST fallback end to end: the bot's
// GET is answered 405 (or with a body it cannot use), it POSTs JSON to the
// same URL, and tokenserve serves that POST for the signed meeting, reading
// the meeting and the webhook secret from the body.
func TestPOSTFallback(t *testing.T) {
	postOnly := func(mux *http.ServeMux, serve http.HandlerFunc) {
		mux.HandleFunc("POST "+TokenPath, serve) // GET: 405 from the mux
	}
	// The secret reaches the server only in the body: a proxy drops the
	// header.
	bodySecret := func(mux *http.ServeMux, serve http.HandlerFunc) {
		mux.HandleFunc("POST "+TokenPath, func(w http.ResponseWriter, r *http.Request) {
			r.Header.Del(HeaderWebhookSecret)
			serve(w, r)
		})
	}
	unusable := func(mux *http.ServeMux, serve http.HandlerFunc) {
		mux.HandleFunc("GET "+TokenPath, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte("short"))
		})
		mux.HandleFunc("POST "+TokenPath, serve)
	}
	for _, tc := range []struct {
		name    string
		secured bool
		kind    onbehalf.TokenKind
		routes  func(*http.ServeMux, http.HandlerFunc)
	}{
		{"405 obf", false, onbehalf.KindOBF, postOnly},
		{"405 zak", false, onbehalf.KindZAK, postOnly},
		{"405 secured", true, onbehalf.KindOBF, postOnly},
		{"secret in body", true, onbehalf.KindOBF, bodySecret},
		{"unusable GET answer", false, onbehalf.KindOBF, unusable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, fake := newPair(t, tc.secured)
			srv := newTokenServer(t, a, tc.routes)
			id := srv.launch(t, a, fake, tc.kind)
			got := fake.Fetch(context.Background(), id, tc.kind, platformdemo.Tamper{})
			if got.Status != http.StatusOK || got.Tokens[tc.kind] == "" {
				t.Fatalf("fetch: status %d, tokens %v, body %q", got.Status, got.Tokens, got.Body)
			}
			if m := srv.seen(); m != "GET,POST" {
				t.Errorf("the bot sent %s, want GET,POST", m)
			}
			calls := srv.minter.Calls()
			if len(calls) != 1 || calls[0].Token != got.Tokens[tc.kind] || calls[0].ConnID != platformtest.ConnID ||
				calls[0].Kind != tc.kind || calls[0].MeetingID != platformtest.MeetingID {
				t.Errorf("minted %+v, the bot got %q", calls, got.Tokens[tc.kind])
			}
		})
	}
	t.Run("other meeting in the body", func(t *testing.T) {
		a, fake := newPair(t, false)
		srv := newTokenServer(t, a, postOnly)
		id := srv.launch(t, a, fake, onbehalf.KindOBF)
		got := fake.Fetch(context.Background(), id, onbehalf.KindOBF, platformdemo.Tamper{Meeting: "85099999999"})
		if got.Status != http.StatusUnauthorized || len(srv.minter.Calls()) != 0 {
			t.Fatalf("fetch for another meeting: %+v, minted %d", got, len(srv.minter.Calls()))
		}
	})
	t.Run("no secret anywhere", func(t *testing.T) {
		a, fake := newPair(t, true)
		srv := newTokenServer(t, a, postOnly)
		id := srv.launch(t, a, fake, onbehalf.KindOBF)
		got := fake.Fetch(context.Background(), id, onbehalf.KindOBF, platformdemo.Tamper{NoCredentials: true})
		if got.Status != http.StatusUnauthorized || len(srv.minter.Calls()) != 0 || !strings.Contains(got.Body, "missing") {
			t.Fatalf("fetch without the secret: %+v", got)
		}
	})
}
