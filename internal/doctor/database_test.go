package doctor

import (
	"context"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
	"github.com/onbehalf/onbehalf/internal/store/postgres"
	"github.com/onbehalf/onbehalf/internal/store/postgres/pgtest"
)

// snapshot lists every file under dir with its size, mode and time.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		out = append(out, fmt.Sprintf("%s %d %v %d", path, info.Size(), info.Mode(), info.ModTime().UnixNano()))
		return nil
	})
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func TestBoltMissingIsNotCreated(t *testing.T) {
	w := newWorld(t)
	root := t.TempDir()
	path := filepath.Join(root, "a", "b", "onbehalf.db")
	out, code := w.run(t, w.env.with("DB_PATH", path), true)
	if code != 0 {
		t.Errorf("exit %d, want 0:\n%s", code, out)
	}
	mustContain(t, out,
		"✓ The folder "+filepath.Dir(path)+" does not exist yet: it will be created on first start (in "+root+", which is writable).",
		"✓ Free disk space: ",
		"✓ The database file does not exist yet: it will be created on first start.",
		"the key file "+path+".key will be generated on first start")
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("doctor created %v in %s", entries, root)
	}
}

func TestBoltExistingIsReadOnly(t *testing.T) {
	w := newWorld(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "onbehalf.db")
	s, err := bolt.Open(path, bolt.Options{ReserveBytes: bolt.NoReserve})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.CreateAPIKey(ctx, onbehalf.APIKey{ID: "k1", Name: "test", Hash: []byte("0123456789abcdef0123456789abcdef"), Prefix: "obk_", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Secret(ctx, "session_secret", func() (string, error) { return "a sealed value", nil }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	before := snapshot(t, dir)

	out, code := w.run(t, w.env.with("DB_PATH", path), true)
	if code != 0 {
		t.Errorf("exit %d, want 0:\n%s", code, out)
	}
	mustContain(t, out,
		"✓ The folder "+dir+" exists and is writable.",
		"✓ The database file exists (",
		"✓ Not locked: no server is running on it right now.",
		"✓ Schema and sealing keys are fine",
		"· 0 connected and 0 disconnected Zoom connection(s).",
		"✓ Sealing key: the key file "+path+".key. Back it up",
		"Keys:                          1 key made with `onbehalf apikey create`")
	if after := snapshot(t, dir); after != before {
		t.Errorf("doctor changed the database folder:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	// Without its key file the sealed values cannot be read.
	os.Rename(path+".key", path+".key.away")
	out, code = w.run(t, w.env.with("DB_PATH", path), true)
	if code != 1 {
		t.Errorf("exit %d without the key file, want 1:\n%s", code, out)
	}
	mustContain(t, out, "⚠ The key file "+path+".key is missing and TOKEN_ENCRYPTION_KEY is not set")
}

func TestBoltLockedByARunningServer(t *testing.T) {
	w := newWorld(t)
	path := filepath.Join(t.TempDir(), "onbehalf.db")
	s, err := bolt.Open(path, bolt.Options{ReserveBytes: bolt.NoReserve})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	out, code := w.run(t, w.env.with("DB_PATH", path), true)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("doctor took %s on a locked file", took)
	}
	if code != 0 {
		t.Errorf("exit %d, want 0 (a running server is not a problem):\n%s", code, out)
	}
	mustContain(t, out, "⚠ The file is locked by a running process (an onbehalf server, most likely)")
	mustNotContain(t, out, "Not locked")
	// The running server is not disturbed.
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("the store fails after doctor ran: %v", err)
	}
}

func TestBoltFileProblems(t *testing.T) {
	w := newWorld(t)
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.db")
	os.WriteFile(empty, nil, 0o600)
	out, code := w.run(t, w.env.with("DB_PATH", empty), true)
	if code != 0 {
		t.Errorf("exit %d for an empty file, want 0:\n%s", code, out)
	}
	mustContain(t, out, "✓ The file is empty: the server initializes it on first start.")
	if st, _ := os.Stat(empty); st.Size() != 0 {
		t.Error("doctor wrote to the empty file")
	}

	garbage := filepath.Join(dir, "garbage.db")
	os.WriteFile(garbage, []byte(strings.Repeat("not bbolt ", 1000)), 0o600)
	out, code = w.run(t, w.env.with("DB_PATH", garbage), true)
	if code != 1 {
		t.Errorf("exit %d for a file that is not bbolt, want 1", code)
	}
	mustContain(t, out, "✗ bbolt cannot open the file read-only (is it an onbehalf database?)")
}

func TestBoltFolderProblems(t *testing.T) {
	w := newWorld(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "plain")
	os.WriteFile(file, []byte("x"), 0o600)
	out, code := w.run(t, w.env.with("DB_PATH", filepath.Join(file, "onbehalf.db")), true)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	mustContain(t, out, "✗ "+file+" is not a folder")

	if os.Getuid() == 0 {
		t.Log("running as root: permissions cannot be tested")
		return
	}
	locked := filepath.Join(dir, "locked")
	os.Mkdir(locked, 0o500)
	out, code = w.run(t, w.env.with("DB_PATH", filepath.Join(locked, "onbehalf.db")), true)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	mustContain(t, out, "✗ The folder "+locked+" is not writable by this user")
}

func TestPostgres(t *testing.T) {
	w := newWorld(t)
	key := base64.StdEncoding.EncodeToString([]byte("sealing-key-one-32-bytes-long!!!"))
	u, schema := pgtest.Schema(t)
	e := w.env.with("DATABASE_URL", u, "TOKEN_ENCRYPTION_KEY", key)

	out, code := w.run(t, e, true)
	if code != 0 {
		t.Errorf("exit %d on an empty database, want 0:\n%s", code, out)
	}
	mustContain(t, out, "Database: PostgreSQL (DATABASE_URL)",
		"✓ TOKEN_ENCRYPTION_KEY is set (1 key)", ": PostgreSQL ",
		"✓ Not migrated yet: the server migrates on start (user ",
		"Keys:                          none: the API answers 404")
	// Doctor migrated nothing.
	out2, _ := w.run(t, e, true)
	mustContain(t, out2, "Not migrated yet")

	// A user that may not create tables cannot migrate: said before the
	// server fails at start.
	role := "doctor_" + strings.TrimPrefix(schema, "t_")
	pgtest.Exec(t, "CREATE ROLE "+role+" LOGIN PASSWORD 'role-pass-8080'")
	t.Cleanup(func() { pgtest.Exec(t, "DROP ROLE "+role) })
	pgtest.Exec(t, "GRANT USAGE ON SCHEMA "+schema+" TO "+role)
	t.Cleanup(func() { pgtest.Exec(t, "REVOKE USAGE ON SCHEMA "+schema+" FROM "+role) })
	pu, _ := url.Parse(u)
	pu.User = url.UserPassword(role, "role-pass-8080")
	out, code = w.run(t, e.with("DATABASE_URL", pu.String()), true)
	if code != 1 {
		t.Errorf("exit %d for a user without CREATE, want 1:\n%s", code, out)
	}
	mustContain(t, out, fmt.Sprintf("✗ Not migrated yet, and user %q may not create tables in schema %q", role, schema))
	mustNotContain(t, out, "role-pass-8080")

	s, err := postgres.Open(context.Background(), u, postgres.Options{Keys: [][]byte{[]byte("sealing-key-one-32-bytes-long!!!")}})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	out, code = w.run(t, e, true)
	if code != 0 {
		t.Errorf("exit %d on a migrated database, want 0:\n%s", code, out)
	}
	mustContain(t, out, "✓ Migrated: schema version ", fmt.Sprintf("(schema %q)", schema),
		"· 0 connected and 0 disconnected Zoom connection(s).")

	// Without the key, the configuration says so before anything else.
	out, code = w.run(t, e.with("TOKEN_ENCRYPTION_KEY", ""), true)
	if code != 1 {
		t.Errorf("exit %d without TOKEN_ENCRYPTION_KEY, want 1", code)
	}
	mustContain(t, out, "✗ TOKEN_ENCRYPTION_KEY is required with DATABASE_URL")

	// A wrong password fails, and is never printed.
	bad := strings.Replace(u, "@", "x-wrong-pass-77@", 1)
	if !strings.Contains(bad, ":") || bad == u {
		t.Skip("test URL has no password to get wrong")
	}
	out, code = w.run(t, e.with("DATABASE_URL", bad), true)
	if code != 1 {
		t.Errorf("exit %d with a wrong password, want 1", code)
	}
	mustContain(t, out, "✗ Cannot connect to database ")
	mustNotContain(t, out, "x-wrong-pass-77", urlPassword(u))
}
