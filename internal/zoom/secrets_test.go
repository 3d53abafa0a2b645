package zoom_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/ratelimit"
	"github.com/onbehalf/onbehalf/internal/zoom"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// TestClientSecretRotation walks Zoom's secret rotation with
// ZOOM_CLIENT_SECRET=new,old: before Zoom knows the new secret, each
// secret refused costs one retry, and the secret Zoom accepted is tried
// first afterwards; once Zoom drops the old one, the new one takes over.
func TestClientSecretRotation(t *testing.T) {
	ctx := context.Background()
	f := zoomdemo.New("cid", "old")
	defer f.Close()
	c := zoom.New(zoom.Options{ClientID: "cid", ClientSecrets: []string{"new", "old"}, OAuthURL: f.URL, APIURL: f.APIURL()})
	_, rt := f.IssueGrant(zoomdemo.DefaultUserID)

	// Zoom knows only the old secret: new is refused, old works.
	tok, err := c.Refresh(ctx, rt)
	if err != nil {
		t.Fatalf("refresh with new,old while Zoom knows only old: %v", err)
	}
	if n := f.RefreshCalls(); n != 2 {
		t.Fatalf("refresh calls = %d, want 2 (new refused, old accepted)", n)
	}
	if tok, err = c.Refresh(ctx, tok.RefreshToken); err != nil || f.RefreshCalls() != 3 {
		t.Fatalf("second refresh: err %v, calls %d; want the old secret first (3 calls)", err, f.RefreshCalls())
	}
	checks := c.CheckClientSecrets(ctx)
	if len(checks) != 2 || checks[0].Accepted || !checks[1].Accepted || !checks[1].Preferred || checks[0].Err != nil || checks[1].Err != nil {
		t.Fatalf("CheckClientSecrets = %+v, want only the old one (index 1) accepted and preferred", checks)
	}

	// The rotation at Zoom: both work, then only the new one.
	f.SetClientSecrets("new")
	if tok, err = c.Refresh(ctx, tok.RefreshToken); err != nil || f.RefreshCalls() != 5 {
		t.Fatalf("refresh after Zoom dropped old: err %v, calls %d; want old refused then new accepted (5 calls)", err, f.RefreshCalls())
	}
	if tok, err = c.Refresh(ctx, tok.RefreshToken); err != nil || f.RefreshCalls() != 6 {
		t.Fatalf("refresh after the switch: err %v, calls %d; want the new secret first (6 calls)", err, f.RefreshCalls())
	}
	if f.ReusedRefreshTokens() != 0 {
		t.Fatal("a refused client spent a refresh token")
	}
	// Revoke follows the same rule.
	f.SetClientSecrets("old")
	if err := c.Revoke(ctx, tok.AccessToken); err != nil || f.Revocations() != 1 {
		t.Fatalf("revoke after switching back: err %v, revocations %d", err, f.Revocations())
	}

	// Both refused: invalid_client, said once, never with a secret.
	f.SetClientSecrets("other")
	_, rt = f.IssueGrant(zoomdemo.DefaultUserID)
	_, err = c.Refresh(ctx, rt)
	if onbehalf.ErrorCode(err) != onbehalf.EUPSTREAM {
		t.Fatalf("both secrets refused: %v, want EUPSTREAM", err)
	}
	noLeak(t, err, "new", "old")
}

// TestOneSecretIsNotRetried: with one secret, a refused client is one call.
func TestOneSecretIsNotRetried(t *testing.T) {
	f := zoomdemo.New("cid", "right")
	defer f.Close()
	c := zoom.New(zoom.Options{ClientID: "cid", ClientSecret: "wrong", OAuthURL: f.URL, APIURL: f.APIURL()})
	_, rt := f.IssueGrant(zoomdemo.DefaultUserID)
	if _, err := c.Refresh(context.Background(), rt); err == nil || f.RefreshCalls() != 1 {
		t.Fatalf("err %v, calls %d; want a refusal in one call", err, f.RefreshCalls())
	}
}

// TestRefresh429CarriesRetryAfter: a 429 with Retry-After (seconds or an
// HTTP date) is EUPSTREAM and carries the wait; a 500 carries none.
func TestRefresh429CarriesRetryAfter(t *testing.T) {
	f := zoomdemo.New("cid", "cs")
	defer f.Close()
	c := zoom.New(zoom.Options{ClientID: "cid", ClientSecret: "cs", OAuthURL: f.URL, APIURL: f.APIURL()})
	_, rt := f.IssueGrant(zoomdemo.DefaultUserID)
	ctx := context.Background()

	f.FailRefreshes(1, http.StatusTooManyRequests, "90")
	_, err := c.Refresh(ctx, rt)
	if onbehalf.ErrorCode(err) != onbehalf.EUPSTREAM || ratelimit.RetryAfterOf(err) != 90 {
		t.Fatalf("429 Retry-After: 90 → %v (retry after %d s), want EUPSTREAM and 90 s", err, ratelimit.RetryAfterOf(err))
	}
	f.FailRefreshes(1, http.StatusTooManyRequests, time.Now().Add(2*time.Minute).UTC().Format(http.TimeFormat))
	_, err = c.Refresh(ctx, rt)
	if s := ratelimit.RetryAfterOf(err); s < 110 || s > 121 {
		t.Fatalf("429 Retry-After as a date 2 min ahead → retry after %d s", s)
	}
	f.FailRefreshes(1, http.StatusInternalServerError, "")
	_, err = c.Refresh(ctx, rt)
	if onbehalf.ErrorCode(err) != onbehalf.EUPSTREAM || ratelimit.RetryAfterOf(err) != 0 {
		t.Fatalf("500 → %v (retry after %d s), want EUPSTREAM without a wait", err, ratelimit.RetryAfterOf(err))
	}
	if _, err := c.Refresh(ctx, rt); err != nil {
		t.Fatalf("the failures spent the refresh token: %v", err)
	}
}

// TestRetryAfterParsing reads both forms and ignores nonsense.
func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		status int
		header string
		want   time.Duration
		ok     bool
	}{
		{429, "90", 90 * time.Second, true},
		{503, "0", 0, true},
		{429, now.Add(time.Minute).Format(http.TimeFormat), time.Minute, true},
		{429, now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{429, "-5", 0, false},
		{429, "soon", 0, false},
		{429, "", 0, false},
		{500, "90", 0, false},
	} {
		resp := &http.Response{StatusCode: c.status, Header: http.Header{}}
		if c.header != "" {
			resp.Header.Set("Retry-After", c.header)
		}
		got, ok := zoom.RetryAfter(resp, now)
		if got != c.want || ok != c.ok {
			t.Errorf("%d Retry-After %q = %s, %v; want %s, %v", c.status, c.header, got, ok, c.want, c.ok)
		}
	}
}
