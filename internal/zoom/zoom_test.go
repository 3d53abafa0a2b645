package zoom_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/zoom"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

func client(f *zoomdemo.Server, secret string, timeout time.Duration) *zoom.Client {
	return zoom.New(zoom.Options{ClientID: "cid", ClientSecret: secret, RedirectURI: "http://127.0.0.1/cb",
		OAuthURL: f.URL, APIURL: f.APIURL(), Timeout: timeout})
}

func TestExchangeWithPKCEAndMe(t *testing.T) {
	f := zoomdemo.New("cid", "cs")
	defer f.Close()
	c := client(f, "cs", 5*time.Second)
	verifier := "verifier-0123456789-0123456789-0123456789-abc"
	u, _ := url.Parse(c.AuthCodeURL("st", verifier))
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	code := loc.Query().Get("code")
	if _, err := c.Exchange(context.Background(), code, "wrong-verifier-0123456789-0123456789-012345"); onbehalf.ErrorCode(err) == "" {
		t.Fatal("a wrong PKCE verifier was accepted")
	} else if strings.Contains(onbehalf.ErrorMessage(err), code) {
		t.Fatalf("message echoes the code: %s", onbehalf.ErrorMessage(err))
	}
	// The code was spent by the failed attempt (single use), so start again.
	resp, _ = noFollow.Get(c.AuthCodeURL("st", verifier))
	resp.Body.Close()
	loc, _ = url.Parse(resp.Header.Get("Location"))
	tok, err := c.Exchange(context.Background(), loc.Query().Get("code"), verifier)
	if err != nil || tok.AccessToken == "" || tok.RefreshToken == "" || tok.Expiry.Before(time.Now().Add(50*time.Minute)) || tok.Scope == "" {
		t.Fatalf("exchange: %+v %v", tok, err)
	}
	me, err := c.Me(context.Background(), tok.AccessToken)
	if err != nil || me.ID != zoomdemo.DefaultUserID || me.Email == "" {
		t.Fatalf("me: %+v %v", me, err)
	}
}

func TestErrorClassification(t *testing.T) {
	f := zoomdemo.New("cid", "cs")
	defer f.Close()
	ctx := context.Background()
	at, rt := f.IssueGrant(zoomdemo.DefaultUserID)
	c := client(f, "cs", 5*time.Second)

	if _, err := c.MintToken(ctx, "bogus", onbehalf.KindOBF, "85012345678"); onbehalf.ErrorCode(err) != onbehalf.EUNAUTHORIZED ||
		!strings.Contains(onbehalf.ErrorMessage(err), "124") {
		t.Fatalf("bad access token: %v", err)
	}
	if _, err := c.MintToken(ctx, at, onbehalf.KindOBF, ""); onbehalf.ErrorCode(err) != onbehalf.EUPSTREAM ||
		!strings.Contains(onbehalf.ErrorMessage(err), "300") {
		t.Fatalf("missing meeting: %v", err)
	}
	if z, err := c.MintToken(ctx, at, onbehalf.KindZAK, ""); err != nil || !strings.HasPrefix(z, "zak_") {
		t.Fatalf("zak: %q %v", z, err)
	}
	// Wrong client secret: not a dead grant (no wipe), and the refresh token
	// is not spent.
	if _, err := client(f, "wrong", 5*time.Second).Refresh(ctx, rt); onbehalf.ErrorCode(err) != onbehalf.EUPSTREAM ||
		!strings.Contains(onbehalf.ErrorMessage(err), "invalid_client") {
		t.Fatalf("invalid_client: %v", err)
	}
	tok, err := c.Refresh(ctx, rt)
	if err != nil || tok.RefreshToken == rt {
		t.Fatalf("refresh: %v", err)
	}
	// The old refresh token is dead: a rejected grant is EDISCONNECTED.
	if _, err := c.Refresh(ctx, rt); onbehalf.ErrorCode(err) != onbehalf.EDISCONNECTED || strings.Contains(err.Error(), rt) {
		t.Fatalf("rotated token: %v", err)
	}
	// Timeouts, with no query string in the logged error.
	f.SetMintDelay(time.Second)
	_, err = client(f, "cs", 50*time.Millisecond).MintToken(ctx, tok.AccessToken, onbehalf.KindOBF, "85012345678")
	if onbehalf.ErrorCode(err) != onbehalf.ETIMEOUT || strings.Contains(err.Error(), "meeting_id") {
		t.Fatalf("timeout: %v", err)
	}
	// Revoke.
	if err := c.Revoke(ctx, tok.AccessToken); err != nil || f.Revocations() != 1 {
		t.Fatalf("revoke: %v", err)
	}
}
