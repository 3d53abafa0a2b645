package zoomdemo

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
)

// Meetings and Zoom's rule for OBF tokens: a bot joins on an OBF token only
// while the token's user is in the meeting, each token once, and only the
// meeting it was minted for. Tests put users in and out of meetings
// (JoinMeeting, LeaveMeeting) and ask AdmitBot whether Zoom would let a bot
// in with a token; the presence endpoint (GET
// /v2/users/{userId}/presence_status, scope user:read:presence_status)
// reports In_A_Zoom_Meeting for a user in any meeting, Available
// otherwise, unless SetPresence says something else.

// scopePresence is the scope of the presence endpoint.
const scopePresence = "user:read:presence_status"

// Meeting SDK join codes AdmitBot refuses with (Zoom's numbers).
const (
	// SDKUserNotInMeeting: the token's user is not in the meeting.
	SDKUserNotInMeeting = 501
	// SDKTokenInvalid: the token is unknown or was used already.
	SDKTokenInvalid = 505
	// SDKTokenWrongMeeting: the token was minted for another meeting.
	SDKTokenWrongMeeting = 506
)

// JoinRefusal is AdmitBot's refusal, with the Meeting SDK's code.
type JoinRefusal struct {
	Code   int
	Reason string
}

func (e *JoinRefusal) Error() string {
	return fmt.Sprintf("zoom refused the bot (%d): %s", e.Code, e.Reason)
}

// meetings is the fake's meeting state.
type meetings struct {
	mu       sync.Mutex
	obf      map[string]*obfToken       // OBF token → whose, for which meeting
	in       map[string]map[string]bool // meeting ID → users in it
	presence map[string]string          // user ID → status set by SetPresence
	calls    atomic.Int64               // presence requests
	// on: a meeting was joined, so OBF tokens are tracked from then on (a
	// fake serving a benchmark keeps no token it will not be asked about).
	on atomic.Bool
}

// obfToken is a minted OBF token.
type obfToken struct {
	owner, meetingID string
	used             bool
}

// noteOBF records whose OBF token tok is, and for which meeting.
func (s *Server) noteOBF(tok, owner, meetingID string) {
	m := &s.meet
	if !m.on.Load() {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.obf == nil {
		m.obf = map[string]*obfToken{}
	}
	m.obf[tok] = &obfToken{owner: owner, meetingID: meetingID}
}

// JoinMeeting puts a user in a meeting (the person opened the link). OBF
// tokens are tracked for AdmitBot from the first call on: call it (or
// TrackMeetings) before the bots fetch their tokens.
func (s *Server) JoinMeeting(meetingID, userID string) {
	m := &s.meet
	m.on.Store(true)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.in == nil {
		m.in = map[string]map[string]bool{}
	}
	if m.in[meetingID] == nil {
		m.in[meetingID] = map[string]bool{}
	}
	m.in[meetingID][userID] = true
}

// TrackMeetings starts tracking OBF tokens for AdmitBot before anyone
// joined a meeting.
func (s *Server) TrackMeetings() { s.meet.on.Store(true) }

// LeaveMeeting takes a user out of a meeting.
func (s *Server) LeaveMeeting(meetingID, userID string) {
	m := &s.meet
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.in[meetingID], userID)
}

// InMeeting reports whether a user is in a meeting.
func (s *Server) InMeeting(meetingID, userID string) bool {
	m := &s.meet
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.in[meetingID][userID]
}

// AdmitBot applies Zoom's rule to a bot joining meetingID with an OBF
// token: it returns the token's user, or a *JoinRefusal (unknown or used
// token 505, another meeting's token 506, its user not in the meeting
// 501). A token that let a bot in is spent (single use); a refused one is
// not (Attendee retries with the same token until its user comes).
func (s *Server) AdmitBot(meetingID, tok string) (string, error) {
	m := &s.meet
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.obf[tok]
	switch {
	case t == nil || t.used:
		return "", &JoinRefusal{SDKTokenInvalid, "unknown or used OBF token"}
	case t.meetingID != meetingID:
		return "", &JoinRefusal{SDKTokenWrongMeeting, "token minted for another meeting"}
	case !m.in[meetingID][t.owner]:
		return "", &JoinRefusal{SDKUserNotInMeeting, "the token's user is not in the meeting"}
	}
	t.used = true
	return t.owner, nil
}

// SetPresence sets the presence status Zoom reports for a user ("" goes
// back to the meetings: In_A_Zoom_Meeting while in one, else Available).
func (s *Server) SetPresence(userID, status string) {
	m := &s.meet
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.presence == nil {
		m.presence = map[string]string{}
	}
	m.presence[userID] = status
}

// PresenceCalls counts presence requests.
func (s *Server) PresenceCalls() int64 { return s.meet.calls.Load() }

// presenceOf returns a user's presence status.
func (s *Server) presenceOf(userID string) string {
	m := &s.meet
	m.mu.Lock()
	defer m.mu.Unlock()
	if st := m.presence[userID]; st != "" {
		return st
	}
	for _, users := range m.in {
		if users[userID] {
			return "In_A_Zoom_Meeting"
		}
	}
	return "Available"
}

// handlePresence serves GET /v2/users/{userId}/presence_status for "me"
// or the caller's own ID, with scope user:read:presence_status.
func (s *Server) handlePresence(w http.ResponseWriter, r *http.Request) {
	s.meet.calls.Add(1)
	u, scope, ok := s.authUser(r)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, errInvalidAccess)
		return
	}
	if id := r.PathValue("userId"); id != "me" && id != u.ID {
		writeJSON(w, http.StatusNotFound, userNotFound(id))
		return
	}
	if !hasScope(scope, scopePresence) {
		writeJSON(w, http.StatusBadRequest, missingScope(scopePresence))
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Status string `json:"status"`
	}{s.presenceOf(u.ID)})
}
