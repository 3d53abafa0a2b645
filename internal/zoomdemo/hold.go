package zoomdemo

import (
	"encoding/json"
	"net/http"
	"sync"
)

// Answer chooses how a held refresh is answered (see Hold.Release) and
// names the faults of a Zoom that has already rotated the pair.
type Answer int

// Answers of a held refresh.
const (
	// AnswerNormal is the answer the fake would have given anyway: 200
	// with the new pair (without its refresh token under
	// OmitRefreshToken), or 400 invalid_grant when the refresh token was
	// dead by the time the fake looked at it.
	AnswerNormal Answer = iota
	// AnswerServerError is HTTP 500 with a text/plain body, like a proxy
	// in front of Zoom.
	AnswerServerError
	// AnswerTruncated is the normal answer's status and JSON body cut in
	// the middle (a complete HTTP response whose JSON does not parse).
	AnswerTruncated
	// AnswerCut closes the connection without an answer.
	AnswerCut
	// AnswerNoRefreshToken is 200 with the new access token but no
	// refresh_token field (an error answer stays as it is).
	AnswerNoRefreshToken
)

// String names the answer for test logs.
func (a Answer) String() string {
	switch a {
	case AnswerNormal:
		return "normal"
	case AnswerServerError:
		return "server error"
	case AnswerTruncated:
		return "truncated"
	case AnswerCut:
		return "cut"
	case AnswerNoRefreshToken:
		return "no refresh token"
	}
	return "unknown"
}

// Hold is a refresh_token grant request stopped at the fake until the test
// releases it: it lets a test order events around a refresh without
// sleeping. Get one from HoldNextRefresh or HoldNextRefreshBeforeRotate;
// its methods are safe for concurrent use.
//
//	h := fake.HoldNextRefresh()
//	go mint()                 // a refresh reaches the fake
//	<-h.Arrived()             // Zoom has rotated: the old refresh token is dead
//	...                       // reconnect, disconnect, restart, ...
//	h.Release(zoomdemo.AnswerTruncated)
//	<-h.Done()
//
// A held request whose client gives up is not answered (the rotated pair,
// if any, is lost, as with Zoom); Close cuts the connections of requests
// still held.
type Hold struct {
	beforeRotate bool

	arrived  chan struct{}
	released chan Answer // buffered: Release never blocks
	done     chan struct{}

	once, arriveOnce, doneOnce sync.Once

	mu        sync.Mutex
	presented string
	issued    string
}

// HoldNextRefresh holds the next refresh_token grant request (with valid
// client credentials) after the fake has rotated the grant: the new pair
// is committed at the fake and the presented refresh token is dead when
// Arrived is closed. The request then waits for Release. Calls queue:
// each hold takes the next request.
func (s *Server) HoldNextRefresh() *Hold { return s.queueHold(false) }

// HoldNextRefreshBeforeRotate holds the next refresh_token grant request
// as it arrives, before the fake looks at its refresh token. Whatever the
// test changes meanwhile (a reconnect kills the grant) decides the answer
// after Release: a refresh token that died meanwhile gets 400
// invalid_grant.
func (s *Server) HoldNextRefreshBeforeRotate() *Hold { return s.queueHold(true) }

// OmitRefreshToken makes every successful refresh answer 200 without a
// refresh_token field (on), or with one (off, the default). The fake
// still rotates: the presented refresh token dies and the new one is
// known only to the fake (CurrentRefreshToken), the failure a client must
// notice.
func (s *Server) OmitRefreshToken(on bool) { s.omitRefresh.Store(on) }

// Arrived returns a channel closed when the held request has reached the
// fake (and, for HoldNextRefresh, once the fake has rotated the pair).
func (h *Hold) Arrived() <-chan struct{} { return h.arrived }

// Release lets the held request go on and chooses its answer. Only the
// first call counts; it may come before the request arrives.
func (h *Hold) Release(a Answer) {
	h.once.Do(func() { h.released <- a })
}

// Done returns a channel closed when the held request is over: answered,
// cut, or abandoned by its client.
func (h *Hold) Done() <-chan struct{} { return h.done }

// RefreshToken returns the refresh token the held request presented (""
// before Arrived).
func (h *Hold) RefreshToken() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.presented
}

// NewRefreshToken returns the refresh token the fake issued by rotating
// for the held request: "" before it rotated, or when the presented token
// was dead.
func (h *Hold) NewRefreshToken() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.issued
}

// queueHold adds a hold for the next refresh request.
func (s *Server) queueHold(beforeRotate bool) *Hold {
	h := &Hold{
		beforeRotate: beforeRotate,
		arrived:      make(chan struct{}),
		released:     make(chan Answer, 1),
		done:         make(chan struct{}),
	}
	s.mu.Lock()
	s.holds = append(s.holds, h)
	s.mu.Unlock()
	return h
}

// nextHold takes the first pending hold, or returns nil.
func (s *Server) nextHold() *Hold {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.holds) == 0 {
		return nil
	}
	h := s.holds[0]
	s.holds = s.holds[1:]
	return h
}

// arrive records the tokens and closes Arrived.
func (h *Hold) arrive(presented, issued string) {
	h.mu.Lock()
	h.presented, h.issued = presented, issued
	h.mu.Unlock()
	h.arriveOnce.Do(func() { close(h.arrived) })
}

// setIssued records the refresh token issued after a hold before the
// rotation.
func (h *Hold) setIssued(issued string) {
	h.mu.Lock()
	h.issued = issued
	h.mu.Unlock()
}

// wait blocks until the hold is released (its answer), the client gives
// up (ok false) or the server closes (AnswerCut).
func (h *Hold) wait(r *http.Request, closing <-chan struct{}) (a Answer, ok bool) {
	select {
	case a := <-h.released:
		return a, true
	case <-r.Context().Done():
		return 0, false
	case <-closing:
		return AnswerCut, true
	}
}

// finish closes Done.
func (h *Hold) finish() { h.doneOnce.Do(func() { close(h.done) }) }

// writeAnswer writes body with status, or the fault a chooses instead.
func (s *Server) writeAnswer(w http.ResponseWriter, a Answer, status int, body any) {
	switch a {
	case AnswerServerError:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("Internal Server Error"))
	case AnswerTruncated:
		b, _ := json.Marshal(body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(b[:len(b)/2])
	case AnswerCut:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic("zoomdemo: cannot cut the connection: " + err.Error())
		}
		_ = conn.Close()
	default:
		writeJSON(w, status, body)
	}
}
