package zoomdemo

import (
	"net/http"
	"time"
)

// JoinTokenTTL is the expire_in of join tokens: Zoom documents that it is
// always 120 seconds.
const JoinTokenTTL = 120 * time.Second

// Prefixes of the join tokens the fake mints: with bypass_waiting_room=true
// (the bot skips the waiting room) and without it.
const (
	JoinTokenPrefix        = "join_"
	JoinTokenWaitingPrefix = "joinwr_"
)

// joinTokenResponse is the JSON body of GET
// /v2/meetings/{meetingId}/jointoken/local_recording, fields in Zoom's
// order.
type joinTokenResponse struct {
	ExpireIn int    `json:"expire_in"`
	Token    string `json:"token"`
}

// SetHost makes userID the host of the meeting meetingID (digits, as Zoom
// meeting IDs): the meeting exists for the join token endpoint, and only
// its host (or an account token of the host's account) may mint its join
// tokens. It panics if the user is unknown.
func (s *Server) SetHost(meetingID, userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[userID]; !ok {
		panic("zoomdemo: SetHost: unknown user " + userID)
	}
	s.hosts[meetingID] = userID
}

// JoinTokenCalls returns the number of requests to the join token endpoint.
func (s *Server) JoinTokenCalls() int { return int(s.joinCalls.Load()) }

// handleJoinToken serves GET
// /v2/meetings/{meetingId}/jointoken/local_recording[?bypass_waiting_room=true]:
// a host's join token for local recording, which lets a bot skip the
// waiting room. With a user's token it needs the grant's scope
// meeting:read:local_recording_token (else 400 code 4711) and the user must
// host the meeting; with an account token the meeting's host must be a
// user of the account. Answers as Zoom documents them: 400 code 300 for a
// malformed ID, 404 code 3001 for a meeting that does not exist. A user
// who is not the host gets 400 code 3000 "Cannot access meeting info." —
// the fake's choice: Zoom documents code 3000 for this endpoint but not
// its message for a non-host.
func (s *Server) handleJoinToken(w http.ResponseWriter, r *http.Request) {
	n := s.joinCalls.Add(1)
	if !sleep(r, time.Duration(s.mintDelay.Load())) {
		return
	}
	acct, isAccount := s.authAccount(r)
	var user User
	if !isAccount {
		u, scope, ok := s.authUser(r)
		if !ok {
			writeJSON(w, http.StatusUnauthorized, errInvalidAccess)
			return
		}
		if !hasScope(scope, scopeJoin) {
			writeJSON(w, http.StatusBadRequest, missingScope(scopeJoin))
			return
		}
		user = u
	}
	if every := s.failEvery.Load(); every > 0 && n%every == 0 {
		writeJSON(w, http.StatusInternalServerError, errMintFailed)
		return
	}
	id := r.PathValue("meetingId")
	if !digits(id) {
		writeJSON(w, http.StatusBadRequest, apiError{Code: 300, Message: "Invalid meeting ID."})
		return
	}
	s.mu.Lock()
	hostID, exists := s.hosts[id]
	host := s.users[hostID]
	s.mu.Unlock()
	switch {
	case !exists || (isAccount && host.AccountID != acct):
		writeJSON(w, http.StatusNotFound, apiError{Code: 3001, Message: "Meeting does not exist: " + id + "."})
		return
	case !isAccount && hostID != user.ID:
		writeJSON(w, http.StatusBadRequest, apiError{Code: 3000, Message: "Cannot access meeting info."})
		return
	}
	prefix := JoinTokenWaitingPrefix
	if r.URL.Query().Get("bypass_waiting_room") == "true" {
		prefix = JoinTokenPrefix
	}
	writeJSON(w, http.StatusOK, joinTokenResponse{ExpireIn: int(JoinTokenTTL.Seconds()), Token: s.mintToken(prefix)})
}

// digits reports whether s is a non-empty string of ASCII digits, as a
// meeting ID is.
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
