package zoom_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/zoom"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// noLeak fails when err's message or log text holds any of the secrets.
func noLeak(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(err.Error(), s) || strings.Contains(onbehalf.ErrorMessage(err), s) {
			t.Fatalf("error holds a secret: %v", err)
		}
	}
}

// refreshAsync runs Refresh in the background.
func refreshAsync(c *zoom.Client, rt string) <-chan refreshResult {
	out := make(chan refreshResult, 1)
	go func() {
		tok, err := c.Refresh(context.Background(), rt)
		out <- refreshResult{tok, err}
	}()
	return out
}

type refreshResult struct {
	tok onbehalf.Token
	err error
}

// TestRefreshFaultsAfterRotation drives every answer of a Zoom that has
// already rotated the pair, and checks how each is classified.
func TestRefreshFaultsAfterRotation(t *testing.T) {
	for _, c := range []struct {
		answer  zoomdemo.Answer
		code    string
		message string
	}{
		{zoomdemo.AnswerNormal, "", ""},
		{zoomdemo.AnswerServerError, onbehalf.EUPSTREAM, "HTTP 500"},
		{zoomdemo.AnswerTruncated, onbehalf.EUPSTREAM, "could not be read"},
		{zoomdemo.AnswerCut, onbehalf.EUPSTREAM, "Could not reach Zoom"},
		{zoomdemo.AnswerNoRefreshToken, "", ""},
	} {
		t.Run(c.answer.String(), func(t *testing.T) {
			f := zoomdemo.New("cid", "cs")
			defer f.Close()
			at, rt := f.IssueGrant(zoomdemo.DefaultUserID)
			h := f.HoldNextRefresh()
			res := refreshAsync(client(f, "cs", time.Second), rt)
			<-h.Arrived()
			issued := f.CurrentRefreshToken(zoomdemo.DefaultUserID)
			if h.RefreshToken() != rt || h.NewRefreshToken() != issued || issued == rt {
				t.Fatalf("hold saw %q→%q, fake holds %q", h.RefreshToken(), h.NewRefreshToken(), issued)
			}
			h.Release(c.answer)
			r := <-res
			<-h.Done()
			if got := onbehalf.ErrorCode(r.err); got != c.code || !strings.Contains(onbehalf.ErrorMessage(r.err), c.message) {
				t.Fatalf("got %v, want %q %q", r.err, c.code, c.message)
			}
			noLeak(t, r.err, at, rt, issued, "cs")
			switch c.answer {
			case zoomdemo.AnswerNormal:
				if r.tok.RefreshToken != issued {
					t.Fatalf("refresh token %q, want %q", r.tok.RefreshToken, issued)
				}
			case zoomdemo.AnswerNoRefreshToken:
				// The documented sign: the token sent comes back.
				if r.tok.RefreshToken != rt || r.tok.AccessToken == "" {
					t.Fatalf("without refresh_token: %+v", r.tok)
				}
			}
		})
	}
}

// TestRefreshOmitRefreshToken checks that a 200 without refresh_token
// returns the token sent (detectable), while the fake has rotated.
func TestRefreshOmitRefreshToken(t *testing.T) {
	f := zoomdemo.New("cid", "cs")
	defer f.Close()
	_, rt := f.IssueGrant(zoomdemo.DefaultUserID)
	f.OmitRefreshToken(true)
	tok, err := client(f, "cs", time.Second).Refresh(context.Background(), rt)
	if err != nil || tok.RefreshToken != rt || tok.AccessToken != f.CurrentAccessToken(zoomdemo.DefaultUserID) {
		t.Fatalf("refresh: %+v %v", tok, err)
	}
	if cur := f.CurrentRefreshToken(zoomdemo.DefaultUserID); cur == rt || cur == "" {
		t.Fatalf("the fake did not rotate: %q", cur)
	}
}

// TestRefreshRejectedAfterReconnect: the refresh reaches Zoom after the
// user reconnected, so Zoom rejects the old token: EDISCONNECTED.
func TestRefreshRejectedAfterReconnect(t *testing.T) {
	f := zoomdemo.New("cid", "cs")
	defer f.Close()
	_, rt := f.IssueGrant(zoomdemo.DefaultUserID)
	h := f.HoldNextRefreshBeforeRotate()
	res := refreshAsync(client(f, "cs", time.Second), rt)
	<-h.Arrived()
	_, rt2 := f.IssueGrant(zoomdemo.DefaultUserID) // the user reconnects
	h.Release(zoomdemo.AnswerNormal)
	r := <-res
	if onbehalf.ErrorCode(r.err) != onbehalf.EDISCONNECTED || onbehalf.HTTPStatus(r.err) != 409 {
		t.Fatalf("got %v", r.err)
	}
	noLeak(t, r.err, rt, rt2)
	if f.CurrentRefreshToken(zoomdemo.DefaultUserID) != rt2 || h.NewRefreshToken() != "" {
		t.Fatal("the new grant was touched")
	}
}

// TestRefreshTimeout checks that Refresh is bounded by RefreshTimeout, not
// by Timeout, and every other call by Timeout.
func TestRefreshTimeout(t *testing.T) {
	f := zoomdemo.New("cid", "cs")
	defer f.Close()
	at, rt := f.IssueGrant(zoomdemo.DefaultUserID)
	f.SetRefreshDelay(300 * time.Millisecond)
	f.SetMintDelay(300 * time.Millisecond)
	mk := func(timeout, refresh time.Duration) *zoom.Client {
		return zoom.New(zoom.Options{ClientID: "cid", ClientSecret: "cs", OAuthURL: f.URL, APIURL: f.APIURL(),
			Timeout: timeout, RefreshTimeout: refresh})
	}
	ctx := context.Background()
	slowRefresh := mk(50*time.Millisecond, 5*time.Second)
	if _, err := slowRefresh.MintToken(ctx, at, onbehalf.KindZAK, ""); onbehalf.ErrorCode(err) != onbehalf.ETIMEOUT {
		t.Fatalf("mint beyond Timeout: %v", err)
	}
	tok, err := slowRefresh.Refresh(ctx, rt)
	if err != nil {
		t.Fatalf("refresh within RefreshTimeout but beyond Timeout: %v", err)
	}
	if _, err := mk(5*time.Second, 50*time.Millisecond).Refresh(ctx, tok.RefreshToken); onbehalf.ErrorCode(err) != onbehalf.ETIMEOUT {
		t.Fatalf("refresh beyond RefreshTimeout: %v", err)
	}
	// Defaults.
	f.SetRefreshDelay(0)
	if _, err := mk(0, 0).Refresh(ctx, f.CurrentRefreshToken(zoomdemo.DefaultUserID)); err != nil {
		t.Fatalf("default timeouts: %v", err)
	}
}
