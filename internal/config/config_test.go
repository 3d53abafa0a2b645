package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

func env(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func TestDefaultsWithNoConfiguration(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 8080 || c.ListenAddr != ":8080" || c.BaseURL != "" || c.DBPath != "./data/onbehalf.db" ||
		c.ZoomOAuthURL != "https://zoom.us" || c.ZoomAPIURL != "https://api.zoom.us/v2" ||
		c.ZoomTimeout != 10*time.Second || c.ZoomRefreshTimeout != 60*time.Second || c.LogFormat != "text" ||
		len(c.SecretURLKinds) != 1 || c.SecretURLKinds[0] != onbehalf.KindOBF || c.Metrics || c.DatabaseURL != "" {
		t.Fatalf("defaults: %+v", c)
	}
	if c.ZoomConfigured() || c.AccountMode() {
		t.Fatal("nothing should be configured")
	}
}

func TestListenAddrAndSecretURLs(t *testing.T) {
	c, err := Load(env(map[string]string{"PORT": "9000", "BASE_URL": "https://x.ngrok.app/"}))
	if err != nil || c.ListenAddr != ":9000" || c.BaseURL != "https://x.ngrok.app" || !c.Secure() {
		t.Fatalf("%v %+v", err, c)
	}
	c, err = Load(env(map[string]string{"LISTEN_ADDR": "127.0.0.1:8081", "ALLOW_SECRET_URLS": "zak"}))
	if err != nil || c.ListenAddr != "127.0.0.1:8081" || onbehalf.KindsString(c.SecretURLKinds) != "obf,zak" {
		t.Fatalf("%v %+v", err, c)
	}
	c, err = Load(env(map[string]string{"ALLOW_SECRET_URLS": "false"}))
	if err != nil || len(c.SecretURLKinds) != 0 {
		t.Fatalf("%v %+v", err, c)
	}
}

func TestEveryProblemReportedAtOnce(t *testing.T) {
	_, err := Load(env(map[string]string{
		"PORT":                "http",
		"BASE_URL":            "ngrok.app",
		"LISTEN_ADDR":         "nowhere",
		"ZOOM_CLIENT_ID":      "id-only",
		"OBF_CALLBACK_SECRET": "short-secret-x",
		"ZOOM_TIMEOUT":        "-1s",
		"ZOOM_API_URL":        "ftp://x",
		"LOG_LEVEL":           "loud",
		"WEBHOOK_SECRET":      "whsec_not*base64",
		"ALLOW_SECRET_URLS":   "maybe",
		"ZOOM_ACCOUNT_ID":     "acct",
		"DATABASE_URL":        "mysql://x",
	}))
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{"PORT", "BASE_URL", "LISTEN_ADDR", "ZOOM_CLIENT_SECRET", "OBF_CALLBACK_SECRET", "ZOOM_TIMEOUT", "ZOOM_API_URL", "LOG_LEVEL", "WEBHOOK_SECRET", "ALLOW_SECRET_URLS", "ZOOM_S2S_CLIENT_ID", "DATABASE_URL", "12 problem"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %s:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "short-secret-x") {
		t.Error("error echoes a secret")
	}
}

func TestDotEnvLoadedAndEnvironmentWins(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, ".env")
	if err := os.WriteFile(p, []byte("PORT=9999\n# comment\nWEBHOOK_URL=https://from-file.example/hook\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	get, err := LoadDotEnv(p, env(map[string]string{"PORT": "7000"}))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(get)
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 7000 || c.WebhookURL != "https://from-file.example/hook" {
		t.Fatalf("%+v", c)
	}
	if _, err := LoadDotEnv(filepath.Join(dir, "missing"), env(nil)); err != nil {
		t.Fatalf("missing .env must be fine: %v", err)
	}
}

func TestPagesAndAbuseLimits(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil || !c.Pages || c.BotsPerHour != 20 || c.StreamsPerSession != 5 || c.StreamsMax != 1000 ||
		c.AllowedZoomAccounts != nil || c.AllowedEmailDomains != nil {
		t.Fatalf("defaults: %v %+v", err, c)
	}
	c, err = Load(env(map[string]string{"PAGES": "false", "BOTS_PER_HOUR": "0", "STREAMS_PER_SESSION": "2", "STREAMS_MAX": "50",
		"ALLOWED_ZOOM_ACCOUNTS": " acctA, acctB ,", "ALLOWED_EMAIL_DOMAINS": "@Example.com, corp.example.org"}))
	if err != nil || c.Pages || c.BotsPerHour != 0 || c.StreamsPerSession != 2 || c.StreamsMax != 50 ||
		strings.Join(c.AllowedZoomAccounts, ",") != "acctA,acctB" || strings.Join(c.AllowedEmailDomains, ",") != "example.com,corp.example.org" {
		t.Fatalf("set: %v %+v", err, c)
	}
	_, err = Load(env(map[string]string{"PAGES": "nope", "BOTS_PER_HOUR": "-1", "STREAMS_PER_SESSION": "0", "STREAMS_MAX": "many",
		"ALLOWED_EMAIL_DOMAINS": "a@b.com"}))
	for _, want := range []string{"PAGES=", "BOTS_PER_HOUR=", "STREAMS_PER_SESSION=", "STREAMS_MAX=", "ALLOWED_EMAIL_DOMAINS:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("problems lack %s: %v", want, err)
		}
	}
}
