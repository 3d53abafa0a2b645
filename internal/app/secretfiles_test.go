package app_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onbehalf/onbehalf/internal/app"
)

// TestSecretsFromFilesEndToEnd: the Zoom client secret and Recall's API
// key read from files (as Docker, Kubernetes and systemd hand them over)
// work: a person connects and a bot gets its token.
func TestSecretsFromFilesEndToEnd(t *testing.T) {
	f := newFakes(t)
	dir := t.TempDir()
	for name, v := range map[string]string{"ZOOM_CLIENT_SECRET": f.env["ZOOM_CLIENT_SECRET"], "RECALL_API_KEY": f.env["RECALL_API_KEY"]} {
		p := filepath.Join(dir, strings.ToLower(name))
		if err := os.WriteFile(p, []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		delete(f.env, name)
		f.env[name+"_FILE"] = p
	}
	a, _ := startApp(t, f, io.Discard)
	fetch(t, a.BaseURL(), walk(t, a.BaseURL(), f), f)
}

// TestSecretFileProblemsStopTheStart: a platform's secret file that is
// missing is reported with the core's problems, at once, before listening.
func TestSecretFileProblemsStopTheStart(t *testing.T) {
	f := newFakes(t)
	missing := filepath.Join(t.TempDir(), "recall_api_key")
	delete(f.env, "RECALL_API_KEY")
	f.env["RECALL_API_KEY_FILE"] = missing
	f.env["SESSION_SECRET_FILE"] = missing
	f.env["SESSION_SECRET"] = strings.Repeat("x", 40)
	f.env["PORT"] = "http"
	var stderr strings.Builder
	if code := app.Run(context.Background(), nil, f.getenv, io.Discard, &stderr); code != 1 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"3 problem", "RECALL_API_KEY_FILE=", "no such file", "SESSION_SECRET and SESSION_SECRET_FILE are both set", "PORT"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("not said: %q\n%s", want, stderr.String())
		}
	}
}
