// Package zoomdemo is the fake Zoom that `onbehalf demo` runs and the
// tests use (it ships in the binary, hence not a *test name): the OAuth
// endpoints of a user-level "General app" (authorize, token, revoke), the
// account grant
// of a Server-to-Server OAuth app (account.go), and the REST endpoints
// onbehalf uses (GET /v2/users/me, GET /v2/users/{userId}/token and GET
// /v2/meetings/{meetingId}/jointoken/local_recording), served by an
// httptest.Server on the loopback interface.
//
// It behaves like the real Zoom where that matters to a client:
//
//   - client authentication at /oauth/token and /oauth/revoke only through an
//     HTTP Basic header;
//   - authorization codes are single use, live 5 minutes and are bound to the
//     redirect URI and the PKCE (S256) challenge given at authorize;
//   - refresh tokens rotate: every refresh issues a new pair and kills the
//     old refresh token and the old access token;
//   - a user has at most one grant: authorizing again kills the old tokens;
//   - REST errors are JSON {"code":124,"message":"Invalid access token."};
//     a grant without the scope an endpoint needs gets code 4711;
//   - every call to /users/me/token mints a different token.
//
// Controls (InvalidateAccess, RevokeGrant, FailMintEvery, delays, a clock,
// SetScopes, SetHost, the refresh holds of hold.go) and counters
// (RefreshCalls, ReusedRefreshTokens, AccountTokenGrants, ...) let tests
// drive the failure modes of the real service. Everything is safe for
// concurrent use.
package zoomdemo

import (
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of a new Server.
const (
	// DefaultUserID is the ID of the user that exists in every new Server
	// and approves authorization requests without a fake_user parameter.
	DefaultUserID = "zu_default"
	// DefaultAccessTTL is the lifetime of access tokens when AccessTTL is
	// zero; Zoom answers expires_in 3599.
	DefaultAccessTTL = 3599 * time.Second
	// CodeTTL is the lifetime of an authorization code.
	CodeTTL = 5 * time.Minute
	// Scope is the scope string granted to a user whose scopes SetScopes
	// did not change: every scope onbehalf uses (profile, OBF, ZAK, host
	// join token), so that every endpoint answers.
	Scope = "user:read:user user:read:token user:read:zak meeting:read:local_recording_token"
)

// User is a Zoom user known to the fake.
type User struct {
	ID          string
	AccountID   string
	Email       string
	FirstName   string
	LastName    string
	DisplayName string
}

// Server is a running fake Zoom. Create it with New and stop it with Close.
//
// AccessTTL and AllowedRedirect must be set before the first request; the
// control methods may be called at any time from any goroutine.
type Server struct {
	// URL is the OAuth base URL (http://127.0.0.1:port), the equivalent of
	// https://zoom.us. The REST API lives at APIURL().
	URL string
	// AccessTTL is the lifetime of access tokens (DefaultAccessTTL if zero).
	AccessTTL time.Duration
	// AllowedRedirect, when set, is the only redirect_uri /oauth/authorize
	// accepts, like the allow list of a Zoom app.
	AllowedRedirect string

	clientID, clientSecret string
	ts                     *httptest.Server

	mu        sync.Mutex
	users     map[string]User
	grants    map[string]*grant // by user ID
	byAccess  map[string]*grant
	byRefresh map[string]*grant
	rotated   map[string]struct{} // refresh tokens killed by a rotation
	replaced  map[string]string   // refresh token issued by a rotation → the one it replaced
	codes     map[string]*authCode
	minted    []string
	scopes    map[string]string // user ID → scope of the user's next grants (SetScopes)
	hosts     map[string]string // meeting ID → host user ID (SetHost)
	holds     []*Hold           // pending refresh holds, first served first
	account   *accountApp       // the Server-to-Server app (EnableAccount), nil if none
	acctToks  map[string]time.Time
	meet      meetings // meetings.go: who is in which meeting, whose OBF tokens

	closing   chan struct{} // closed by Close: held requests give up
	closeOnce sync.Once

	denyNext     atomic.Bool
	clock        atomic.Pointer[func() time.Time]
	mintDelay    atomic.Int64
	refreshDelay atomic.Int64
	failEvery    atomic.Int64
	omitRefresh  atomic.Bool
	accountOBF   atomic.Bool
	secrets      atomic.Pointer[[]string] // SetClientSecrets; nil: clientSecret only
	faults       refreshFaults            // FailRefreshes

	refreshCalls  atomic.Int64
	mintCalls     atomic.Int64
	joinCalls     atomic.Int64
	accountGrants atomic.Int64
	codeExchanges atomic.Int64
	reused        atomic.Int64
	revocations   atomic.Int64
	openConns     atomic.Int64
}

// grant is one user's authorization of the client: the current token pair.
type grant struct {
	userID      string
	access      string
	refresh     string
	accessExp   time.Time
	accessValid bool
	scope       string // fixed when the grant is made; a refresh keeps it
}

// authCode is an authorization code waiting to be exchanged.
type authCode struct {
	userID      string
	redirectURI string
	challenge   string
	created     time.Time
}

// New starts a fake Zoom that knows one OAuth client and the default user
// (ID DefaultUserID, default@example.com, "Default User", account acct_1).
func New(clientID, clientSecret string) *Server {
	s := &Server{
		clientID:     clientID,
		clientSecret: clientSecret,
		users:        make(map[string]User),
		grants:       make(map[string]*grant),
		byAccess:     make(map[string]*grant),
		byRefresh:    make(map[string]*grant),
		rotated:      make(map[string]struct{}),
		replaced:     make(map[string]string),
		codes:        make(map[string]*authCode),
		scopes:       make(map[string]string),
		hosts:        make(map[string]string),
		acctToks:     make(map[string]time.Time),
		closing:      make(chan struct{}),
	}
	s.users[DefaultUserID] = User{
		ID:          DefaultUserID,
		AccountID:   "acct_1",
		Email:       "default@example.com",
		FirstName:   "Default",
		LastName:    "User",
		DisplayName: "Default User",
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth/authorize", s.handleAuthorize)
	mux.HandleFunc("POST /oauth/token", s.handleToken)
	mux.HandleFunc("POST /oauth/revoke", s.handleRevoke)
	mux.HandleFunc("GET /v2/users/me", s.handleUsersMe)
	mux.HandleFunc("GET /v2/users/me/token", s.handleMint)
	mux.HandleFunc("GET /v2/users/{userId}/token", s.handleUserToken)
	mux.HandleFunc("GET /v2/meetings/{meetingId}/jointoken/local_recording", s.handleJoinToken)
	mux.HandleFunc("GET /v2/users/{userId}/presence_status", s.handlePresence)
	s.ts = httptest.NewUnstartedServer(mux)
	s.ts.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			s.openConns.Add(1)
		case http.StateClosed, http.StateHijacked:
			s.openConns.Add(-1)
		}
	}
	s.ts.Start()
	s.URL = s.ts.URL
	return s
}

// Close shuts the server down and waits for pending requests. A refresh
// still held (hold.go) gets its connection cut.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
	s.ts.Close()
}

// APIURL returns the base URL of the REST API, the equivalent of
// https://api.zoom.us/v2.
func (s *Server) APIURL() string { return s.URL + "/v2" }

// AddUser adds a user, or replaces the profile of the user with the same ID
// (existing grants are kept).
func (s *Server) AddUser(u User) {
	if u.ID == "" {
		panic("zoomdemo: AddUser needs a user ID")
	}
	s.mu.Lock()
	s.users[u.ID] = u
	s.mu.Unlock()
}

// IssueGrant gives the client a fresh grant for an existing user, as if the
// user had just authorized the app and the code had been exchanged, and
// returns its tokens. Any previous grant of the user dies. It panics if the
// user is unknown.
func (s *Server) IssueGrant(userID string) (accessToken, refreshToken string) {
	g, ok := s.newGrant(userID)
	if !ok {
		panic(fmt.Sprintf("zoomdemo: IssueGrant: unknown user %q", userID))
	}
	return g.access, g.refresh
}

// DenyNext makes the next valid authorization request redirect back with
// error=access_denied, as if the user clicked "Decline".
func (s *Server) DenyNext() { s.denyNext.Store(true) }

// SetClock replaces time.Now for access token and code expiry. nil restores
// the real clock.
func (s *Server) SetClock(now func() time.Time) {
	if now == nil {
		s.clock.Store(nil)
		return
	}
	s.clock.Store(&now)
}

// InvalidateAccess makes the user's current access token answer 401 code
// 124, as after a password change; the refresh token stays valid.
func (s *Server) InvalidateAccess(userID string) {
	s.mu.Lock()
	if g := s.grants[userID]; g != nil {
		g.accessValid = false
	}
	s.mu.Unlock()
}

// RevokeGrant kills the user's grant: its refresh token answers
// invalid_grant and its access token 401, as when the user removes the app.
func (s *Server) RevokeGrant(userID string) {
	s.mu.Lock()
	s.dropGrantLocked(userID)
	s.mu.Unlock()
}

// SetMintDelay makes the token endpoints (/users/{userId}/token and the
// join token endpoint) wait d before answering (a request whose context
// ends first gets no answer).
func (s *Server) SetMintDelay(d time.Duration) { s.mintDelay.Store(int64(d)) }

// SetRefreshDelay makes refresh_token grants wait d before answering. The
// rotation happens before the wait, like a Zoom that has committed the new
// pair but whose answer is slow: a client that gives up loses the new pair.
func (s *Server) SetRefreshDelay(d time.Duration) { s.refreshDelay.Store(int64(d)) }

// FailMintEvery makes every n-th request to /users/{userId}/token (counted
// as in MintCalls) and every n-th request to the join token endpoint
// (counted as in JoinTokenCalls) answer 500 {"code":500,...}. 0 turns it
// off.
func (s *Server) FailMintEvery(n int) { s.failEvery.Store(int64(n)) }

// RefreshCalls returns the number of refresh_token grant requests received,
// successful or not.
func (s *Server) RefreshCalls() int { return int(s.refreshCalls.Load()) }

// MintCalls returns the number of requests to /users/{userId}/token
// (/users/me/token included), whatever the token.
func (s *Server) MintCalls() int { return int(s.mintCalls.Load()) }

// AuthCodeExchanges returns the number of authorization_code grant requests
// received, successful or not.
func (s *Server) AuthCodeExchanges() int { return int(s.codeExchanges.Load()) }

// ReusedRefreshTokens returns the number of refresh requests that presented
// a refresh token killed by an earlier rotation: the bug a client must never
// commit, since on the real Zoom it loses the connection for good.
func (s *Server) ReusedRefreshTokens() int { return int(s.reused.Load()) }

// PreviousRefreshToken returns the refresh token that tok replaced, when
// the fake issued tok by rotating it.
func (s *Server) PreviousRefreshToken(tok string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.replaced[tok]
	return old, ok
}

// WaitIdle waits until no client connection is open (a client that died
// has then had every request it sent answered), at most timeout; it
// reports whether that happened.
func (s *Server) WaitIdle(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for s.openConns.Load() > 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// Revocations returns the number of successful /oauth/revoke requests.
func (s *Server) Revocations() int { return int(s.revocations.Load()) }

// Minted returns a copy of every token minted (OBF, ZAK and join tokens,
// with user and account tokens alike), in order.
func (s *Server) Minted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.minted...)
}

// CurrentRefreshToken returns the refresh token of the user's grant, or ""
// when the user has no grant.
func (s *Server) CurrentRefreshToken(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.grants[userID]; g != nil {
		return g.refresh
	}
	return ""
}

// CurrentAccessToken returns the latest access token issued for the user's
// grant (even if it was invalidated or has expired since), or "" when the
// user has no grant.
func (s *Server) CurrentAccessToken(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.grants[userID]; g != nil {
		return g.access
	}
	return ""
}

// now returns the current time of the fake's clock.
func (s *Server) now() time.Time {
	if p := s.clock.Load(); p != nil {
		return (*p)()
	}
	return time.Now()
}

// accessTTL returns the lifetime of new access tokens.
func (s *Server) accessTTL() time.Duration {
	if s.AccessTTL > 0 {
		return s.AccessTTL
	}
	return DefaultAccessTTL
}

// newGrant replaces the user's grant with a fresh one and returns a copy of
// it; ok is false when the user is unknown.
func (s *Server) newGrant(userID string) (g grant, ok bool) {
	access, refresh := "zat_"+rand.Text(), "zrt_"+rand.Text()
	exp := s.now().Add(s.accessTTL())
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[userID]; !ok {
		return grant{}, false
	}
	s.dropGrantLocked(userID)
	scope, ok := s.scopes[userID]
	if !ok {
		scope = Scope
	}
	ng := &grant{userID: userID, access: access, refresh: refresh, accessExp: exp, accessValid: true, scope: scope}
	s.grants[userID] = ng
	s.byAccess[access] = ng
	s.byRefresh[refresh] = ng
	return *ng, true
}

// dropGrantLocked deletes the user's grant and its tokens. s.mu is held.
func (s *Server) dropGrantLocked(userID string) {
	g := s.grants[userID]
	if g == nil {
		return
	}
	delete(s.byAccess, g.access)
	delete(s.byRefresh, g.refresh)
	delete(s.grants, userID)
}

// sleep waits d or until the request context ends; it reports whether the
// full delay elapsed.
func sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}
