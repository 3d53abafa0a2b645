package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/api"
	"github.com/onbehalf/onbehalf/internal/clocktest"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/ratelimit"
)

// offMessage is the answer of every route while no key exists.
const offMessage = "The integration API is off: create a key with `onbehalf apikey create --name NAME` or set API_KEYS, then restart."

func TestNewKey(t *testing.T) {
	key, k := api.NewKey()
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(key, api.KeyPrefix))
	if !strings.HasPrefix(key, "obk_") || err != nil || len(raw) != 32 {
		t.Fatalf("key %q: %v", key, err)
	}
	sum := sha256.Sum256([]byte(key))
	if string(k.Hash) != string(sum[:]) || string(api.HashKey(key)) != string(sum[:]) || k.Prefix != key[:12] || k.ID == "" || strings.Contains(k.ID, key[4:]) {
		t.Fatalf("record %+v", k)
	}
	if other, k2 := api.NewKey(); other == key || k2.ID == k.ID {
		t.Fatal("two keys alike")
	}
}

// The API is off while no key exists; a key stored while the server runs
// turns it on at once, and revoking the last one turns it off again
// (within 2 s for a key used just before).
func TestAPIOffWithoutKeys(t *testing.T) {
	clock := clocktest.New(time.Now())
	e := newEnv(t, func(o *api.Options) { o.Keys = nil; o.Now = clock.Now })
	for _, path := range []string{"/api/v1/openapi.json", "/api/v1/reference"} {
		if r := e.callKey(t, "", http.MethodGet, path, nil); r.status != 200 {
			t.Fatalf("%s while the API is off: %d", path, r.status)
		}
	}
	for _, path := range []string{"/api/v1/connections", "/api/v1/bots/x"} {
		for _, key := range []string{"", "whatever-0123456789-0123456789"} {
			r := e.callKey(t, key, http.MethodGet, path, nil)
			if msg := r.wantError(t, 404, onbehalf.ENOTFOUND, "").Error.Message; msg != offMessage {
				t.Fatalf("%s: %q", path, msg)
			}
		}
	}
	key, k := api.NewKey()
	k.Name = "test"
	e.secrets = append(e.secrets, key)
	if err := e.store.CreateAPIKey(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	if r := e.callKey(t, key, http.MethodGet, "/api/v1/connections", nil); r.status != 200 {
		t.Fatalf("stored key: %d %s", r.status, r.body)
	}
	e.callKey(t, "wrong-0123456789-0123456789", http.MethodGet, "/api/v1/connections", nil).wantError(t, 401, onbehalf.EUNAUTHORIZED, "")
	if r := e.callKey(t, "", http.MethodGet, "/api/v1/openapi.json", nil); r.status != 200 {
		t.Fatalf("openapi: %d", r.status)
	}
	if err := e.store.RevokeAPIKey(context.Background(), k.ID); err != nil {
		t.Fatal(err)
	}
	e.callKey(t, "other-0123456789-0123456789", http.MethodGet, "/api/v1/connections", nil).wantError(t, 404, onbehalf.ENOTFOUND, "")
	clock.Advance(2 * time.Second)
	e.callKey(t, key, http.MethodGet, "/api/v1/connections", nil).wantError(t, 404, onbehalf.ENOTFOUND, "")
}

func TestAuthRefusals(t *testing.T) {
	fails := ratelimit.New(0.001, 3, 100)
	e := newEnv(t, func(o *api.Options) { o.Failures = fails })
	stored, k := api.NewKey()
	e.secrets = append(e.secrets, stored)
	if err := e.store.CreateAPIKey(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	for _, hdr := range []string{"bearer " + testKey, "BEARER " + testKey, "Bearer " + stored} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/connections", nil)
		req.Header.Set("Authorization", hdr)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s…: %v %v", hdr[:10], resp.StatusCode, err)
		}
		resp.Body.Close()
	}
	if ch := e.callKey(t, "wrong-0123456789-0123456789", http.MethodGet, "/api/v1/connections", nil).header.Get("WWW-Authenticate"); ch != `Bearer realm="onbehalf", error="invalid_token"` {
		t.Fatalf("a wrong key: WWW-Authenticate %q", ch)
	}
	for _, hdr := range []string{"", "Basic " + testKey, "Bearer", "Token " + testKey} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/connections", nil)
		if hdr != "" {
			req.Header.Set("Authorization", hdr)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 && resp.StatusCode != 429 {
			t.Fatalf("%q: %d", hdr, resp.StatusCode)
		}
		if ch := resp.Header.Get("WWW-Authenticate"); resp.StatusCode == 401 && !strings.HasPrefix(ch, `Bearer realm="onbehalf"`) {
			t.Fatalf("%q: WWW-Authenticate %q", hdr, ch)
		}
	}
	// Past the client's budget of failures: 429 with Retry-After, even
	// for a key that would have been wrong anyway; a right key still
	// works.
	r := e.callKey(t, "wrong-0123456789-0123456789", http.MethodGet, "/api/v1/connections", nil)
	r.wantError(t, 429, onbehalf.ETOOMANY, "")
	if r.header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	if r := e.call(t, http.MethodGet, "/api/v1/connections", nil); r.status != 200 {
		t.Fatalf("right key after failures: %d", r.status)
	}
	// A key's own prefix, or the key with a character more, is wrong.
	e.callKey(t, stored[:api.PrefixLen], http.MethodGet, "/api/v1/connections", nil).wantError(t, 429, onbehalf.ETOOMANY, "")
}

func TestRateLimitPerKey(t *testing.T) {
	other := "other-key-0123456789-abcdefghij"
	e := newEnv(t, func(o *api.Options) { o.RateLimitPerKey = 3; o.Keys = append(o.Keys, other) })
	// Each reply tells the budget left (IETF httpapi RateLimit draft).
	for i := range 3 {
		r := e.call(t, http.MethodGet, "/api/v1/connections", nil)
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if got, want := r.header.Get("RateLimit"), `"per-key";r=`+strconv.Itoa(2-i)+`;t=`; !strings.HasPrefix(got, want) ||
			r.header.Get("RateLimit-Policy") != `"per-key";q=3;w=60` {
			t.Fatalf("RateLimit %q, policy %q; want %s…", got, r.header.Get("RateLimit-Policy"), want)
		}
	}
	r := e.call(t, http.MethodGet, "/api/v1/connections", nil)
	if msg := r.wantError(t, 429, onbehalf.ETOOMANY, "").Error.Message; !strings.Contains(msg, "RATE_LIMIT_PER_API_KEY") || r.header.Get("Retry-After") == "" {
		t.Fatalf("%s, Retry-After %q", msg, r.header.Get("Retry-After"))
	}
	if got := r.header.Get("RateLimit"); !strings.HasPrefix(got, `"per-key";r=0;t=`) || strings.HasSuffix(got, "t=0") {
		t.Fatalf("RateLimit of a refusal %q", got)
	}
	if r := e.callKey(t, other, http.MethodGet, "/api/v1/connections", nil); r.status != 200 {
		t.Fatalf("other key: %d", r.status)
	}
}
