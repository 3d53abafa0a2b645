package app_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/onbehalf/onbehalf/internal/app"
	"github.com/onbehalf/onbehalf/internal/config"
)

// TestEnvExampleDocumentsEveryVariable: every variable the configuration
// reads (core and every platform's block) has a commented line in
// .env.example, and nothing there is unknown.
func TestEnvExampleDocumentsEveryVariable(t *testing.T) {
	example, err := os.ReadFile("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	sources, err := filepath.Glob("../config/*.go")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, f := range sources {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`get\("([A-Z0-9_]+)"`).FindAllSubmatch(src, -1) {
			want[string(m[1])] = true
		}
	}
	for _, s := range app.Platforms {
		for _, v := range s.Vars {
			want[v.Name] = true
		}
	}
	if len(want) < 40 {
		t.Fatalf("found only %d variables: the scan is broken", len(want))
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^# ([A-Z][A-Z0-9_]+)=`).FindAllSubmatch(example, -1) {
		documented[string(m[1])] = true
	}
	for v := range want {
		if !documented[v] {
			t.Errorf(".env.example lacks %s", v)
		}
	}
	for v := range documented {
		if !want[v] {
			t.Errorf(".env.example documents %s, which nothing reads", v)
		}
	}
}

// TestEveryPlatformSecretReadsFiles: config.SecretVars, the one list of
// variables that also read NAME_FILE, holds every platform variable marked
// secret, and only variables something reads.
func TestEveryPlatformSecretReadsFiles(t *testing.T) {
	listed := map[string]bool{}
	for _, v := range config.SecretVars {
		listed[v] = true
	}
	for _, s := range app.Platforms {
		for _, v := range s.Vars {
			if v.Secret && !listed[v.Name] {
				t.Errorf("%s is secret but not in config.SecretVars: %s_FILE would be ignored", v.Name, v.Name)
			}
			delete(listed, v.Name)
		}
	}
	for _, core := range []string{"ZOOM_CLIENT_SECRET", "ZOOM_S2S_CLIENT_SECRET", "ZOOM_WEBHOOK_SECRET_TOKEN", "OBF_CALLBACK_SECRET",
		"SESSION_SECRET", "TOKEN_ENCRYPTION_KEY", "API_KEYS", "WEBHOOK_SECRET", "DATABASE_URL", "OTEL_EXPORTER_OTLP_HEADERS"} {
		if !listed[core] {
			t.Errorf("%s is not in config.SecretVars", core)
		}
		delete(listed, core)
	}
	for v := range listed {
		t.Errorf("config.SecretVars lists %s, which is no platform's variable nor a core secret", v)
	}
}
