// Package platformtest is the conformance suite every bot platform adapter
// runs against its platform's fake (platformdemo.Fake). The suite drives the adapter the
// way the server does — PlanTokenURLs, signed token URLs, CreateBot against
// the platform's fake, then the fake's bots fetching their tokens through
// the one token handler (internal/tokenserve) — and checks what a platform
// would see: the bot created with the canonical meeting URL and the token
// URLs, tokens served in the platform's format for the right connection,
// meeting and kinds, appended parameters harmless, tampered URLs and
// missing credentials refused without minting, HEAD never minting, and
// errors a person can read.
package platformtest

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
	"github.com/onbehalf/onbehalf/internal/tokenserve"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
)

// Harness sets up one platform for the suite.
type Harness struct {
	// New returns the adapter, configured against a new fake with its API
	// key, and the fake. secured turns on the platform's own request
	// credentials (verification secret, webhook secret) on both sides.
	New func(t *testing.T, secured bool) (onbehalf.Platform, platformdemo.Fake)
	// Kinds are what a bot asks for in the suite: every kind the platform
	// can fetch in one bot.
	Kinds []onbehalf.TokenKind
	// Refused lists kind sets PlanTokenURLs must refuse (EINVALID).
	Refused [][]onbehalf.TokenKind
	// Claims is true when the platform's fetches name the meeting, so
	// that a fetch for another meeting can be refused.
	Claims bool
	// Secured is true when the platform has request credentials to check.
	Secured bool
	// APIKey is the key the adapter was configured with (never in an
	// error message).
	APIKey string
	// HTTPS is true when the platform takes only https token URLs: the
	// suite's token server is then NewTLSServer's, which the fake's bots
	// reach with platformdemo.TLSClient().
	HTTPS bool
}

// Meeting and connection of the suite.
const (
	MeetingID  = "85012345678"
	MeetingURL = "https://us02web.zoom.us/j/85012345678?pwd=abc.1"
	ConnID     = "conn_platformtest_0001"
	BotName    = "Suite notetaker"
)

// Minter is a fake token minter: every call mints a new token named after
// its kind, unless Fail is set.
type Minter struct {
	mu    sync.Mutex
	fail  error
	calls []MintCall
}

// MintCall is one call to the Minter.
type MintCall struct {
	ConnID, MeetingID string
	Kind              onbehalf.TokenKind
	Token             string
}

// Mint implements onbehalf.TokenMinter.
func (m *Minter) Mint(ctx context.Context, connID string, kind onbehalf.TokenKind, meetingID string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return "", m.fail
	}
	tok := "tok_" + string(kind) + "_" + rand.Text()
	m.calls = append(m.calls, MintCall{ConnID: connID, MeetingID: meetingID, Kind: kind, Token: tok})
	return tok, nil
}

// Fail makes every call fail with err (nil restores success).
func (m *Minter) Fail(err error) {
	m.mu.Lock()
	m.fail = err
	m.mu.Unlock()
}

// Calls returns the successful calls so far.
func (m *Minter) Calls() []MintCall {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]MintCall(nil), m.calls...)
}

// Server is the token server of the suite: every token route of one
// platform served by tokenserve, with a fake minter.
type Server struct {
	*httptest.Server
	Minter *Minter
	Signer *tokenurl.Signer
}

// NewServer serves p's token routes (and HEAD for GET routes) with
// tokenserve; plain auth_token URLs are off.
func NewServer(t *testing.T, p onbehalf.Platform) *Server {
	t.Helper()
	return newServer(t, p, httptest.NewServer)
}

// NewTLSServer is NewServer over https, with the loopback certificate
// platformdemo.TLSClient() trusts.
func NewTLSServer(t *testing.T, p onbehalf.Platform) *Server {
	t.Helper()
	return newServer(t, p, platformdemo.ServeTLS)
}

// server is the suite's token server of p: NewTLSServer's for an
// https-only platform, else NewServer's.
func (h Harness) server(t *testing.T, p onbehalf.Platform) *Server {
	t.Helper()
	if h.HTTPS {
		return NewTLSServer(t, p)
	}
	return NewServer(t, p)
}

// newServer serves p's token routes with start.
func newServer(t *testing.T, p onbehalf.Platform, start func(http.Handler) *httptest.Server) *Server {
	t.Helper()
	s := &Server{Minter: &Minter{}, Signer: &tokenurl.Signer{Key: tokenurl.NewKey(), TTL: time.Hour}}
	// ZAKs on: the suite checks every kind a platform can carry.
	ts := tokenserve.New(tokenserve.Options{Signer: s.Signer, Minter: s.Minter, BaseURL: "http://onbehalf.test", AllowZAK: true})
	mux := http.NewServeMux()
	for _, rt := range p.TokenRoutes() {
		methods := append([]string(nil), rt.Methods...)
		for _, m := range rt.Methods {
			if m == http.MethodGet {
				methods = append(methods, http.MethodHead)
			}
		}
		for _, m := range methods {
			mux.HandleFunc(m+" "+rt.Path, func(w http.ResponseWriter, r *http.Request) {
				ts.Serve(w, r, p, rt, strings.Split(r.RemoteAddr, ":")[0])
			})
		}
	}
	s.Server = start(mux)
	t.Cleanup(s.Close)
	return s
}

// TokenURLs plans and signs the token URLs of a bot.
func (s *Server) TokenURLs(t *testing.T, p onbehalf.Platform, kinds []onbehalf.TokenKind, botID string) []onbehalf.TokenURL {
	t.Helper()
	plans, err := p.PlanTokenURLs(kinds)
	if err != nil {
		t.Fatalf("PlanTokenURLs(%v): %v", kinds, err)
	}
	var out []onbehalf.TokenURL
	for _, pl := range plans {
		u := s.Signer.URL(s.URL, pl.Path, tokenurl.Params{Platform: p.Name(), Kinds: pl.Kinds, ConnID: ConnID, MeetingID: MeetingID, BotID: botID})
		out = append(out, onbehalf.TokenURL{Kinds: pl.Kinds, URL: u})
	}
	return out
}
