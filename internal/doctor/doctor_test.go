package doctor

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onbehalf/onbehalf/internal/config"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/recall"
)

func TestHealthyInstallPassesOnline(t *testing.T) {
	w := newWorld(t)
	out, code := w.run(t, w.env, false)
	if code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, out)
	}
	mustContain(t, out,
		"✓ Zoom accepted ZOOM_CLIENT_ID "+clientID+" and its secret: it refused only the made-up code (invalid_grant",
		"Checked by exchanging a made-up authorization code: harmless, Zoom creates nothing.",
		"✓ Server-to-Server credentials work: Zoom issued an account token for account "+accountID,
		"Harmless: it only mints an hour-long token",
		"✓ Recall.ai accepted the API key at "+w.recall.URL+" (HTTP 404 to GET /api/v1/bot/00000000-0000-0000-0000-000000000000/",
		"✓ https://"+publicHost+"/healthz answers 200 ok",
		"✓ BASE_URL's host "+publicHost+" resolves to public address(es) 203.0.113.7.",
		"✓ BASE_URL uses https.",
		"it will be created on first start",
		"· MeetStream: not configured — set MEETSTREAM_API_KEY",
		"✓ Everything checked is fine.",
	)
	if got := lines(out, "✗"); len(got) > 0 {
		t.Errorf("failures in a healthy install: %q", got)
	}
	if n := w.zoom.AuthCodeExchanges(); n != 1 {
		t.Errorf("%d code exchanges at Zoom, want the 1 probe", n)
	}
	if n := w.zoom.AccountTokenGrants(); n != 1 {
		t.Errorf("%d account token grants, want 1", n)
	}
	if n := w.created.Load(); n != 0 {
		t.Errorf("%d non-GET requests reached the platform", n)
	}
}

// TestZoomTwoSecrets: with ZOOM_CLIENT_SECRET=new,old doctor says which
// one Zoom accepts, never printing either.
func TestZoomTwoSecrets(t *testing.T) {
	w := newWorld(t)
	const fresh = "brand-new-secret-77"
	cases := []struct {
		name   string
		accept []string
		want   string
		code   int
	}{
		{"rotation under way", []string{fresh, clientSecret}, "✓ Zoom accepts both secrets in ZOOM_CLIENT_SECRET", 0},
		{"rotation over", []string{fresh}, "✓ Zoom accepts only the new (first) secret", 0},
		{"new one mistyped", []string{clientSecret}, "⚠ Zoom accepts only the old (second) secret", 0},
		{"neither", []string{"something-else-entirely"}, "✗ Zoom accepts none of the secrets", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w.zoom.SetClientSecrets(c.accept...)
			t.Cleanup(func() { w.zoom.SetClientSecrets(clientSecret) })
			out, code := w.run(t, w.env.with("ZOOM_CLIENT_SECRET", fresh+","+clientSecret), false)
			if c.code == 1 && code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			mustContain(t, out, c.want)
			mustNotContain(t, out, clientSecret, fresh)
		})
	}
}

func TestZoomCredentials(t *testing.T) {
	w := newWorld(t)
	cases := []struct {
		name string
		e    env
		want string
	}{
		{"wrong secret", w.env.with("ZOOM_CLIENT_SECRET", "not-the-right-secret"),
			"✗ Zoom refused ZOOM_CLIENT_ID " + clientID + " with its secret (HTTP 401, invalid_client"},
		{"wrong ID", w.env.with("ZOOM_CLIENT_ID", "someOtherApp"),
			"✗ Zoom refused ZOOM_CLIENT_ID someOtherApp"},
		{"Server-to-Server credentials as the General app", w.env.with("ZOOM_CLIENT_ID", s2sID, "ZOOM_CLIENT_SECRET", s2sSecret),
			"✗ ZOOM_CLIENT_ID " + s2sID + " is not a General app's (Zoom: unsupported_grant_type"},
		{"wrong Server-to-Server secret", w.env.with("ZOOM_S2S_CLIENT_SECRET", "wrong-s2s-secret"),
			"✗ Server-to-Server credentials (account " + accountID + ", ZOOM_S2S_CLIENT_ID " + s2sID + ") do not work: Zoom refused getting the account token: invalid_client"},
		{"General app credentials as Server-to-Server", w.env.with("ZOOM_S2S_CLIENT_ID", clientID, "ZOOM_S2S_CLIENT_SECRET", clientSecret),
			"do not work: Zoom refused getting the account token: unsupported_grant_type"},
		{"Zoom unreachable", w.env.with("ZOOM_OAUTH_URL", "http://127.0.0.1:1"),
			"✗ Could not reach Zoom at http://127.0.0.1:1/oauth/token"},
		{"not configured", w.env.with("ZOOM_CLIENT_ID", "", "ZOOM_CLIENT_SECRET", ""),
			"✗ ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET are not set: nobody can connect Zoom."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, code := w.run(t, c.e, false)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			mustContain(t, out, c.want)
			mustNotContain(t, out, clientSecret, s2sSecret, "not-the-right-secret", "wrong-s2s-secret")
		})
	}
}

func TestPlatformKeys(t *testing.T) {
	w := newWorld(t)
	out, code := w.run(t, w.env.with("RECALL_API_KEY", "rk_wrong_key_000000"), false)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	mustContain(t, out, "✗ Recall.ai refused the API key (HTTP 401: Invalid token.): check RECALL_REGION: a key works only in its own region.")
	mustNotContain(t, out, "rk_wrong_key_000000")

	// Meeting BaaS has no harmless call: not checked, not failed.
	out, code = w.run(t, w.env.with("MEETINGBAAS_API_KEY", "mb_key_1234567890"), false)
	if code != 0 {
		t.Errorf("exit %d, want 0:\n%s", code, out)
	}
	mustContain(t, out, "· Meeting BaaS: key not checked: no harmless call")

	// A configured platform whose block has a problem is not called.
	before := w.requests.Load()
	out, code = w.run(t, w.env.with("RECALL_REGION", "mars-1", "RECALL_API_URL", ""), true)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	mustContain(t, out, `✗ RECALL_REGION="mars-1": use one of us-east-1`, "· Recall.ai: not checked, its settings have problems (above).")
	// What the value is for follows its problem.
	mustContain(t, out, "· RECALL_REGION: "+meaning(t, recall.Spec.Vars, "RECALL_REGION"))
	mustContain(t, out, "✗ 1 problem(s) to fix, 0 warning(s).") // counted once
	if w.requests.Load() != before {
		t.Error("an offline run made requests")
	}
	if w.created.Load() != 0 {
		t.Error("a platform got a non-GET request")
	}
}

func TestOfflineMakesNoRequest(t *testing.T) {
	w := newWorld(t)
	noNet := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		t.Errorf("offline run requested %s", r.URL)
		return nil, errors.New("offline")
	})}
	noDNS := func(ctx context.Context, host string) ([]net.IP, error) {
		t.Errorf("offline run resolved %s", host)
		return nil, errors.New("offline")
	}
	out, code := runWith(t, Options{Getenv: w.env.get, Offline: true, HTTP: noNet, LookupIP: noDNS})
	if code != 0 {
		t.Errorf("exit %d, want 0:\n%s", code, out)
	}
	mustContain(t, out, "offline: nothing leaves this machine",
		"· General app credentials (ZOOM_CLIENT_ID "+clientID+") not checked (--offline).",
		"· Server-to-Server credentials (account "+accountID+") not checked (--offline).",
		"· Recall.ai: key not checked (--offline).",
		"· BASE_URL's host "+publicHost+" was not resolved (--offline).",
		"· https://"+publicHost+"/healthz was not called (--offline).",
		"✓ The database file does not exist yet")
	if w.zoom.AuthCodeExchanges()+w.zoom.AccountTokenGrants() != 0 {
		t.Error("Zoom was called offline")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestConfigProblemsAreEachReportedOnce(t *testing.T) {
	w := newWorld(t)
	e := w.env.with(
		"PORT", "eighty",
		"OBF_CALLBACK_SECRET", "short!",
		"ZOOM_CLIENT_SECRET", "",
		"ALLOW_SECRET_URLS", "maybe",
		"API_KEYS", "tooShortKey1",
		"RECALL_TIMEOUT", "soon",
		"LOG_FORMAT", "xml",
	)
	out, code := w.run(t, e, true)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	_, err := config.Load(e.get)
	var ce *config.Error
	if !errors.As(err, &ce) || len(ce.Problems) < 6 {
		t.Fatalf("config.Load: %v", err)
	}
	for _, p := range ce.Problems {
		if n := strings.Count(out, "✗ "+p.Error()+"\n"); n != 1 {
			t.Errorf("problem %q reported %d times, want once:\n%s", p.Error(), n, out)
		}
	}
	mustContain(t, out, `✗ RECALL_TIMEOUT="soon": must be a positive duration`,
		"✓ LISTEN_ADDR = 127.0.0.1:0", "✓ ZOOM_TIMEOUT = 10s (default)", "✓ ZOOM_FAILURE_COOLDOWN = 30s (default)", "✓ KEEPALIVE_IDLE = 24h (default)", "✓ DB_PATH = ")
	mustNotContain(t, out, "short!", "tooShortKey1")
}

func TestSecretsAreNeverPrinted(t *testing.T) {
	w := newWorld(t)
	secrets := env{
		"ZOOM_CLIENT_SECRET":         clientSecret,
		"ZOOM_S2S_CLIENT_SECRET":     s2sSecret,
		"ZOOM_WEBHOOK_SECRET_TOKEN":  "zoom-webhook-token-5566",
		"OBF_CALLBACK_SECRET":        "obf-callback-secret-abcdef123456",
		"SESSION_SECRET":             "session-secret-0123456789abcdef0123456789",
		"TOKEN_ENCRYPTION_KEY":       "c2VhbGluZy1rZXktb25lLTMyLWJ5dGVzLWxvbmchISE=",
		"API_KEYS":                   "api-key-one-0123456789abcdef,api-key-two-0123456789abcdef",
		"WEBHOOK_SECRET":             "whsec_c2VjcmV0LXdlYmhvb2stc2VjcmV0",
		"WEBHOOK_URL":                "https://hooks.example.com/in?token=hook-query-secret-77",
		"RECALL_API_KEY":             recallKey,
		"RECALL_VERIFICATION_SECRET": "whsec_cmVjYWxsLXZlcmlmaWNhdGlvbi1zZWNyZXQ=",
		"ATTENDEE_API_KEY":           "attendee-api-key-998877",
		"ATTENDEE_API_URL":           "http://127.0.0.1:1",
		"MEETSTREAM_API_KEY":         "meetstream-api-key-665544",
		"MEETSTREAM_API_URL":         "http://127.0.0.1:1",
		"MEETINGBAAS_API_KEY":        "meetingbaas-api-key-332211",
	}
	scenarios := map[string]env{
		"online":                w.env.with(flatten(secrets)...),
		"offline":               w.env.with(flatten(secrets)...),
		"wrong credentials":     w.env.with(append(flatten(secrets), "ZOOM_CLIENT_SECRET", "wrong-zoom-secret-42", "RECALL_API_KEY", "rk_wrong_recall_key_42")...),
		"problems":              w.env.with(append(flatten(secrets), "SESSION_SECRET", "short-session-secret", "ATTENDEE_WEBHOOK_SECRET", "not-base64-attendee-secret!")...),
		"postgres unreachable":  w.env.with(append(flatten(secrets), "DATABASE_URL", "postgres://onbehalf:pg-password-31337@127.0.0.1:1/onbehalf?sslmode=disable")...),
		"postgres param secret": w.env.with(append(flatten(secrets), "DATABASE_URL", "postgres://127.0.0.1:1/onbehalf?password=pg-param-pass-4242&sslmode=disable")...),
	}
	for name, e := range scenarios {
		t.Run(name, func(t *testing.T) {
			out, _ := w.run(t, e, name == "offline")
			var values []string
			for k, v := range e {
				if k == "API_KEYS" || k == "TOKEN_ENCRYPTION_KEY" {
					values = append(values, strings.Split(v, ",")...)
				}
				if isSecretVar(k) {
					values = append(values, v)
				}
			}
			values = append(values, "pg-password-31337", "pg-param-pass-4242", "hook-query-secret-77")
			mustNotContain(t, out, values...)
			if strings.Contains(out, "*****") {
				t.Errorf("a secret reached the redactor (the checks themselves must not print secrets):\n%s", out)
			}
		})
	}
}

// isSecretVar reports whether the doctor must treat name as secret.
func isSecretVar(name string) bool {
	for _, n := range config.SecretVars {
		if n == name {
			return true
		}
	}
	for _, s := range specs {
		for _, v := range s.Vars {
			if v.Name == name && v.Secret {
				return true
			}
		}
	}
	return false
}

func flatten(e env) []string {
	var kv []string
	for k, v := range e {
		kv = append(kv, k, v)
	}
	return kv
}

func TestRedactorScrubsWhatSlipsThrough(t *testing.T) {
	var b strings.Builder
	r := &redactor{w: &b, secrets: secretValues(env{"SESSION_SECRET": "abcdefgh-secret", "API_KEYS": "key-one-123456,key-two-654321"}.get, specs)}
	r.Write([]byte("a abcdefgh-secret b key-two-654321 c key-one-123456,key-two-654321\n"))
	if got, want := b.String(), "a ***** b ***** c *****\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestWhatToPaste(t *testing.T) {
	w := newWorld(t)
	e := w.env.with("API_KEYS", "api-key-one-0123456789abcdef", "WEBHOOK_URL", "https://product.example.com/onbehalf-events")
	out, _ := w.run(t, e, true)
	base := "https://" + publicHost
	mustContain(t, out,
		"OAuth redirect URL:            "+base+"/zoom/oauth-callback",
		"OAuth allow list:              "+base+"/zoom/oauth-callback",
		"Event notification endpoint:   "+base+"/zoom/webhook",
		"Event to subscribe:            app_deauthorized",
		"user:read:user", "user:read:token", "meeting:read:local_recording_token — host join tokens",
		"Zoom Server-to-Server app (account "+accountID+")",
		"Base URL:                      "+base+"/api/v1",
		"Keys:                          1 key in API_KEYS (sent as Authorization: Bearer <key>)",
		"Receiver (WEBHOOK_URL):        https://product.example.com/onbehalf-events",
		"generated in the database: `onbehalf webhook-secret` prints it",
		"  MeetStream (not configured)\n",
	)
	for _, s := range specs {
		for _, p := range s.Setup(base) {
			mustContain(t, out, strings.TrimSuffix(p.What, ".")+":\n", p.Value)
		}
	}
	// ZOOM_REDIRECT_URI wins over BASE_URL.
	out, _ = w.run(t, e.with("ZOOM_REDIRECT_URI", "https://app.example.com/zoom/callback"), true)
	mustContain(t, out, "OAuth redirect URL:            https://app.example.com/zoom/callback",
		"· ZOOM_REDIRECT_URI is not "+base+"/zoom/oauth-callback")
}

func TestDotEnvIsRead(t *testing.T) {
	w := newWorld(t)
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	os.WriteFile(path, []byte("ZOOM_CLIENT_ID=fromDotEnv\nLOG_LEVEL=debug\n"), 0o600)
	out, _ := runWith(t, Options{Getenv: w.env.with("ZOOM_CLIENT_ID", "").get, DotEnv: path, Offline: true, HTTP: w.client, LookupIP: publicLookup})
	mustContain(t, out, "✓ ZOOM_CLIENT_ID = fromDotEnv", "✓ LOG_LEVEL = debug")
	// The real environment wins.
	out, _ = runWith(t, Options{Getenv: w.env.get, DotEnv: path, Offline: true, HTTP: w.client, LookupIP: publicLookup})
	mustContain(t, out, "✓ ZOOM_CLIENT_ID = "+clientID)

	os.WriteFile(path, []byte("ZOOM_CLIENT_ID='unterminated\n"), 0o600)
	out, code := runWith(t, Options{Getenv: w.env.get, DotEnv: path, Offline: true, HTTP: w.client, LookupIP: publicLookup})
	if code != 1 {
		t.Errorf("exit %d with a broken .env, want 1", code)
	}
	mustContain(t, out, "Configuration file\n  ✗ reading "+path)
}

// TestAppReview: the review section names the deauthorization URL, the
// scopes the features need (user:read:zak never; ZAK through
// user:read:token) and says what it cannot check.
func TestAppReview(t *testing.T) {
	w := newWorld(t)
	out, _ := w.run(t, w.env.with("ZOOM_WEBHOOK_SECRET_TOKEN", ""), false)
	mustContain(t, out, "Zoom app review (Marketplace publication)",
		"· Deauthorization endpoint not configured (needed to publish the app)", "/zoom/webhook",
		"✓ Scopes the enabled features need, and the only ones to add to the app: user:read:user, user:read:token, meeting:read:local_recording_token.",
		"user:read:zak is not needed", "Refresh frequency not checked", "Share of failing Zoom calls not checked")
	out, _ = w.run(t, w.env.with("ZOOM_WEBHOOK_SECRET_TOKEN", "zoom-webhook-token-1234"), false)
	mustContain(t, out, "✓ Deauthorization endpoint: ")
	mustNotContain(t, out, "zoom-webhook-token-1234")
}

// meaning returns the documented meaning of a platform variable.
func meaning(t *testing.T, vars []platform.Var, name string) string {
	t.Helper()
	for _, v := range vars {
		if v.Name == name {
			return v.Meaning
		}
	}
	t.Fatalf("%s is no variable of the block", name)
	return ""
}
