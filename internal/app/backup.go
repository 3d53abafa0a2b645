package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/onbehalf/onbehalf/internal/config"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
)

// Hot backups of the bbolt file. A running server holds the file's
// exclusive lock, so another process can neither open it nor read a
// consistent copy of it (a plain cp may catch a half-written page). The
// server therefore serves copies itself, from one read transaction, on a
// Unix socket beside the database (DB_PATH.sock, mode 0600): only the
// server's own user (and root), who can read the database file anyway,
// may connect. Nothing about it is reachable over the network, and no
// secret or extra port is needed. `onbehalf backup FILE` asks that socket,
// or opens the file itself when no server runs.

// backupSocketSuffix names the backup socket after the database file.
const backupSocketSuffix = ".sock"

// backupper is a store that copies itself while serving (bbolt).
type backupper interface {
	Backup(begin func(size int64) io.Writer) (int64, error)
	Path() string
}

// serveBackups serves GET /backup on the socket beside the bbolt file. A
// socket that cannot be made (a read-only folder, a path too long for a
// socket) costs only hot backups: it is logged, and the server runs on.
func (a *App) serveBackups() {
	b, ok := a.Store.(backupper)
	if !ok {
		return
	}
	path := b.Path() + backupSocketSuffix
	// A socket left behind by a server that was killed: this process holds
	// the database's lock, so it is nobody's.
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		_ = os.Remove(path)
	}
	ln, err := net.Listen("unix", path)
	if err == nil {
		err = os.Chmod(path, 0o600)
		if err != nil {
			ln.Close()
		}
	}
	if err != nil {
		a.log.Warn("backups: no backup socket, so `onbehalf backup` cannot copy the database while this server runs", "socket", path, "err", err)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /backup", func(w http.ResponseWriter, r *http.Request) {
		start, begun := time.Now(), false
		n, err := b.Backup(func(size int64) io.Writer {
			begun = true
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
			return w
		})
		switch {
		case err != nil && !begun:
			a.log.Error("backup failed", "err", err)
			http.Error(w, "backup failed: "+err.Error(), http.StatusInternalServerError)
		case err != nil: // the client sees a short copy and says so
			a.log.Error("backup failed while writing", "err", err, "written", n)
		default:
			a.log.Info("backup written", "bytes", n, "took", time.Since(start))
		}
	})
	a.backups = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelDebug)}
	go func() { _ = a.backups.Serve(ln) }()
}

// runBackup handles `onbehalf backup FILE`: a consistent copy of the bbolt
// database, from the running server if there is one, written to FILE
// atomically ("-": standard output). With PostgreSQL it says to use
// pg_dump.
func runBackup(ctx context.Context, env Process, args []string) int {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") && args[0] != "-" {
		fmt.Fprintln(env.Stderr, "usage: onbehalf backup FILE   (FILE - writes the copy to standard output)")
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(env.Stderr, "onbehalf backup: "+format+"\n", a...)
		return 1
	}
	_, cfg, err := loadEnv(env.Getenv, Platforms)
	if err != nil {
		return fail("%v", err)
	}
	if cfg.DatabaseURL != "" {
		return fail("the database is PostgreSQL (DATABASE_URL): back it up with PostgreSQL's own tools, e.g.\n" +
			"  pg_dump --format=custom --file=onbehalf.dump \"$DATABASE_URL\"\n" +
			"(restore with pg_restore into an empty database). Keep TOKEN_ENCRYPTION_KEY too, apart from the dump: the tokens in it are sealed with it.")
	}
	file := args[0]
	if file != "-" {
		if same(file, cfg.DBPath) {
			return fail("%s is the database itself: name another file", file)
		}
	}
	src, copyFrom, err := openBackupSource(ctx, cfg)
	if err != nil {
		return fail("%v", err)
	}
	defer src.Close()
	if file == "-" {
		if _, err := io.Copy(env.Stdout, src); err != nil {
			return fail("copying the database: %v", err)
		}
		return 0
	}
	n, err := writeFileAtomically(file, src)
	if err != nil {
		return fail("%v", err)
	}
	if err := checkBolt(file); err != nil {
		os.Remove(file)
		return fail("the copy in %s is damaged and was removed: %v", file, err)
	}
	key := cfg.DBPath + ".key"
	if len(cfg.TokenEncryptionKeys) > 0 {
		key = "TOKEN_ENCRYPTION_KEY"
	}
	fmt.Fprintf(env.Stderr, "Backup of %s written to %s (%.1f MB, %s).\n"+
		"The Zoom tokens in it are sealed: keep %s as well, stored apart from the backup. To restore, stop the server and put the copy at DB_PATH.\n",
		cfg.DBPath, file, float64(n)/(1<<20), copyFrom, key)
	return 0
}

// openBackupSource returns a consistent copy of the database as a stream:
// from the running server's backup socket, or, when no server runs, read
// from the file directly. copyFrom says which, for the report.
func openBackupSource(ctx context.Context, cfg config.Config) (rc io.ReadCloser, copyFrom string, err error) {
	socket := cfg.DBPath + backupSocketSuffix
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		},
	}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://onbehalf/backup", nil)
	resp, err := hc.Do(req)
	switch {
	case err == nil && resp.StatusCode == http.StatusOK:
		return resp.Body, "copied by the running server", nil
	case err == nil:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		resp.Body.Close()
		return nil, "", fmt.Errorf("the running server refused (%s): %s", resp.Status, strings.TrimSpace(string(b)))
	case !errors.Is(err, syscall.ENOENT) && !errors.Is(err, syscall.ECONNREFUSED):
		return nil, "", fmt.Errorf("asking the running server at %s: %w", socket, err)
	}
	// No server answers: read the file, which must then be free.
	st, err := bolt.OpenReadOnly(cfg.DBPath, bolt.Options{Keys: cfg.TokenEncryptionKeys, Timeout: 2 * time.Second,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		if strings.Contains(err.Error(), "locked") {
			return nil, "", fmt.Errorf("a running onbehalf holds %s but its backup socket %s does not answer (an onbehalf older than this command, or a folder where it cannot make the socket): upgrade it, or stop it and run this again", cfg.DBPath, socket)
		}
		return nil, "", err
	}
	pr, pw := io.Pipe()
	go func() {
		_, err := st.Backup(func(int64) io.Writer { return pw })
		st.Close()
		pw.CloseWithError(err)
	}()
	return pr, "read from the stopped database", nil
}

// writeFileAtomically writes r to path through a temporary file in the same
// folder, synced, then renamed: a failed backup never leaves a partial
// file at path, nor replaces an earlier one.
func writeFileAtomically(path string, r io.Reader) (int64, error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, fmt.Errorf("writing the copy: %w", err)
	}
	n, err := io.Copy(tmp, r)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return 0, fmt.Errorf("writing the copy to %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return n, nil
}

// checkBolt opens a written copy and checks every page of it.
func checkBolt(path string) error {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(func(tx *bbolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
}

// same reports whether two paths name one existing file.
func same(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}
