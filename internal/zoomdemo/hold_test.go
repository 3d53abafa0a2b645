package zoomdemo

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// rawRefresh posts a refresh_token grant and returns the raw answer (err
// when the connection failed).
func rawRefresh(ctx context.Context, s *Server, rt string) (status int, body []byte, err error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	req, _ := http.NewRequestWithContext(ctx, "POST", s.URL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(testID, testSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

type rawAnswer struct {
	status int
	body   []byte
	err    error
}

// refreshInBackground starts a raw refresh and returns its answer channel.
func refreshInBackground(ctx context.Context, s *Server, rt string) <-chan rawAnswer {
	out := make(chan rawAnswer, 1)
	go func() {
		status, body, err := rawRefresh(ctx, s, rt)
		out <- rawAnswer{status, body, err}
	}()
	return out
}

func TestHoldNextRefreshAnswers(t *testing.T) {
	for _, a := range []Answer{AnswerNormal, AnswerServerError, AnswerTruncated, AnswerCut, AnswerNoRefreshToken} {
		t.Run(a.String(), func(t *testing.T) {
			s := New(testID, testSecret)
			defer s.Close()
			_, rt := s.IssueGrant(DefaultUserID)
			h := s.HoldNextRefresh()
			res := refreshInBackground(context.Background(), s, rt)
			<-h.Arrived()
			// Zoom has rotated: the new pair is committed, the old token dead.
			issued := s.CurrentRefreshToken(DefaultUserID)
			if issued == rt || h.NewRefreshToken() != issued || h.RefreshToken() != rt {
				t.Fatalf("not rotated on arrival: presented %q, issued %q, current %q", h.RefreshToken(), h.NewRefreshToken(), issued)
			}
			select {
			case <-res:
				t.Fatal("answered before Release")
			case <-time.After(20 * time.Millisecond):
			}
			h.Release(a)
			r := <-res
			<-h.Done()
			var m map[string]any
			jsonErr := json.Unmarshal(r.body, &m)
			switch a {
			case AnswerNormal:
				if r.status != 200 || m["refresh_token"] != issued {
					t.Fatalf("normal: %d %s", r.status, r.body)
				}
			case AnswerServerError:
				if r.status != 500 || jsonErr == nil {
					t.Fatalf("server error: %d %s", r.status, r.body)
				}
			case AnswerTruncated:
				if r.status != 200 || jsonErr == nil || !strings.HasPrefix(string(r.body), `{"access_token":"zat_`) {
					t.Fatalf("truncated: %d %s %v", r.status, r.body, r.err)
				}
			case AnswerCut:
				if r.err == nil {
					t.Fatalf("cut: answered %d %s", r.status, r.body)
				}
			case AnswerNoRefreshToken:
				if _, has := m["refresh_token"]; r.status != 200 || has || m["access_token"] != s.CurrentAccessToken(DefaultUserID) {
					t.Fatalf("no refresh token: %d %s", r.status, r.body)
				}
			}
			// Whatever the answer, the old refresh token is dead.
			if status, _ := refresh(t, s, rt); status != 400 || s.ReusedRefreshTokens() != 1 {
				t.Fatalf("old token after %v: %d, reused %d", a, status, s.ReusedRefreshTokens())
			}
		})
	}
}

func TestHoldNextRefreshBeforeRotate(t *testing.T) {
	s := New(testID, testSecret)
	defer s.Close()
	_, rt := s.IssueGrant(DefaultUserID)
	h := s.HoldNextRefreshBeforeRotate()
	res := refreshInBackground(context.Background(), s, rt)
	<-h.Arrived()
	if h.RefreshToken() != rt || s.CurrentRefreshToken(DefaultUserID) != rt || h.NewRefreshToken() != "" {
		t.Fatal("rotated before Release")
	}
	_, rt2 := s.IssueGrant(DefaultUserID) // the user reconnects meanwhile
	h.Release(AnswerNormal)
	r := <-res
	var m map[string]any
	_ = json.Unmarshal(r.body, &m)
	if r.status != 400 || m["error"] != "invalid_grant" || s.CurrentRefreshToken(DefaultUserID) != rt2 || h.NewRefreshToken() != "" {
		t.Fatalf("after a reconnect: %d %s", r.status, r.body)
	}

	// Without a reconnect, the released refresh rotates normally.
	h = s.HoldNextRefreshBeforeRotate()
	res = refreshInBackground(context.Background(), s, rt2)
	<-h.Arrived()
	h.Release(AnswerNormal)
	if r := <-res; r.status != 200 || h.NewRefreshToken() == "" || s.CurrentRefreshToken(DefaultUserID) != h.NewRefreshToken() {
		t.Fatalf("plain: %d %s", r.status, r.body)
	}
}

func TestHoldQueueReleaseEarlyAndGiveUp(t *testing.T) {
	s := New(testID, testSecret)
	defer s.Close()
	_, rt := s.IssueGrant(DefaultUserID)
	first, second := s.HoldNextRefresh(), s.HoldNextRefresh()
	first.Release(AnswerNormal) // before arrival: no block
	first.Release(AnswerCut)    // ignored
	status, body, err := rawRefresh(context.Background(), s, rt)
	if err != nil || status != 200 {
		t.Fatalf("first: %d %s %v", status, body, err)
	}
	<-first.Done()

	// The second hold takes the next request; its client gives up.
	ctx, cancel := context.WithCancel(context.Background())
	res := refreshInBackground(ctx, s, s.CurrentRefreshToken(DefaultUserID))
	<-second.Arrived()
	cancel()
	if r := <-res; r.err == nil {
		t.Fatalf("abandoned: answered %d", r.status)
	}
	<-second.Done() // the handler saw the client go
	if s.CurrentRefreshToken(DefaultUserID) != second.NewRefreshToken() {
		t.Fatal("the rotated pair is not the fake's")
	}
	// No hold left: refreshes answer at once.
	if status, _ := refresh(t, s, second.NewRefreshToken()); status != 200 {
		t.Fatalf("unheld: %d", status)
	}
}

func TestHoldCloseCutsHeldRequest(t *testing.T) {
	s := New(testID, testSecret)
	_, rt := s.IssueGrant(DefaultUserID)
	h := s.HoldNextRefresh()
	res := refreshInBackground(context.Background(), s, rt)
	<-h.Arrived()
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs on a held request")
	}
	if r := <-res; r.err == nil {
		t.Fatalf("held request answered %d", r.status)
	}
}

func TestOmitRefreshToken(t *testing.T) {
	s := New(testID, testSecret)
	defer s.Close()
	_, rt := s.IssueGrant(DefaultUserID)
	s.OmitRefreshToken(true)
	for range 2 {
		status, body := refresh(t, s, s.CurrentRefreshToken(DefaultUserID))
		if _, has := body["refresh_token"]; status != 200 || has || body["access_token"] != s.CurrentAccessToken(DefaultUserID) {
			t.Fatalf("omitted: %d %v", status, body)
		}
	}
	if status, _ := refresh(t, s, rt); status != 400 {
		t.Fatalf("the first token survived: %d", status)
	}
	s.OmitRefreshToken(false)
	if status, body := refresh(t, s, s.CurrentRefreshToken(DefaultUserID)); status != 200 || body["refresh_token"] == nil {
		t.Fatalf("back to normal: %d %v", status, body)
	}
	// A code exchange always carries the refresh token.
	s.OmitRefreshToken(true)
	q := authorize(t, s, nil)
	if _, body := exchange(t, s, q.Get("code"), verifier); body["refresh_token"] == nil {
		t.Fatalf("exchange: %v", body)
	}
}
