package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secretFile writes content to a file of its own and returns its path.
func secretFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSecretsFromFiles: NAME_FILE gives NAME the file's content without
// its one trailing newline, for core variables and the platform secrets
// the caller names alike, through LoadDotEnv's Getenv; NAME_FILE itself
// then reads as unset.
func TestSecretsFromFiles(t *testing.T) {
	session := strings.Repeat("s", 40)
	get, err := LoadDotEnv(filepath.Join(t.TempDir(), "no.env"), env(map[string]string{
		"ZOOM_CLIENT_ID":          "cid",
		"ZOOM_CLIENT_SECRET_FILE": secretFile(t, "csecret\n"),
		"SESSION_SECRET_FILE":     secretFile(t, session+"\r\n"),
		"ANYBOT_API_KEY_FILE":     secretFile(t, "rkey-with-two-newlines\n\n"),
		"WEBHOOK_SECRET":          "",
	}), "ANYBOT_API_KEY")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(get, "ANYBOT_API_KEY")
	if err != nil {
		t.Fatal(err)
	}
	if c.ZoomClientSecret != "csecret" || c.SessionSecret != session {
		t.Fatalf("config: %q %q", c.ZoomClientSecret, c.SessionSecret)
	}
	// A platform reads its own variables through the same Getenv.
	if v := get("ANYBOT_API_KEY"); v != "rkey-with-two-newlines\n" {
		t.Fatalf("ANYBOT_API_KEY = %q: only one trailing newline goes", v)
	}
	if v := get("ZOOM_CLIENT_SECRET_FILE"); v != "" {
		t.Fatalf("ZOOM_CLIENT_SECRET_FILE still reads %q", v)
	}
}

// TestSecretFileProblemsReportedWithTheRest: both set, a missing file, an
// empty one: each is a problem, reported with every other problem at
// once, and none echoes a secret.
func TestSecretFileProblemsReportedWithTheRest(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	get, err := LoadDotEnv(filepath.Join(t.TempDir(), "no.env"), env(map[string]string{
		"OBF_CALLBACK_SECRET":      "in-the-environment-0123456789",
		"OBF_CALLBACK_SECRET_FILE": secretFile(t, "in-the-file-0123456789"),
		"API_KEYS_FILE":            missing,
		"WEBHOOK_SECRET_FILE":      secretFile(t, "\n"),
		"DATABASE_URL_FILE":        t.TempDir(), // a directory
		"PORT":                     "http",
	}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Load(get)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{
		"5 problem",
		"OBF_CALLBACK_SECRET and OBF_CALLBACK_SECRET_FILE are both set",
		"API_KEYS_FILE=\"" + missing + "\": no such file",
		"WEBHOOK_SECRET_FILE=", "is empty",
		"DATABASE_URL_FILE=", "cannot be read",
		"PORT",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not say %q:\n%s", want, msg)
		}
	}
	for _, secret := range []string{"in-the-environment", "in-the-file"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error echoes a secret: %s", msg)
		}
	}
}

// TestSecretFileUnreadable: a file this process may not read says so.
func TestSecretFileUnreadable(t *testing.T) {
	p := secretFile(t, "x")
	if err := os.Chmod(p, 0); err != nil {
		t.Fatal(err)
	}
	if f, err := os.Open(p); err == nil { // root reads anything
		f.Close()
		t.Skip("running as root: every file is readable")
	}
	_, err := Load(env(map[string]string{"SESSION_SECRET_FILE": p}))
	if err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("got %v", err)
	}
}

// TestOnlySecretsReadFiles: a variable not in SecretVars ignores NAME_FILE.
func TestOnlySecretsReadFiles(t *testing.T) {
	c, err := Load(env(map[string]string{"PORT_FILE": secretFile(t, "9999")}))
	if err != nil || c.Port != 8080 {
		t.Fatalf("%v, port %d", err, c.Port)
	}
}

// TestPlatformSecretProblems: a platform secret the caller names reports
// its NAME_FILE problems with the rest; one it does not name is no secret
// of this package and ignores its NAME_FILE.
func TestPlatformSecretProblems(t *testing.T) {
	e := env(map[string]string{
		"ANYBOT_API_KEY":          "in-the-environment-0123456789",
		"ANYBOT_API_KEY_FILE":     secretFile(t, "in-the-file-0123456789"),
		"OTHERBOT_API_KEY_FILE":   filepath.Join(t.TempDir(), "nope"),
		"UNNAMEDBOT_API_KEY_FILE": secretFile(t, "unnamed"),
	})
	get, err := LoadDotEnv(filepath.Join(t.TempDir(), "no.env"), e, "ANYBOT_API_KEY", "OTHERBOT_API_KEY")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Load(get, "ANYBOT_API_KEY", "OTHERBOT_API_KEY")
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{"2 problem", "ANYBOT_API_KEY and ANYBOT_API_KEY_FILE are both set", "OTHERBOT_API_KEY_FILE=", "no such file"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not say %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "in-the-") {
		t.Errorf("error echoes a secret: %s", msg)
	}
	if v := get("UNNAMEDBOT_API_KEY"); v != "" {
		t.Errorf("UNNAMEDBOT_API_KEY, named by nobody, read its file: %q", v)
	}
}
