package zoomdemo

import (
	"crypto/rand"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// AccountScope is the scope string of account tokens: the admin scopes a
// Server-to-Server app needs to mint ZAK, OBF and join tokens for the
// users of its account.
const AccountScope = "user:read:zak:admin user:read:token:admin meeting:read:local_recording_token:admin"

// accountApp is the Server-to-Server OAuth app of one account.
type accountApp struct {
	accountID, clientID, clientSecret string
}

// EnableAccount creates the Server-to-Server OAuth app of an account:
// POST /oauth/token with grant_type=account_credentials&account_id= and
// the app's credentials in a Basic header answers an account access
// token (expires_in as AccessTTL, no refresh token, several valid at once,
// as Zoom documents). The users of the account are the users whose
// AccountID is accountID (the default user is in acct_1). The app's
// credentials are refused for user grants (400 unsupported_grant_type),
// and the General app's for the account grant. Calling it again replaces
// the app.
func (s *Server) EnableAccount(accountID, clientID, clientSecret string) {
	s.mu.Lock()
	s.account = &accountApp{accountID: accountID, clientID: clientID, clientSecret: clientSecret}
	s.mu.Unlock()
}

// AccountTokenGrants returns the number of account_credentials grant
// requests received, successful or not: a client that caches its account
// token asks once per token lifetime, whatever the number of callers.
func (s *Server) AccountTokenGrants() int { return int(s.accountGrants.Load()) }

// RevokeAccountTokens makes every account token issued so far answer 401
// code 124, as when the app is deactivated or its scopes change; new
// grants work.
func (s *Server) RevokeAccountTokens() {
	s.mu.Lock()
	clear(s.acctToks)
	s.mu.Unlock()
}

// AllowAccountOBF sets whether account tokens may mint OBF tokens
// (type=onbehalf) for the users of the account. Off by default: Zoom
// documents the OBF token as retrieved with the user's own OAuth access
// token, for a user who authorized the app, so the fake refuses it to
// account tokens with 400 code 300 (the code and message of that refusal
// are the fake's, not taken from Zoom). ZAK and join tokens are always
// allowed.
func (s *Server) AllowAccountOBF(on bool) { s.accountOBF.Store(on) }

// accountClientOK reports whether the request authenticates the
// Server-to-Server app with a Basic header.
func (s *Server) accountClientOK(r *http.Request) bool {
	s.mu.Lock()
	app := s.account
	s.mu.Unlock()
	if app == nil {
		return false
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		return false
	}
	idOK := subtle.ConstantTimeCompare([]byte(id), []byte(app.clientID))
	secretOK := subtle.ConstantTimeCompare([]byte(secret), []byte(app.clientSecret))
	return idOK&secretOK == 1
}

// accountGrant answers an account_credentials grant.
func (s *Server) accountGrant(w http.ResponseWriter, r *http.Request, form url.Values) {
	switch {
	case s.accountClientOK(r):
	case s.clientOK(r):
		// Zoom's answer to a user-level app's credentials.
		writeJSON(w, http.StatusBadRequest, errUnsupportedGrant)
		return
	default:
		writeJSON(w, http.StatusUnauthorized, errInvalidClient)
		return
	}
	tok, exp := "zacc_"+rand.Text(), s.now().Add(s.accessTTL())
	s.mu.Lock()
	ok := form.Get("account_id") == s.account.accountID
	if ok {
		s.acctToks[tok] = exp
	}
	s.mu.Unlock()
	if !ok {
		// The fake's wording: Zoom's answer to a wrong account ID was not
		// found in its documentation.
		writeJSON(w, http.StatusBadRequest, oauthError{Reason: "Invalid account_id.", Error: "invalid_request"})
		return
	}
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken: tok,
		TokenType:   "bearer",
		ExpiresIn:   int(s.accessTTL().Seconds()),
		Scope:       AccountScope,
		APIURL:      s.URL,
	})
}

// authAccount returns the account ID of the request's bearer token when it
// is a live account token.
func (s *Server) authAccount(r *http.Request) (string, bool) {
	tok := bearer(r)
	if tok == "" {
		return "", false
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.acctToks[tok]
	if !ok || s.account == nil || !now.Before(exp) {
		return "", false
	}
	return s.account.accountID, true
}

// accountUser returns the user of the account whose ID or email (in any
// case) is id.
func (s *Server) accountUser(accountID, id string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[id]; ok && u.AccountID == accountID {
		return u, true
	}
	for _, u := range s.users {
		if u.AccountID == accountID && u.Email != "" && strings.EqualFold(u.Email, id) {
			return u, true
		}
	}
	return User{}, false
}

// userNotFound is Zoom's answer for a user the caller cannot see.
func userNotFound(id string) apiError {
	return apiError{Code: 1001, Message: "User does not exist: " + id + "."}
}

// handleUserToken serves GET /v2/users/{userId}/token: with an account
// token, for a user of the account (user ID or email); with a user's
// token, for that user only (its ID or email; "me" is handleMint). A user
// the caller cannot see is 404 code 1001, as Zoom answers.
func (s *Server) handleUserToken(w http.ResponseWriter, r *http.Request) {
	s.userToken(w, r, r.PathValue("userId"))
}

// userToken answers GET /v2/users/{userId}/token for the user id ("me":
// the token's own user).
func (s *Server) userToken(w http.ResponseWriter, r *http.Request, id string) {
	n := s.mintCalls.Add(1)
	if !sleep(r, time.Duration(s.mintDelay.Load())) {
		return
	}
	if acct, ok := s.authAccount(r); ok {
		au, ok := s.accountUser(acct, id)
		if !ok {
			writeJSON(w, http.StatusNotFound, userNotFound(id))
			return
		}
		if r.URL.Query().Get("type") == "onbehalf" && !s.accountOBF.Load() {
			writeJSON(w, http.StatusBadRequest, apiError{Code: 300,
				Message: "The onbehalf token can only be retrieved with the user's own OAuth access token."})
			return
		}
		s.mintUserToken(w, r, n, au.ID, func(string) bool { return true })
		return
	}
	u, scope, ok := s.authUser(r)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, errInvalidAccess)
		return
	}
	if id != "me" && id != u.ID && (u.Email == "" || !strings.EqualFold(id, u.Email)) {
		writeJSON(w, http.StatusNotFound, userNotFound(id))
		return
	}
	s.mintUserToken(w, r, n, u.ID, func(need string) bool { return hasScope(scope, need) })
}
