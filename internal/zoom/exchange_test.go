package zoom_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// authorizeCode asks the fake Zoom for a code sent to redirect, without
// PKCE (a product's backend that owns the Zoom redirect).
func authorizeCode(t *testing.T, f *zoomdemo.Server, redirect string) string {
	t.Helper()
	q := url.Values{"client_id": {"cid"}, "response_type": {"code"}, "redirect_uri": {redirect}}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(f.URL + "/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query().Get("code")
}

func TestExchangeRedirect(t *testing.T) {
	f := zoomdemo.New("cid", "cs")
	defer f.Close()
	c := client(f, "cs", 5*time.Second)
	ctx := context.Background()
	const theirs = "https://app.example.com/zoom/callback"

	code := authorizeCode(t, f, theirs)
	tok, err := c.ExchangeRedirect(ctx, code, theirs)
	if err != nil || tok.AccessToken == "" || tok.RefreshToken == "" || tok.Scope == "" || tok.Expiry.Before(time.Now().Add(50*time.Minute)) {
		t.Fatalf("exchange: %+v %v", tok, err)
	}
	if me, err := c.Me(ctx, tok.AccessToken); err != nil || me.ID != zoomdemo.DefaultUserID {
		t.Fatalf("me: %+v %v", me, err)
	}

	// The same code again, another redirect URI, garbage: the caller's
	// mistake, naming the field, never echoing the code.
	other := authorizeCode(t, f, theirs)
	for name, tc := range map[string]struct{ code, redirect, field string }{
		"used":           {code, theirs, "code"},
		"other redirect": {other, "https://app.example.com/other", "code"},
		"unknown":        {"nope-0123456789", theirs, "code"},
		"empty":          {"", theirs, "code"},
		"relative":       {"abc", "/zoom/callback", "redirect_uri"},
	} {
		_, err := c.ExchangeRedirect(ctx, tc.code, tc.redirect)
		if onbehalf.ErrorCode(err) != onbehalf.EINVALID || onbehalf.ErrorField(err) != tc.field {
			t.Errorf("%s: %v (field %q)", name, err, onbehalf.ErrorField(err))
		}
		if tc.code != "" && strings.Contains(onbehalf.ErrorMessage(err), tc.code) {
			t.Errorf("%s: the message echoes the code: %s", name, onbehalf.ErrorMessage(err))
		}
	}

	// A wrong client secret is not the caller's mistake.
	bad := client(f, "wrong", 5*time.Second)
	if _, err := bad.ExchangeRedirect(ctx, authorizeCode(t, f, theirs), theirs); onbehalf.ErrorCode(err) != onbehalf.EUPSTREAM {
		t.Fatalf("wrong client secret: %v", err)
	}
}
