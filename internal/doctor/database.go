package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// lowDiskBytes is the free space under which the database folder is
// worth a warning: the bbolt store alone keeps a 16 MiB reserve.
const lowDiskBytes = 100 << 20

// lockProbeTimeout is how long the read-only open waits for a lock held
// by a running server.
const lockProbeTimeout = 300 * time.Millisecond

// checkDatabase checks the store the server would open: PostgreSQL when
// DATABASE_URL is set, else the bbolt file at DB_PATH. Nothing is created
// or written.
func (d *doctor) checkDatabase(ctx context.Context) {
	if d.cfg.DatabaseURL != "" {
		d.r.section("Database: PostgreSQL (DATABASE_URL)")
		if len(d.problems["DATABASE_URL"]) > 0 {
			d.r.info("Not checked: DATABASE_URL has a problem (above).")
			return
		}
		if len(d.cfg.TokenEncryptionKeys) > 0 {
			d.r.ok("TOKEN_ENCRYPTION_KEY is set (%s), as PostgreSQL requires: every instance must share it.", plural(len(d.cfg.TokenEncryptionKeys), "key"))
		} else {
			d.r.info("TOKEN_ENCRYPTION_KEY is required with DATABASE_URL (see above).")
		}
		d.checkPostgres(ctx)
		return
	}
	d.r.section("Database: bbolt (DB_PATH)")
	if d.cfg.DBPath == "" {
		d.r.info("Not checked: DB_PATH is empty (above).")
		return
	}
	d.checkBolt(ctx, d.cfg.DBPath)
}

// checkBolt checks the folder, the file, its lock, the free space, and
// the schema and keys of an existing file, all without writing: bolt.Open
// would create the folder, the file, a key file and a reserve.
func (d *doctor) checkBolt(ctx context.Context, path string) {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	d.r.info("File: %s", abs)
	dir := filepath.Dir(abs)
	dirOK := d.checkFolder(dir)

	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
		d.storedAPIKeys = 0
		if dirOK {
			d.r.ok("The database file does not exist yet: it will be created on first start.")
		}
		d.reportKeyFile(abs, false)
		return
	case err != nil:
		d.r.fail("Cannot read %s: %v", abs, err)
		return
	case !st.Mode().IsRegular():
		d.r.fail("%s is not a regular file.", abs)
		return
	}
	if err := access(abs, accessRead|accessWrite); err != nil {
		d.r.fail("The database file is not readable and writable by this user: %v. Run doctor as the server's user, or fix the owner and mode.", err)
	} else {
		d.r.ok("The database file exists (%s) and this user can read and write it.", sizeString(st.Size()))
	}

	if st.Size() == 0 {
		d.storedAPIKeys = 0
		d.r.ok("The file is empty: the server initializes it on first start.")
		d.reportKeyFile(abs, false)
		return
	}
	db, err := bbolt.Open(abs, 0o600, &bbolt.Options{ReadOnly: true, Timeout: lockProbeTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		d.r.warn("The file is locked by a running process (an onbehalf server, most likely): fine if that is the server you are checking; a second server cannot start on it. Its contents were not checked (use PostgreSQL, DATABASE_URL, to run several instances).")
		d.reportKeyFile(abs, true)
		return
	}
	if err != nil {
		d.r.fail("bbolt cannot open the file read-only (is it an onbehalf database?): %v", err)
		return
	}
	db.Close()
	d.r.ok("Not locked: no server is running on it right now.")
	d.inspectBolt(ctx, abs)
	d.reportKeyFile(abs, true)
}

// checkFolder checks that the database folder exists and is writable, or
// that its nearest existing parent lets the server create it; it also
// reports the free space there. It reports whether the folder is usable.
func (d *doctor) checkFolder(dir string) bool {
	existing := dir
	for {
		st, err := os.Stat(existing)
		if err == nil {
			if !st.IsDir() {
				d.r.fail("%s is not a folder: the database folder %s cannot be created.", existing, dir)
				return false
			}
			break
		}
		if !errors.Is(err, os.ErrNotExist) {
			d.r.fail("Cannot read %s: %v", existing, err)
			return false
		}
		parent := filepath.Dir(existing)
		if parent == existing {
			d.r.fail("No part of %s exists.", dir)
			return false
		}
		existing = parent
	}
	ok := true
	if err := access(existing, accessWrite|accessSearch); err != nil {
		ok = false
		if existing == dir {
			d.r.fail("The folder %s is not writable by this user (%v): the server cannot create or grow the database there.", dir, err)
		} else {
			d.r.fail("The folder %s does not exist and %s is not writable by this user (%v): the server cannot create it.", dir, existing, err)
		}
	} else if existing == dir {
		d.r.ok("The folder %s exists and is writable.", dir)
	} else {
		d.r.ok("The folder %s does not exist yet: it will be created on first start (in %s, which is writable).", dir, existing)
	}
	if free, known := freeBytes(existing); !known {
		d.r.info("Free disk space: unknown on this system.")
	} else if free < lowDiskBytes {
		d.r.warn("Only %s free on the disk of %s: the database stops taking new tokens when the disk is full.", sizeString(int64(free)), existing)
	} else {
		d.r.ok("Free disk space: %s.", sizeString(int64(free)))
	}
	return ok
}

// inspectBolt opens the file read-only through the store, which checks the
// schema and that every key that sealed data is available, and counts
// what it holds.
func (d *doctor) inspectBolt(ctx context.Context, path string) {
	s, err := bolt.OpenReadOnly(path, bolt.Options{
		Keys: d.cfg.TokenEncryptionKeys, Timeout: lockProbeTimeout,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		if strings.Contains(err.Error(), "older than this build") {
			d.r.warn("The file has an older schema: the server upgrades it on first start (keep a copy of the file and its .key first).")
		} else {
			d.r.fail("%v", err)
		}
		return
	}
	defer s.Close()
	d.r.ok("Schema and sealing keys are fine: the server can read every sealed value.")
	if n, err := s.CountConnections(ctx); err == nil {
		d.r.info("%d connected and %d disconnected Zoom connection(s).", n[onbehalf.StateConnected], n[onbehalf.StateDisconnected])
		d.connected = int64(n[onbehalf.StateConnected])
	}
	if keys, err := s.APIKeys(ctx); err == nil {
		d.storedAPIKeys = len(keys)
	}
}

// reportKeyFile says where the sealing key comes from for a bbolt file.
func (d *doctor) reportKeyFile(path string, dbExists bool) {
	keyFile := path + ".key"
	_, err := os.Stat(keyFile)
	hasFile := err == nil
	switch {
	case len(d.cfg.TokenEncryptionKeys) > 0 && hasFile:
		d.r.ok("Sealing keys: TOKEN_ENCRYPTION_KEY, and the key file %s for values it sealed before.", keyFile)
	case len(d.cfg.TokenEncryptionKeys) > 0:
		d.r.ok("Sealing key: TOKEN_ENCRYPTION_KEY.")
	case hasFile:
		d.r.ok("Sealing key: the key file %s. Back it up with the database: without it the tokens cannot be read.", keyFile)
	case dbExists:
		d.r.warn("The key file %s is missing and TOKEN_ENCRYPTION_KEY is not set: the server refuses to start if the database holds sealed tokens.", keyFile)
	default:
		d.r.info("Sealing key: the key file %s will be generated on first start (or set TOKEN_ENCRYPTION_KEY).", keyFile)
	}
}

// urlPassword returns the password of a postgres:// URL (user info or
// password= parameter), or "".
func urlPassword(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return ""
	}
	if pw, ok := u.User.Password(); ok && pw != "" {
		return pw
	}
	return u.Query().Get("password")
}

// displayDatabaseURL shows a database URL without its password and
// parameters.
func displayDatabaseURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "set (not a URL)"
	}
	out := u.Scheme + "://"
	if name := u.User.Username(); name != "" {
		out += name + "@"
	}
	out += u.Host + u.Path
	if _, has := u.User.Password(); has || u.RawQuery != "" {
		out += " (password and parameters hidden)"
	}
	return out
}

// displayURL shows a URL without user info or query, which may carry
// credentials.
func displayURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "set (not a URL)"
	}
	out := u.Scheme + "://" + u.Host + u.Path
	if u.User != nil || u.RawQuery != "" {
		out += " (credentials and query hidden)"
	}
	return out
}

// sizeString formats a byte count for people.
func sizeString(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
