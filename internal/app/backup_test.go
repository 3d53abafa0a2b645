package app_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/onbehalf/onbehalf/internal/app"
)

// backup runs `onbehalf backup args…` with f's environment.
func backup(t *testing.T, f *fakes, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = app.Run(context.Background(), append([]string{"backup"}, args...), f.getenv, &out, &errOut)
	return code, out.String(), errOut.String()
}

// copyFile copies a file (the key file, for a restore).
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestHotBackup: while a server runs in another process (holding the
// bbolt file's lock), `onbehalf backup FILE` gets a consistent copy
// through the server's socket; a server started on that copy (with the
// key file) serves the token URL handed out before. With the server
// stopped, the command reads the file itself.
func TestHotBackup(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	f := newFakes(t)
	cmd, base := startChild(t, f)
	tokenURL := walk(t, base, f)
	fetch(t, base, tokenURL, f)

	dir := t.TempDir()
	hot := filepath.Join(dir, "hot.db")
	code, _, stderr := backup(t, f, hot)
	if code != 0 || !strings.Contains(stderr, "copied by the running server") || !strings.Contains(stderr, f.env["DB_PATH"]+".key") {
		t.Fatalf("backup while serving: exit %d: %s", code, stderr)
	}
	// The server served on: a token now, a copy to standard output.
	fetch(t, base, tokenURL, f)
	code, stdout, stderr := backup(t, f, "-")
	if code != 0 || len(stdout) < 4096 {
		t.Fatalf("backup to stdout: exit %d, %d bytes: %s", code, len(stdout), stderr)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.env["DB_PATH"] + ".sock"); !os.IsNotExist(err) {
		t.Fatalf("the backup socket outlived the server: %v", err)
	}
	cold := filepath.Join(dir, "cold.db")
	if code, _, stderr := backup(t, f, cold); code != 0 || !strings.Contains(stderr, "read from the stopped database") {
		t.Fatalf("backup of a stopped database: exit %d: %s", code, stderr)
	}

	// Restore: the hot copy and the key file are a working install.
	copyFile(t, f.env["DB_PATH"]+".key", hot+".key")
	f.env["DB_PATH"] = hot
	a, _ := startApp(t, f, io.Discard)
	fetch(t, a.BaseURL(), tokenURL, f)
}

// TestBackupRefusals: the database itself as FILE, a missing argument,
// and PostgreSQL (pointed to pg_dump, nothing connected to).
func TestBackupRefusals(t *testing.T) {
	f := newFakes(t)
	a, stop := startApp(t, f, io.Discard)
	walk(t, a.BaseURL(), f)
	if code, _, stderr := backup(t, f, f.env["DB_PATH"]); code != 1 || !strings.Contains(stderr, "is the database itself") {
		t.Fatalf("backup onto the database: exit %d: %s", code, stderr)
	}
	stop()
	if code, _, stderr := backup(t, f); code != 2 || !strings.Contains(stderr, "usage: onbehalf backup FILE") {
		t.Fatalf("no FILE: exit %d: %s", code, stderr)
	}
	f.env["DATABASE_URL"] = "postgres://onbehalf@127.0.0.1:1/onbehalf"
	f.env["TOKEN_ENCRYPTION_KEY"] = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	if code, _, stderr := backup(t, f, filepath.Join(t.TempDir(), "x")); code != 1 || !strings.Contains(stderr, "pg_dump") {
		t.Fatalf("PostgreSQL: exit %d: %s", code, stderr)
	}
}
