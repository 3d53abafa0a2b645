package zoomtest

import (
	"crypto/rand"
	"net/http"
	"strings"
	"time"
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

// mintResponse is the JSON body of GET /v2/users/me/token.
type mintResponse struct {
	Token string `json:"token"`
}

var (
	errInvalidAccess = apiError{Code: 124, Message: "Invalid access token."}
	errMintFailed    = apiError{Code: 500, Message: "Internal error (fake)."}
)

// authUser returns the user owning the request's bearer access token, or
// false when the token is missing, unknown, invalidated or expired.
func (s *Server) authUser(r *http.Request) (User, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < len("Bearer ") || !strings.EqualFold(h[:len("Bearer ")], "Bearer ") {
		return User{}, false
	}
	tok := strings.TrimSpace(h[len("Bearer "):])
	if tok == "" {
		return User{}, false
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.byAccess[tok]
	if g == nil || !g.accessValid || !now.Before(g.accessExp) {
		return User{}, false
	}
	u, ok := s.users[g.userID]
	return u, ok
}

// handleUsersMe serves GET /v2/users/me.
func (s *Server) handleUsersMe(w http.ResponseWriter, r *http.Request) {
	u, ok := s.authUser(r)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, errInvalidAccess)
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
// ?type=zak. Every successful call mints a new token.
func (s *Server) handleMint(w http.ResponseWriter, r *http.Request) {
	n := s.mintCalls.Add(1)
	if !sleep(r, time.Duration(s.mintDelay.Load())) {
		return
	}
	if _, ok := s.authUser(r); !ok {
		writeJSON(w, http.StatusUnauthorized, errInvalidAccess)
		return
	}
	if every := s.failEvery.Load(); every > 0 && n%every == 0 {
		writeJSON(w, http.StatusInternalServerError, errMintFailed)
		return
	}
	q := r.URL.Query()
	var prefix string
	switch q.Get("type") {
	case "onbehalf":
		id := q.Get("meeting_id")
		if id == "" {
			writeJSON(w, http.StatusBadRequest, apiError{Code: 300, Message: "Meeting ID is required."})
			return
		}
		if !digits(id) {
			writeJSON(w, http.StatusBadRequest, apiError{Code: 300, Message: "Invalid meeting ID."})
			return
		}
		prefix = "obf_"
	case "zak":
		prefix = "zak_"
	default:
		writeJSON(w, http.StatusBadRequest, apiError{Code: 300, Message: "Invalid field: type."})
		return
	}
	tok := prefix + rand.Text()
	s.mu.Lock()
	s.minted = append(s.minted, tok)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, mintResponse{Token: tok})
}

// digits reports whether s is a non-empty string of ASCII digits.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
