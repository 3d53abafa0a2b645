package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func TestDefaultsWithNoConfiguration(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 8080 || c.BaseURL != "" || c.DBPath != "./data/onbehalf.db" ||
		c.ZoomOAuthURL != "https://zoom.us" || c.ZoomAPIURL != "https://api.zoom.us/v2" ||
		c.RecallAPIURL != "https://us-east-1.recall.ai" || c.ZoomTimeout != 10*time.Second {
		t.Fatalf("defaults: %+v", c)
	}
	if c.ZoomConfigured() || c.RecallConfigured() {
		t.Fatal("nothing should be configured")
	}
}

func TestRegionAndOverride(t *testing.T) {
	c, err := Load(env(map[string]string{"RECALL_REGION": "eu-central-1", "BASE_URL": "https://x.ngrok.app/"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.RecallAPIURL != "https://eu-central-1.recall.ai" || c.BaseURL != "https://x.ngrok.app" || !c.Secure() {
		t.Fatalf("%+v", c)
	}
	c, err = Load(env(map[string]string{"RECALL_API_URL": "http://127.0.0.1:9/", "RECALL_REGION": "mars"}))
	if err != nil || c.RecallAPIURL != "http://127.0.0.1:9" {
		t.Fatalf("override: %v %+v", err, c)
	}
}

func TestEveryProblemReportedAtOnce(t *testing.T) {
	_, err := Load(env(map[string]string{
		"PORT":                       "http",
		"BASE_URL":                   "ngrok.app",
		"RECALL_REGION":              "mars",
		"ZOOM_CLIENT_ID":             "id-only",
		"OBF_CALLBACK_SECRET":        "short-secret-x",
		"ZOOM_TIMEOUT":               "-1s",
		"ZOOM_API_URL":               "ftp://x",
		"LOG_LEVEL":                  "loud",
		"RECALL_VERIFICATION_SECRET": "whsec_not*base64",
	}))
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{"PORT", "BASE_URL", "RECALL_REGION", "ZOOM_CLIENT_SECRET", "OBF_CALLBACK_SECRET", "ZOOM_TIMEOUT", "ZOOM_API_URL", "LOG_LEVEL", "RECALL_VERIFICATION_SECRET", "9 problem"} {
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
	if err := os.WriteFile(p, []byte("PORT=9999\n# comment\nRECALL_API_KEY=from-file\n"), 0o600); err != nil {
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
	if c.Port != 7000 || c.RecallAPIKey != "from-file" {
		t.Fatalf("%+v", c)
	}
	if _, err := LoadDotEnv(filepath.Join(dir, "missing"), env(nil)); err != nil {
		t.Fatalf("missing .env must be fine: %v", err)
	}
}
