package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onbehalf/onbehalf/internal/platform"
)

// TestEveryPlatformSecretReadsFiles: every variable a platform's Spec
// marks secret reads NAME_FILE through what the commands load (loadEnv),
// with no list to keep in package config; a platform added to the list
// gets it with nothing else to edit.
func TestEveryPlatformSecretReadsFiles(t *testing.T) {
	names := platform.SecretVars(Platforms)
	if len(names) < len(Platforms) {
		t.Fatalf("secret variables %v: every platform has at least its API key", names)
	}
	files := map[string]string{}
	for _, n := range names {
		p := filepath.Join(t.TempDir(), n)
		if err := os.WriteFile(p, []byte("from-file-"+n+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		files[n+"_FILE"] = p
	}
	get, _, err := loadEnv(func(k string) string { return files[k] }, Platforms)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if v := get(n); v != "from-file-"+n {
			t.Errorf("%s = %q, want the content of %s_FILE", n, v, n)
		}
	}

	// Both set: a problem, reported without the value.
	both := func(k string) string {
		if k == names[0] {
			return "in-the-environment-0123456789"
		}
		return files[k]
	}
	_, _, err = loadEnv(both, Platforms)
	if err == nil || !strings.Contains(err.Error(), names[0]+" and "+names[0]+"_FILE are both set") {
		t.Fatalf("both set: %v", err)
	}
	if strings.Contains(err.Error(), "in-the-environment") {
		t.Fatalf("the error echoes the secret: %v", err)
	}
}
