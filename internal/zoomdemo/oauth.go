package zoomdemo

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// maxFormBytes bounds the body of OAuth form posts.
const maxFormBytes = 64 << 10

// oauthError is the JSON body of a failed /oauth/token or /oauth/revoke
// request, as Zoom writes it.
type oauthError struct {
	Reason string `json:"reason"`
	Error  string `json:"error"`
}

// tokenResponse is the JSON body of a successful /oauth/token request.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token,omitempty"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope"`
	APIURL       string `json:"api_url"`
}

var (
	errInvalidClient    = oauthError{Reason: "Invalid client_id or client_secret", Error: "invalid_client"}
	errInvalidToken     = oauthError{Reason: "Invalid Token!", Error: "invalid_grant"}
	errUnsupportedGrant = oauthError{Reason: "unsupported grant type", Error: "unsupported_grant_type"}
)

// handleAuthorize serves GET /oauth/authorize: it validates the request and
// approves it at once (no login page) for the fake_user parameter or the
// default user, redirecting to redirect_uri with a code and the state.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != s.clientID {
		http.Error(w, "Invalid client_id: "+q.Get("client_id"), http.StatusBadRequest)
		return
	}
	if q.Get("response_type") != "code" {
		http.Error(w, "Unsupported response_type: must be code", http.StatusBadRequest)
		return
	}
	redirectURI := q.Get("redirect_uri")
	if redirectURI == "" {
		http.Error(w, "Missing redirect_uri", http.StatusBadRequest)
		return
	}
	if s.AllowedRedirect != "" && redirectURI != s.AllowedRedirect {
		http.Error(w, "Invalid redirect: "+redirectURI+" is not allowed for this app", http.StatusBadRequest)
		return
	}
	target, err := url.Parse(redirectURI)
	if err != nil || target.Scheme == "" || target.Host == "" {
		http.Error(w, "Invalid redirect_uri: not an absolute URL", http.StatusBadRequest)
		return
	}
	challenge := q.Get("code_challenge")
	if challenge != "" && q.Get("code_challenge_method") != "S256" {
		http.Error(w, "Unsupported code_challenge_method: must be S256", http.StatusBadRequest)
		return
	}
	userID := DefaultUserID
	if v, ok := q["fake_user"]; ok {
		userID = v[0]
	}
	s.mu.Lock()
	_, known := s.users[userID]
	s.mu.Unlock()
	if !known {
		http.Error(w, "zoomdemo: unknown fake_user "+strconv.Quote(userID), http.StatusBadRequest)
		return
	}

	params := target.Query()
	if s.denyNext.CompareAndSwap(true, false) {
		params.Set("error", "access_denied")
		params.Set("error_description", "The user has denied your application access.")
	} else {
		code := rand.Text()
		s.mu.Lock()
		s.codes[code] = &authCode{userID: userID, redirectURI: redirectURI, challenge: challenge, created: s.now()}
		s.mu.Unlock()
		params.Set("code", code)
	}
	if state := q.Get("state"); state != "" {
		params.Set("state", state)
	}
	target.RawQuery = params.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
}

// handleToken serves POST /oauth/token for the authorization_code and
// refresh_token grants of the General app and the account_credentials
// grant of the Server-to-Server app (account.go).
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError{Reason: "Invalid request body", Error: "invalid_request"})
		return
	}
	if r.Form.Get("grant_type") == "account_credentials" {
		// Zoom documents this grant with its fields in the query string
		// as well as in the body: both are accepted.
		s.accountGrants.Add(1)
		s.accountGrant(w, r, r.Form)
		return
	}
	form := r.PostForm
	grantType := form.Get("grant_type")
	switch grantType {
	case "authorization_code":
		s.codeExchanges.Add(1)
	case "refresh_token":
		s.refreshCalls.Add(1)
	}
	if s.accountClientOK(r) {
		// A Server-to-Server app has no user grants.
		writeJSON(w, http.StatusBadRequest, errUnsupportedGrant)
		return
	}
	if !s.clientOK(r) {
		writeJSON(w, http.StatusUnauthorized, errInvalidClient)
		return
	}
	switch grantType {
	case "authorization_code":
		s.exchangeCode(w, form)
	case "refresh_token":
		if s.failRefresh(w) {
			return
		}
		s.refresh(w, r, form.Get("refresh_token"))
	default:
		writeJSON(w, http.StatusBadRequest, errUnsupportedGrant)
	}
}

// clientOK reports whether the request authenticates the client with an
// HTTP Basic header. Credentials in the form body do not count.
func (s *Server) clientOK(r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	if !ok {
		return false
	}
	idOK := subtle.ConstantTimeCompare([]byte(id), []byte(s.clientID)) == 1
	return s.secretOK(secret) && idOK
}

// exchangeCode answers an authorization_code grant. A code is consumed by
// the first attempt to use it, successful or not.
func (s *Server) exchangeCode(w http.ResponseWriter, form url.Values) {
	code := form.Get("code")
	s.mu.Lock()
	ac := s.codes[code]
	delete(s.codes, code)
	s.mu.Unlock()

	badCode := oauthError{Reason: "Invalid authorization code " + code, Error: "invalid_grant"}
	if ac == nil || code == "" || s.now().Sub(ac.created) >= CodeTTL {
		writeJSON(w, http.StatusBadRequest, badCode)
		return
	}
	if form.Get("redirect_uri") != ac.redirectURI {
		writeJSON(w, http.StatusBadRequest, oauthError{Reason: "Redirect URI mismatch.", Error: "invalid_grant"})
		return
	}
	if ac.challenge != "" {
		sum := sha256.Sum256([]byte(form.Get("code_verifier")))
		got := base64.RawURLEncoding.EncodeToString(sum[:])
		if form.Get("code_verifier") == "" || subtle.ConstantTimeCompare([]byte(got), []byte(ac.challenge)) != 1 {
			writeJSON(w, http.StatusBadRequest, badCode)
			return
		}
	}
	g, ok := s.newGrant(ac.userID)
	if !ok {
		writeJSON(w, http.StatusBadRequest, badCode)
		return
	}
	writeJSON(w, http.StatusOK, s.tokenBody(&g, false))
}

// refresh answers a refresh_token grant: it rotates the pair, killing the
// presented refresh token and the old access token. A pending hold
// (hold.go) stops it before or after the rotation and chooses its answer.
func (s *Server) refresh(w http.ResponseWriter, r *http.Request, old string) {
	answer := AnswerNormal
	h := s.nextHold()
	if h != nil {
		defer h.finish()
		if h.beforeRotate {
			h.arrive(old, "")
			a, ok := h.wait(r, s.closing)
			if !ok {
				return // the client gave up before Zoom looked at the token
			}
			answer = a
		}
	}

	out, rotated := s.rotate(old)
	if h != nil && h.beforeRotate {
		h.setIssued(out.refresh)
	} else if h != nil {
		h.arrive(old, out.refresh)
		a, ok := h.wait(r, s.closing)
		if !ok {
			return // the client gave up: the new pair is lost, as with Zoom
		}
		answer = a
	}
	if !sleep(r, time.Duration(s.refreshDelay.Load())) {
		return // the client gave up: the new pair is lost, as with Zoom
	}
	if !rotated {
		s.writeAnswer(w, answer, http.StatusBadRequest, errInvalidToken)
		return
	}
	omit := s.omitRefresh.Load() || answer == AnswerNoRefreshToken
	s.writeAnswer(w, answer, http.StatusOK, s.tokenBody(&out, omit))
}

// rotate replaces the pair of the grant that holds the refresh token old
// and returns a copy of the grant; rotated is false when old is not a live
// refresh token (a reuse of a rotated one is counted).
func (s *Server) rotate(old string) (out grant, rotated bool) {
	access, refresh := "zat_"+rand.Text(), "zrt_"+rand.Text()
	exp := s.now().Add(s.accessTTL())

	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.byRefresh[old]
	if g == nil || old == "" {
		if _, wasRotated := s.rotated[old]; wasRotated {
			s.reused.Add(1)
		}
		return grant{}, false
	}
	delete(s.byRefresh, old)
	delete(s.byAccess, g.access)
	s.rotated[old] = struct{}{}
	s.replaced[refresh] = old
	g.access, g.refresh, g.accessExp, g.accessValid = access, refresh, exp, true
	s.byAccess[access] = g
	s.byRefresh[refresh] = g
	return *g, true
}

// tokenBody returns the successful token response for g, without its
// refresh token when omitRefresh is set.
func (s *Server) tokenBody(g *grant, omitRefresh bool) tokenResponse {
	out := tokenResponse{
		AccessToken:  g.access,
		TokenType:    "bearer",
		RefreshToken: g.refresh,
		ExpiresIn:    int(s.accessTTL().Seconds()),
		Scope:        g.scope,
		APIURL:       s.URL,
	}
	if omitRefresh {
		out.RefreshToken = ""
	}
	return out
}

// handleRevoke serves POST /oauth/revoke: the grant owning the access or
// refresh token in the token form field dies.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError{Reason: "Invalid request body", Error: "invalid_request"})
		return
	}
	if !s.clientOK(r) {
		writeJSON(w, http.StatusUnauthorized, errInvalidClient)
		return
	}
	tok := r.PostForm.Get("token")
	s.mu.Lock()
	g := s.byAccess[tok]
	if g == nil {
		g = s.byRefresh[tok]
	}
	if g != nil && tok != "" {
		s.dropGrantLocked(g.userID)
	}
	s.mu.Unlock()
	if g == nil || tok == "" {
		writeJSON(w, http.StatusBadRequest, errInvalidToken)
		return
	}
	s.revocations.Add(1)
	writeJSON(w, http.StatusOK, map[string]string{"status": "success"})
}

// writeJSON writes v as a JSON response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
