package zoomdemo

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConcurrentRefreshSameToken shows the failure mode a client must
// avoid: of many concurrent refreshes with one token, exactly one wins and
// every other one is counted as a reuse.
func TestConcurrentRefreshSameToken(t *testing.T) {
	s := New(testID, testSecret)
	defer s.Close()
	_, rt := s.IssueGrant(DefaultUserID)

	const n = 50
	var wg sync.WaitGroup
	var ok, rejected atomic.Int64
	for range n {
		wg.Go(func() {
			switch status, _ := refresh(t, s, rt); status {
			case 200:
				ok.Add(1)
			case 400:
				rejected.Add(1)
			default:
				t.Errorf("status %d", status)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || rejected.Load() != n-1 || s.ReusedRefreshTokens() != n-1 || s.RefreshCalls() != n {
		t.Fatalf("ok %d, rejected %d, reused %d, calls %d", ok.Load(), rejected.Load(), s.ReusedRefreshTokens(), s.RefreshCalls())
	}
}

// TestRefreshDelayLosesPair checks that a client giving up during a slow
// refresh loses the rotated pair, as with the real Zoom.
func TestRefreshDelayLosesPair(t *testing.T) {
	s := New(testID, testSecret)
	defer s.Close()
	_, rt := s.IssueGrant(DefaultUserID)
	s.SetRefreshDelay(time.Minute)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	req, _ := http.NewRequestWithContext(ctx, "POST", s.URL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(testID, testSecret)
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("slow refresh answered")
	}
	if cur := s.CurrentRefreshToken(DefaultUserID); cur == rt || cur == "" {
		t.Fatalf("rotation did not happen: %q", cur)
	}
	s.SetRefreshDelay(0)
	if status, _ := refresh(t, s, rt); status != 400 || s.ReusedRefreshTokens() != 1 {
		t.Fatalf("retry with the old token: %d, reused %d", status, s.ReusedRefreshTokens())
	}
}

// TestConcurrentMixed runs mints, users/me, refreshes and controls at once
// for the race detector.
func TestConcurrentMixed(t *testing.T) {
	s := New(testID, testSecret)
	defer s.Close()
	for _, id := range []string{"zu_a", "zu_b", "zu_c"} {
		s.AddUser(User{ID: id, Email: id + "@example.com"})
	}
	var wg sync.WaitGroup
	for i := range 60 {
		user := []string{"zu_a", "zu_b", "zu_c"}[i%3]
		wg.Go(func() {
			at, rt := s.IssueGrant(user)
			get(t, s, "/users/me/token?type=onbehalf&meeting_id=85012345678", at)
			get(t, s, "/users/me", at)
			refresh(t, s, rt)
			s.InvalidateAccess(user)
			_ = s.Minted()
			_ = s.CurrentAccessToken(user)
			if i%10 == 0 {
				s.RevokeGrant(user)
			}
		})
	}
	wg.Wait()
	if s.MintCalls() != 60 || s.RefreshCalls() != 60 {
		t.Fatalf("MintCalls %d, RefreshCalls %d", s.MintCalls(), s.RefreshCalls())
	}
}

// BenchmarkMint measures the fake's fast path: parallel OBF mints with one
// access token.
func BenchmarkMint(b *testing.B) {
	s := New(testID, testSecret)
	defer s.Close()
	at, _ := s.IssueGrant(DefaultUserID)
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	u := s.APIURL() + "/users/me/token?type=onbehalf&meeting_id=85012345678"
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("GET", u, nil)
			req.Header.Set("Authorization", "Bearer "+at)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			var buf [256]byte
			for {
				if _, err := resp.Body.Read(buf[:]); err != nil {
					break
				}
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}
