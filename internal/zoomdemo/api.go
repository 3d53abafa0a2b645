package zoomdemo

import (
	"crypto/rand"
	"net/http"
	"strings"
)

// apiError is the JSON body of a failed REST request, as Zoom writes it.
type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// userResponse is the JSON body of GET /v2/users/me.
type userResponse struct {
	ID          string `json:"id"`
	AccountID   string `json:"account_id"`
	Email       string `json:"email"`
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name"`
	DisplayName string `json:"display_name"`
	Status      string `json:"status"`
}

// mintResponse is the JSON body of GET /v2/users/{userId}/token.
type mintResponse struct {
	Token string `json:"token"`
}

var (
	errInvalidAccess = apiError{Code: 124, Message: "Invalid access token."}
	errMintFailed    = apiError{Code: 500, Message: "Internal error (fake)."}
)

// Scopes each endpoint needs in a user's grant.
const (
	scopeUser  = "user:read:user"
	scopeOBF   = "user:read:token"
	scopeZAK   = "user:read:zak"
	scopeJoin  = "meeting:read:local_recording_token"
	bearerWord = "Bearer "
)

// SetScopes sets the scope string (space-separated, as Zoom writes it) of
// the user's next grants: codes exchanged and IssueGrant after the call.
// Like Zoom, a grant keeps its scopes across refreshes; a user whose
// scopes were never set gets Scope. Each REST endpoint needs its scope
// (user:read:user for /users/me, user:read:token for OBF, user:read:zak
// for ZAK, meeting:read:local_recording_token for join tokens) and answers
// 400 {"code":4711,...} without it. It panics if the user is unknown.
func (s *Server) SetScopes(userID, scope string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[userID]; !ok {
		panic("zoomdemo: SetScopes: unknown user " + userID)
	}
	s.scopes[userID] = scope
}

// bearer returns the request's bearer token, or "".
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) < len(bearerWord) || !strings.EqualFold(h[:len(bearerWord)], bearerWord) {
		return ""
	}
	return strings.TrimSpace(h[len(bearerWord):])
}

// authUser returns the user owning the request's bearer access token and
// the grant's scope, or false when the token is missing, unknown,
// invalidated or expired (account tokens are not user tokens).
func (s *Server) authUser(r *http.Request) (User, string, bool) {
	tok := bearer(r)
	if tok == "" {
		return User{}, "", false
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.byAccess[tok]
	if g == nil || !g.accessValid || !now.Before(g.accessExp) {
		return User{}, "", false
	}
	u, ok := s.users[g.userID]
	return u, g.scope, ok
}

// hasScope reports whether the space-separated scope string holds want.
func hasScope(scope, want string) bool {
	for _, s := range strings.Fields(scope) {
		if s == want {
			return true
		}
	}
	return false
}

// missingScope is Zoom's answer to a token whose grant lacks a scope.
func missingScope(scope string) apiError {
	return apiError{Code: 4711, Message: "Invalid access token, does not contain scopes:[" + scope + "]."}
}

// handleUsersMe serves GET /v2/users/me.
func (s *Server) handleUsersMe(w http.ResponseWriter, r *http.Request) {
	u, scope, ok := s.authUser(r)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, errInvalidAccess)
		return
	}
	if !hasScope(scope, scopeUser) {
		writeJSON(w, http.StatusBadRequest, missingScope(scopeUser))
		return
	}
	writeJSON(w, http.StatusOK, userResponse{
		ID:          u.ID,
		AccountID:   u.AccountID,
		Email:       u.Email,
		FirstName:   u.FirstName,
		LastName:    u.LastName,
		DisplayName: u.DisplayName,
		Status:      "active",
	})
}

// handleMint serves GET /v2/users/me/token?type=onbehalf&meeting_id=… and
// ?type=zak with a user's access token. Every successful call mints a new
// token. ("me" is no user of an account token: the fake's account has no
// owner.)
func (s *Server) handleMint(w http.ResponseWriter, r *http.Request) { s.userToken(w, r, "me") }

// mintUserToken answers a /users/{userId}/token request whose caller may
// mint for the user (owner): granted tells whether the caller holds a
// scope.
func (s *Server) mintUserToken(w http.ResponseWriter, r *http.Request, n int64, owner string, granted func(scope string) bool) {
	if every := s.failEvery.Load(); every > 0 && n%every == 0 {
		writeJSON(w, http.StatusInternalServerError, errMintFailed)
		return
	}
	q := r.URL.Query()
	var prefix string
	switch q.Get("type") {
	case "onbehalf":
		if !granted(scopeOBF) {
			writeJSON(w, http.StatusBadRequest, missingScope(scopeOBF))
			return
		}
		id := q.Get("meeting_id")
		if id == "" {
			writeJSON(w, http.StatusBadRequest, apiError{Code: 300, Message: "Meeting ID is required."})
			return
		}
		if !digits(id) {
			writeJSON(w, http.StatusBadRequest, apiError{Code: 300, Message: "Invalid meeting ID."})
			return
		}
		tok := s.mintToken("obf_")
		s.noteOBF(tok, owner, id)
		writeJSON(w, http.StatusOK, mintResponse{Token: tok})
		return
	case "zak":
		if !granted(scopeZAK) {
			writeJSON(w, http.StatusBadRequest, missingScope(scopeZAK))
			return
		}
		prefix = "zak_"
	default:
		writeJSON(w, http.StatusBadRequest, apiError{Code: 300, Message: "Invalid field: type."})
		return
	}
	writeJSON(w, http.StatusOK, mintResponse{Token: s.mintToken(prefix)})
}

// mintToken returns a new token with the prefix and records it.
func (s *Server) mintToken(prefix string) string {
	tok := prefix + rand.Text()
	s.mu.Lock()
	s.minted = append(s.minted, tok)
	s.mu.Unlock()
	return tok
}
