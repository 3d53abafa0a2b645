package tokenserve_test

import (
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/recall"
	"github.com/onbehalf/onbehalf/internal/ratelimit"
	"github.com/onbehalf/onbehalf/internal/tokenserve"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
)

// TestZAKOffByDefault: with ALLOW_ZAK off (the default), a URL this version
// signs that serves a ZAK answers 403 saying why, and Zoom is not asked; a
// ZAK URL handed out before the platform was signed keeps working, and so
// does an OBF URL.
func TestZAKOffByDefault(t *testing.T) {
	ps := platforms(t, false)
	var rc onbehalf.Platform
	for _, p := range ps {
		if p.Name() == recall.Name {
			rc = p
		}
	}
	m := &minter{}
	s := tokenserve.New(tokenserve.Options{Signer: signer, Minter: m, Bots: botLookup{}, BaseURL: "https://x.example",
		Failures: ratelimit.New(1000, 1_000_000, 100)})
	route := func(k onbehalf.TokenKind) onbehalf.TokenRoute {
		for _, rt := range rc.TokenRoutes() {
			if rt.Default == k && strings.HasPrefix(rt.Path, "/recall/") {
				return rt
			}
		}
		t.Fatalf("no recall route for %s", k)
		return onbehalf.TokenRoute{}
	}
	zak, obf := route(onbehalf.KindZAK), route(onbehalf.KindOBF)
	sign := func(k onbehalf.TokenKind) string {
		return signer.Sign(tokenurl.Params{Kinds: []onbehalf.TokenKind{k}, ConnID: bindConn, MeetingID: bindMeeting, Platform: recall.Name}).Encode()
	}

	w := fetch(s, rc, zak, zak.Path+"?"+sign(onbehalf.KindZAK), "", false)
	if w.Code != 403 || !strings.Contains(w.Body.String(), "ALLOW_ZAK") || strings.Contains(w.Body.String(), "zak-token") {
		t.Fatalf("new ZAK URL with ALLOW_ZAK off: %d %s", w.Code, w.Body)
	}
	m.mu.Lock()
	n := m.calls
	m.mu.Unlock()
	if n != 0 {
		t.Fatalf("Zoom was asked %d times for a refused ZAK", n)
	}
	if w := fetch(s, rc, obf, obf.Path+"?"+sign(onbehalf.KindOBF), "", false); w.Code != 200 {
		t.Fatalf("OBF URL: %d %s", w.Code, w.Body)
	}
	old := specV2("zak", bindConn, bindMeeting, "", time.Now().Add(time.Hour))
	if w := fetch(s, rc, zak, zak.Path+"?"+old, "", false); w.Code != 200 || w.Body.String() != "zak-token" {
		t.Fatalf("ZAK URL handed out before the upgrade: %d %s", w.Code, w.Body)
	}
}
