package app_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/onbehalf/onbehalf/internal/app"
)

// TestAPIKeyCommandsWhileServing: with a server running on the bbolt
// file, `onbehalf apikey create|list|revoke` go through its admin routes
// (ONBEHALF_API_KEY); the created key works at once and stops working at
// once when revoked. Without ONBEHALF_API_KEY the command says what to set.
func TestAPIKeyCommandsWhileServing(t *testing.T) {
	f := newFakes(t)
	f.env["API_KEYS"] = "admin-key-0123456789-abcdefghij"
	a, _ := startApp(t, f, io.Discard)
	run := func(env map[string]string, args ...string) (int, string, string) {
		var out, errb strings.Builder
		code := app.Run(context.Background(), args, func(k string) string {
			if v, ok := env[k]; ok {
				return v
			}
			return f.env[k]
		}, &out, &errb)
		return code, out.String(), errb.String()
	}
	code, _, stderr := run(nil, "apikey", "list")
	if code != 1 || !strings.Contains(stderr, "ONBEHALF_API_KEY") {
		t.Fatalf("without a key: %d %s", code, stderr)
	}
	admin := map[string]string{"ONBEHALF_API_KEY": f.env["API_KEYS"], "ONBEHALF_URL": a.BaseURL()}
	code, stdout, stderr := run(admin, "apikey", "create", "--name", "backend")
	key := strings.TrimSpace(stdout)
	if code != 0 || !strings.HasPrefix(key, "obk_") {
		t.Fatalf("create: %d %q %s", code, stdout, stderr)
	}
	id := strings.Fields(strings.TrimPrefix(stderr[strings.Index(stderr, "API key "):], "API key "))[0]
	get := func() int {
		req, _ := http.NewRequest(http.MethodGet, a.BaseURL()+"/api/v1/connections", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := get(); s != http.StatusOK {
		t.Fatalf("the new key: %d", s)
	}
	code, stdout, stderr = run(admin, "apikey", "list")
	if code != 0 || !strings.Contains(stdout, id) || !strings.Contains(stdout, "backend") || strings.Contains(stdout, key) ||
		!strings.Contains(stdout, "1 key(s) from API_KEYS") || !strings.Contains(stdout, "LAST USED") || strings.Contains(stdout, "never") {
		t.Fatalf("list: %d %s %s", code, stdout, stderr)
	}
	if code, _, stderr = run(admin, "apikey", "revoke", id); code != 0 {
		t.Fatalf("revoke: %d %s", code, stderr)
	}
	if s := get(); s != http.StatusUnauthorized {
		t.Fatalf("the revoked key: %d, want 401 at once", s)
	}
	if code, _, stderr = run(admin, "apikey", "revoke", id); code != 1 || !strings.Contains(stderr, "404") {
		t.Fatalf("revoking again: %d %s", code, stderr)
	}
}
