package app

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/onbehalf/onbehalf/internal/config"
	"github.com/onbehalf/onbehalf/internal/logging"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
	"github.com/onbehalf/onbehalf/internal/store/migrate"
	"github.com/onbehalf/onbehalf/internal/store/postgres"
)

// runMigrate handles `onbehalf migrate [--from DB_PATH] [--to DATABASE_URL]`:
// it copies a bbolt install (every connection, secret, bot, API key, link
// and pending event) into an empty PostgreSQL database, in one
// transaction, and leaves the bbolt file untouched.
func runMigrate(ctx context.Context, env Process, args []string) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	from := fs.String("from", "", "the bbolt file (default DB_PATH)")
	to := fs.String("to", "", "the PostgreSQL URL (default DATABASE_URL)")
	bad := func(msg string) int {
		fmt.Fprintf(env.Stderr, "onbehalf migrate: %s\nusage: onbehalf migrate [--from DB_PATH] [--to postgres://…]\n", msg)
		return 2
	}
	if err := fs.Parse(args); err != nil {
		return bad(err.Error())
	}
	if fs.NArg() > 0 {
		return bad(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	_, cfg, err := loadEnv(env.Getenv, Platforms)
	if err != nil {
		fmt.Fprintf(env.Stderr, "onbehalf migrate: %v\n", err)
		return 1
	}
	*from, *to = cmp.Or(*from, cfg.DBPath), cmp.Or(*to, cfg.DatabaseURL)
	if *to == "" {
		return bad("no PostgreSQL database: set DATABASE_URL or pass --to postgres://…")
	}
	keys := cfg.TokenEncryptionKeys
	if len(keys) == 0 {
		// The bbolt install's own key seals the copy too: the instances
		// then need it as TOKEN_ENCRYPTION_KEY.
		keyFile := *from + ".key"
		b, err := os.ReadFile(keyFile)
		if err != nil {
			fmt.Fprintf(env.Stderr, "onbehalf migrate: %v\n(%s was not found either)\n", config.ErrNoTokenKey, keyFile)
			return 1
		}
		if keys, err = config.ParseTokenKeys(keyFile, string(b)); err != nil {
			fmt.Fprintf(env.Stderr, "onbehalf migrate: %v\n", err)
			return 1
		}
		fmt.Fprintf(env.Stdout, "TOKEN_ENCRYPTION_KEY is not set: sealing with the key in %s, as the bbolt install did.\n", keyFile)
	}
	log := logging.New(env.Stderr, cfg.LogFormat, "info")
	src, err := bolt.OpenReadOnly(*from, bolt.Options{Keys: keys, Logger: log})
	if err != nil {
		fmt.Fprintf(env.Stderr, "onbehalf migrate: %v\n", err)
		return 1
	}
	defer src.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	dst, err := postgres.Open(ctx, *to, postgres.Options{Keys: keys, Logger: log})
	if err != nil {
		fmt.Fprintf(env.Stderr, "onbehalf migrate: %v\n", err)
		return 1
	}
	defer dst.Close()
	n, err := migrate.Copy(ctx, src, dst, log)
	if err != nil {
		fmt.Fprintf(env.Stderr, "onbehalf migrate: %v\n", err)
		return 1
	}
	fmt.Fprintf(env.Stdout, "copied %d connection(s), %d bot(s), %d event(s) (sequence at %d), %d API key(s), %d connect link(s), %d secret(s), %d setting(s) from %s; the bbolt file is unchanged.\n",
		n.Connections, n.Bots, n.Events, n.LastEventSeq, n.APIKeys, n.Links, n.Secrets, n.Settings, *from)
	if len(cfg.TokenEncryptionKeys) == 0 {
		fmt.Fprintf(env.Stdout, "Start the instances with DATABASE_URL and TOKEN_ENCRYPTION_KEY set to the content of %s.key (keep it out of the database); keep the bbolt file as a backup.\n", *from)
	} else {
		fmt.Fprintln(env.Stdout, "Start the instances with DATABASE_URL and this TOKEN_ENCRYPTION_KEY; keep the bbolt file as a backup.")
	}
	return 0
}
