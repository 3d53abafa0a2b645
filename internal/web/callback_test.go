package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// TestCallbackStatusTable covers the token URL status table (docs/api.md) in both
// authorization modes: the signed URL /launch gives, and the plain
// auth_token URL.
func TestCallbackStatusTable(t *testing.T) {
	clk := newClock()
	e := newEnv(t, envOpts{zoomTimeout: 300 * time.Millisecond, now: clk.Now})
	good := e.tokenURL(t)
	p, _ := url.Parse(good)
	q := p.Query()
	if !strings.HasPrefix(good, e.srv.URL+"/recall/obf-callback?user_id=") || q.Get("meeting_id") != meeting || q.Get("kinds") != "obf" ||
		q.Get("bot") == "" || q.Get("exp") == "" || len(q.Get("sig")) != 43 || q.Has("auth_token") || strings.Contains(good, secret) {
		t.Fatalf("token URL %q", good)
	}
	sig := q.Get("sig")
	plainGood := plainURL(good)
	c := &http.Client{Timeout: 5 * time.Second}

	rows := []struct {
		name   string
		url    string
		setup  func()
		status int
		want   string // substring of the body
	}{
		// Plain secret URLs: the table's rows.
		{"plain: missing auth_token", with(plainGood, "auth_token", "-"), nil, 401, "auth_token"},
		{"plain: wrong auth_token", with(plainGood, "auth_token", "nope"), nil, 401, "auth_token"},
		{"plain: wrong auth_token same length", with(plainGood, "auth_token", strings.Repeat("x", len(secret))), nil, 401, "auth_token"},
		{"plain: auth_token twice", plainGood + "&auth_token=" + secret, nil, 401, "auth_token"},
		{"plain: missing user_id", with(plainGood, "user_id", "-"), nil, 400, "user_id"},
		{"plain: user_id twice", plainGood + "&user_id=x", nil, 400, "user_id"},
		{"plain: missing meeting_id", with(plainGood, "meeting_id", "-"), nil, 400, "meeting_id"},
		{"plain: non-numeric meeting_id", with(plainGood, "meeting_id", "85O12345678"), nil, 400, "meeting_id"},
		{"plain: short meeting_id", with(plainGood, "meeting_id", "12345"), nil, 400, "meeting_id"},
		{"plain: unknown user_id", with(plainGood, "user_id", "AAAAAAAAAAAAAAAAAAAAAA"), nil, 404, "/zoom/oauth"},

		// Signed URLs: any change is a 401 that names the problem.
		{"signed: user_id changed", with(good, "user_id", "AAAAAAAAAAAAAAAAAAAAAA"), nil, 401, "bad signature"},
		{"signed: user_id missing", with(good, "user_id", "-"), nil, 400, "user_id"},
		{"signed: user_id twice", good + "&user_id=AAAAAAAAAAAAAAAAAAAAAA", nil, 400, "more than once"},
		{"signed: sig twice", good + "&sig=AAAA", nil, 401, "more than once"},
		{"signed: meeting_id changed", with(good, "meeting_id", "85012345679"), nil, 401, "bad signature"},
		{"signed: meeting_id leading zero", with(good, "meeting_id", "0"+meeting), nil, 401, "bad signature"},
		{"signed: meeting_id missing", with(good, "meeting_id", "-"), nil, 400, "meeting_id"},
		{"signed: meeting_id non-numeric", with(good, "meeting_id", "85O12345678"), nil, 400, "meeting_id"},
		{"signed: exp later", with(good, "exp", strconv.FormatInt(clk.Now().Add(200*time.Hour).Unix(), 10)), nil, 401, "bad signature"},
		{"signed: exp leading zero", with(good, "exp", "0"+q.Get("exp")), nil, 401, "exp"},
		{"signed: exp missing", with(good, "exp", "-"), nil, 401, "no exp"},
		{"signed: sig changed", with(good, "sig", strings.Repeat("A", 43)), nil, 401, "bad signature"},
		{"signed: sig as %2B", strings.Replace(good, "sig="+sig[:2], "sig=%2B"+sig[1:2], 1), nil, 401, "bad signature"},
		{"signed: sig missing", with(good, "sig", "-"), nil, 401, "no sig"},
		{"signed: sig twice", good + "&sig=" + sig, nil, 401, "more than once"},
		{"signed: OBF URL on the ZAK path", strings.Replace(good, "/obf-callback", "/zak-callback", 1), nil, 401, "does not serve obf"},
		{"signed: OBF URL on the join path", strings.Replace(good, "/obf-callback", "/join-callback", 1), nil, 401, "does not serve obf"},
		{"signed: kinds widened", with(good, "kinds", "obf,zak"), nil, 401, "bad signature"},
		{"signed: bot changed", with(good, "bot", "bot_other"), nil, 401, "bad signature"},
		{"both: bad sig with the right auth_token", with(good, "sig", strings.Repeat("A", 43)) + "&auth_token=" + secret, nil, 401, "bad signature"},
		{"neither sig nor auth_token", with(with(good, "sig", "-"), "exp", "-"), nil, 401, "auth_token"},

		// Upstream failures, through a signed URL.
		{"zoom error", good, func() { e.zoom.FailMintEvery(1) }, 502, "Zoom error 500"},
		{"zoom timeout", good, func() { e.zoom.FailMintEvery(0); e.zoom.SetMintDelay(2 * time.Second) }, 504, "did not answer"},
		{"dead connection", good, func() { e.zoom.SetMintDelay(0); e.zoom.RevokeGrant(zoomdemo.DefaultUserID) }, 409, "reconnect at " + e.srv.URL + "/zoom/oauth"},
		{"dead connection, plain", plainGood, nil, 409, "reconnect at"},
	}
	// Success first, on both paths, in both modes; a signed URL may also
	// carry the right auth_token.
	for _, u := range []string{good, strings.Replace(good, "/recall/obf-callback", "/obf-callback", 1),
		plainGood, strings.Replace(plainGood, "/obf-callback", "/recall/obf-callback", 1),
		good + "&auth_token=" + secret,
		// What platforms append never breaks a signed URL.
		good + "&meeting_number=" + meeting + "&bot_id=b1&bot_uuid=u1&extra=%7B%7D"} {
		resp := get(t, c, u)
		got := body(resp)
		minted := e.zoom.Minted()
		if resp.StatusCode != 200 || got != minted[len(minted)-1] {
			t.Fatalf("%s: %d %q, want 200 and the minted token", u, resp.StatusCode, got)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Fatalf("content type %q", ct)
		}
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			clk.Advance(time.Minute) // refills the failed-authorization budget
			if r.setup != nil {
				r.setup()
			}
			mints := e.zoom.MintCalls()
			resp := get(t, c, r.url)
			got := body(resp)
			if resp.StatusCode != r.status || !strings.Contains(got, r.want) {
				t.Fatalf("got %d %q, want %d containing %q", resp.StatusCode, got, r.status, r.want)
			}
			if strings.Contains(got, secret) || strings.Contains(got, sig) {
				t.Fatal("body holds the secret or the signature")
			}
			if r.status < 404 && e.zoom.MintCalls() != mints {
				t.Fatal("a rejected request reached Zoom")
			}
		})
	}
	// The logs never hold the secret, the signature or a callback query.
	logs := e.logs.String()
	for _, bad := range []string{secret, sig, "auth_token=", "meeting_id=", "sig="} {
		if strings.Contains(logs, bad) {
			t.Errorf("logs contain %q", bad)
		}
	}
	for _, tok := range e.zoom.Minted() {
		if strings.Contains(logs, tok) {
			t.Errorf("logs contain a minted token")
		}
	}
}

func TestSignedURLExpires(t *testing.T) {
	clk := newClock()
	e := newEnv(t, envOpts{now: clk.Now})
	e.signer.TTL = 2 * time.Hour // TOKEN_URL_TTL
	u := e.tokenURL(t)
	p, _ := url.Parse(u)
	exp, _ := strconv.ParseInt(p.Query().Get("exp"), 10, 64)
	if d := time.Unix(exp, 0).Sub(clk.Now()); d <= 2*time.Hour-time.Second || d > 2*time.Hour {
		t.Fatalf("exp is %s away, want TOKEN_URL_TTL", d)
	}
	clk.Advance(time.Unix(exp, 0).Sub(clk.Now()) - time.Millisecond)
	if resp := get(t, http.DefaultClient, u); resp.StatusCode != 200 {
		t.Fatalf("just before exp: %d %s", resp.StatusCode, body(resp))
	}
	clk.Advance(time.Millisecond)
	resp := get(t, http.DefaultClient, u)
	if got := body(resp); resp.StatusCode != 401 || !strings.Contains(got, "token URL expired") {
		t.Fatalf("at exp: %d %q", resp.StatusCode, got)
	}
}

func TestPlainSecretURLsCanBeDisabled(t *testing.T) {
	e := newEnv(t, envOpts{plainKinds: []onbehalf.TokenKind{}}) // ALLOW_SECRET_URLS=false
	urls := e.tokenURLs(t, true)
	for _, u := range []string{plainURL(urls[onbehalf.KindOBF]), plainURL(urls[onbehalf.KindZAK])} {
		resp := get(t, http.DefaultClient, u)
		if got := body(resp); resp.StatusCode != 401 || !strings.Contains(got, "plain secret URLs are disabled") {
			t.Fatalf("%s: %d %q", u, resp.StatusCode, got)
		}
	}
	for _, u := range []string{urls[onbehalf.KindOBF], urls[onbehalf.KindZAK]} {
		if resp := get(t, http.DefaultClient, u); resp.StatusCode != 200 {
			t.Fatalf("signed URL: %d %s", resp.StatusCode, body(resp))
		}
	}
	if resp := get(t, http.DefaultClient, with(with(urls[onbehalf.KindOBF], "sig", "-"), "exp", "-")); resp.StatusCode != 401 {
		t.Fatalf("no credentials: %d", resp.StatusCode)
	}
}

// TestPlainSecretURLsServeOBFOnly: a plain auth_token URL signs a bot in
// as anyone only when ALLOW_SECRET_URLS=zak says so; signed URLs are not
// affected.
func TestPlainSecretURLsServeOBFOnly(t *testing.T) {
	for _, tc := range []struct {
		kinds   []onbehalf.TokenKind
		zakCode int
	}{{nil, 401}, {[]onbehalf.TokenKind{onbehalf.KindOBF, onbehalf.KindZAK}, 200}} {
		e := newEnv(t, envOpts{plainKinds: tc.kinds})
		urls := e.tokenURLs(t, true)
		if resp := get(t, http.DefaultClient, plainURL(urls[onbehalf.KindOBF])); resp.StatusCode != 200 {
			t.Fatalf("plain OBF URL: %d %s", resp.StatusCode, body(resp))
		}
		resp := get(t, http.DefaultClient, plainURL(urls[onbehalf.KindZAK]))
		if got := body(resp); resp.StatusCode != tc.zakCode || tc.zakCode == 401 && !strings.Contains(got, "ALLOW_SECRET_URLS") {
			t.Fatalf("plain ZAK URL with %v: %d %q, want %d", tc.kinds, resp.StatusCode, got, tc.zakCode)
		}
		if resp := get(t, http.DefaultClient, urls[onbehalf.KindZAK]); resp.StatusCode != 200 {
			t.Fatalf("signed ZAK URL: %d", resp.StatusCode)
		}
	}
}

func TestZAKCallback(t *testing.T) {
	e := newEnv(t, envOpts{})
	// Without the box, no ZAK URL.
	if z := e.tokenURLs(t, false); z[onbehalf.KindZAK] != "" || z[onbehalf.KindOBF] == "" {
		t.Fatalf("recall got %+v", z)
	}
	zak := e.tokenURLs(t, true)[onbehalf.KindZAK]
	p, err := url.Parse(zak)
	if err != nil || p.Path != "/recall/zak-callback" || p.Query().Get("kinds") != "zak" || p.Query().Get("meeting_id") != meeting ||
		p.Query().Get("sig") == "" || strings.Contains(zak, secret) {
		t.Fatalf("ZAK URL %q", zak)
	}
	for _, u := range []string{zak, strings.Replace(zak, "/recall/zak-callback", "/zak-callback", 1)} {
		resp := get(t, http.DefaultClient, u)
		got := body(resp)
		minted := e.zoom.Minted()
		if resp.StatusCode != 200 || !strings.HasPrefix(got, "zak_") || got != minted[len(minted)-1] {
			t.Fatalf("%s: %d %q", u, resp.StatusCode, got)
		}
	}
	// Kind confusion: the ZAK URL on the OBF path, or changed to OBF.
	for _, u := range []string{strings.Replace(zak, "/zak-callback", "/obf-callback", 1), with(strings.Replace(zak, "/zak-callback", "/obf-callback", 1), "kinds", "obf")} {
		resp := get(t, http.DefaultClient, u)
		if got := body(resp); resp.StatusCode != 401 {
			t.Fatalf("%s: %d %q", u, resp.StatusCode, got)
		}
	}
}

func TestCallbackConcurrentAfterInvalidationOneRefresh(t *testing.T) {
	e := newEnv(t, envOpts{})
	u := e.tokenURL(t)
	e.zoom.InvalidateAccess(zoomdemo.DefaultUserID)
	const n = 50
	type result struct {
		status int
		body   string
	}
	out := make(chan result, n)
	for i := 0; i < n; i++ {
		go func() {
			resp, err := http.Get(u)
			if err != nil {
				out <- result{0, err.Error()}
				return
			}
			defer resp.Body.Close()
			out <- result{resp.StatusCode, body(resp)}
		}()
	}
	seen := map[string]bool{}
	for i := 0; i < n; i++ {
		r := <-out
		if r.status != 200 || r.body == "" || seen[r.body] {
			t.Fatalf("callback %d: %d %q", i, r.status, r.body)
		}
		seen[r.body] = true
	}
	if e.zoom.RefreshCalls() != 1 || e.zoom.ReusedRefreshTokens() != 0 {
		t.Fatalf("refreshes=%d reused=%d, want 1 and 0", e.zoom.RefreshCalls(), e.zoom.ReusedRefreshTokens())
	}
}

func TestMalformedRequestsNever5xx(t *testing.T) {
	e := newEnv(t, envOpts{})
	good := e.tokenURL(t)
	paths := []string{
		"/obf-callback", "/obf-callback?user_id=&meeting_id=&auth_token=", "/obf-callback?%zz",
		"/obf-callback?user_id=" + strings.Repeat("a", 5000) + "&meeting_id=123456789&auth_token=" + secret,
		"/obf-callback?user_id=..%2f..%2f&meeting_id=123456789&auth_token=" + secret,
		"/obf-callback?user_id=%00&meeting_id=123456789&auth_token=" + secret,
		"/obf-callback?user_id=x&meeting_id=-123456789&auth_token=" + secret,
		"/obf-callback?user_id=x&meeting_id=1234567890123&auth_token=" + secret,
		"/obf-callback?user_id=x&user_id=y&meeting_id=123456789&auth_token=" + secret,
		"/obf-callback?user_id=x&meeting_id=123456789&exp=99999999999999999999999&sig=%ff",
		"/zak-callback?user_id=x&exp=&sig=", "/zak-callback?user_id=x&exp=1&sig=" + strings.Repeat("_", 43),
		"/recall/join-callback?user_id=x&auth_token=" + secret, "/recall/obf-callback?user_id=x&kinds=&exp=1&sig=x",
		"/recall/obf-callback?user_id=x&kinds=obf,obf&meeting_id=123456789&exp=1&sig=x&bot=" + strings.Repeat("b", 500),
		"/webhooks/recall", "/webhooks/nope", "/webhooks/recall?bot=x&sig=y",
		"/zoom/oauth-callback", "/zoom/oauth-callback?code=x&state=y", "/zoom/oauth-callback?error=access_denied",
		"/launch", "/nope", "/%2e%2e/etc/passwd", "/healthz?x=1",
	}
	for _, p := range paths {
		resp := get(t, http.DefaultClient, e.srv.URL+p)
		if resp.StatusCode >= 500 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		req, _ := http.NewRequest(m, good, strings.NewReader("junk"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s callback: %d", m, resp.StatusCode)
		}
	}
}

// TestZAKOffHidesAndRefuses: with ALLOW_ZAK off (the default), the launch
// form offers no ZAK box, a form that asks for one anyway gets a 403 page
// that says why, and the platform is not called.
func TestZAKOffHidesAndRefuses(t *testing.T) {
	e := newEnv(t, envOpts{zakOff: true})
	b := browser(t)
	e.connect(t, b)
	form := body(get(t, b, e.srv.URL+"/launch"))
	if strings.Contains(form, `name="use_zak"`) || !strings.Contains(form, `name="use_join"`) {
		t.Fatalf("the launch form with ALLOW_ZAK off offers a ZAK box (or no join box)")
	}
	before := len(e.recall.Bots())
	resp, page := e.launchForm(t, b, url.Values{"meeting_url": {"https://zoom.us/j/" + meeting}, "use_zak": {"1"}}, nil)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "ALLOW_ZAK") {
		t.Fatalf("a ZAK asked for anyway: %d %s", resp.StatusCode, page)
	}
	if n := len(e.recall.Bots()); n != before {
		t.Fatalf("the platform got %d new bots", n-before)
	}
	if resp, _ := e.launch(t, b, "https://zoom.us/j/"+meeting, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("an OBF bot: %d", resp.StatusCode)
	}
}
