package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/onbehalf/onbehalf/internal/api"
	"github.com/onbehalf/onbehalf/internal/logging"
)

// withStore opens the configured store for a command and runs f on it.
// With bbolt, the file is locked by a running server: the command says to
// stop it first.
func withStore(ctx context.Context, env Process, name string, f func(a *App) int) int {
	return withStoreOr(ctx, env, name, f, nil)
}

// withStoreOr is withStore, but when a running server locks the bbolt
// file and ONBEHALF_API_KEY is set, it runs remote with that server's
// client instead.
func withStoreOr(ctx context.Context, env Process, name string, f func(a *App) int, remote func(r *remoteKeys) int) int {
	getenv, cfg, err := loadEnv(env.Getenv, Platforms)
	if err != nil {
		fmt.Fprintf(env.Stderr, "onbehalf %s: %v\n", name, err)
		return 1
	}
	a := &App{Config: cfg, log: logging.New(env.Stderr, cfg.LogFormat, "warn")}
	if a.Store, err = openStore(cfg, a.log); err != nil {
		locked := strings.Contains(err.Error(), "locked")
		if r := newRemoteKeys(getenv, &cfg); locked && remote != nil && r != nil {
			fmt.Fprintf(env.Stderr, "The database is in use by a running server: asking it at %s.\n", r.base)
			return remote(r)
		}
		fmt.Fprintf(env.Stderr, "onbehalf %s: %v\n", name, err)
		if locked && remote != nil {
			fmt.Fprintf(env.Stderr, "A server runs on this bbolt file: set %s to one of its API keys (and %s to its URL if not BASE_URL) to manage keys through it, or stop it first.\n", envAdminKey, envAdminURL)
		} else if locked {
			fmt.Fprintln(env.Stderr, "Stop the running server first (the bbolt file serves one process at a time), or use PostgreSQL (DATABASE_URL).")
		}
		return 1
	}
	defer a.Store.Close()
	return f(a)
}

// runAPIKey handles `onbehalf apikey create --name NAME | list | revoke ID`.
func runAPIKey(ctx context.Context, env Process, args []string) int {
	bad := func(msg string) int {
		fmt.Fprintf(env.Stderr, "onbehalf apikey: %s\nusage: onbehalf apikey create --name NAME | list | revoke ID\n", msg)
		return 2
	}
	if len(args) == 0 {
		return bad("missing sub-command")
	}
	switch args[0] {
	case "create":
		fs := flag.NewFlagSet("apikey create", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		name := fs.String("name", "", "what the key is for")
		if err := fs.Parse(args[1:]); err != nil {
			return bad(err.Error())
		}
		if strings.TrimSpace(*name) == "" || fs.NArg() > 0 {
			return bad("create takes --name NAME and nothing else")
		}
		return withStoreOr(ctx, env, "apikey", func(a *App) int {
			key, k := api.NewKey()
			k.Name = strings.TrimSpace(*name)
			if err := a.Store.CreateAPIKey(ctx, k); err != nil {
				fmt.Fprintf(env.Stderr, "onbehalf apikey: %v\n", err)
				return 1
			}
			fmt.Fprintf(env.Stdout, "%s\n", key)
			fmt.Fprintf(env.Stderr, "API key %s (%s) created. It is shown once and stored hashed: keep it now (Authorization: Bearer <key>).\n", k.ID, k.Name)
			return 0
		}, func(r *remoteKeys) int {
			k, err := r.create(ctx, strings.TrimSpace(*name))
			if err != nil {
				fmt.Fprintf(env.Stderr, "onbehalf apikey: %v\n", err)
				return 1
			}
			fmt.Fprintf(env.Stdout, "%s\n", k.Key)
			fmt.Fprintf(env.Stderr, "API key %s (%s) created. It is shown once and stored hashed: keep it now (Authorization: Bearer <key>).\n", k.ID, k.Name)
			return 0
		})
	case "list":
		if len(args) > 1 {
			return bad("list takes no arguments")
		}
		return withStoreOr(ctx, env, "apikey", func(a *App) int {
			keys, err := a.Store.APIKeys(ctx)
			if err != nil {
				fmt.Fprintf(env.Stderr, "onbehalf apikey: %v\n", err)
				return 1
			}
			list := make([]remoteKey, 0, len(keys))
			for _, k := range keys {
				rk := remoteKey{ID: k.ID, Name: k.Name, Prefix: k.Prefix, CreatedAt: k.CreatedAt}
				if !k.LastUsedAt.IsZero() {
					rk.LastUsedAt = &k.LastUsedAt
				}
				list = append(list, rk)
			}
			printKeys(env.Stdout, list, len(a.Config.APIKeys))
			return 0
		}, func(r *remoteKeys) int {
			list, envKeys, err := r.list(ctx)
			if err != nil {
				fmt.Fprintf(env.Stderr, "onbehalf apikey: %v\n", err)
				return 1
			}
			printKeys(env.Stdout, list, envKeys)
			return 0
		})
	case "revoke":
		if len(args) != 2 {
			return bad("revoke takes the key's ID")
		}
		return withStoreOr(ctx, env, "apikey", func(a *App) int {
			if err := a.Store.RevokeAPIKey(ctx, args[1]); err != nil {
				fmt.Fprintf(env.Stderr, "onbehalf apikey: %v\n", err)
				return 1
			}
			fmt.Fprintf(env.Stderr, "API key %s revoked.\n", args[1])
			return 0
		}, func(r *remoteKeys) int {
			if err := r.revoke(ctx, args[1]); err != nil {
				fmt.Fprintf(env.Stderr, "onbehalf apikey: %v\n", err)
				return 1
			}
			fmt.Fprintf(env.Stderr, "API key %s revoked (the server refuses it at once).\n", args[1])
			return 0
		})
	}
	return bad(fmt.Sprintf("unknown sub-command %q", args[0]))
}

// printKeys prints the key list and how many keys API_KEYS holds.
func printKeys(out io.Writer, keys []remoteKey, envKeys int) {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tPREFIX\tCREATED\tLAST USED")
	for _, k := range keys {
		used := "never"
		if k.LastUsedAt != nil {
			used = k.LastUsedAt.UTC().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(w, "%s\t%s\t%s…\t%s\t%s\n", k.ID, k.Name, k.Prefix, k.CreatedAt.UTC().Format("2006-01-02 15:04"), used)
	}
	w.Flush()
	if envKeys > 0 {
		fmt.Fprintf(out, "(and %d key(s) from API_KEYS)\n", envKeys)
	}
}

// runWebhookSecret prints the secret outgoing webhooks are signed with:
// WEBHOOK_SECRET, or the one generated once and kept in the database.
func runWebhookSecret(ctx context.Context, env Process, args []string) int {
	if !noArgs(env, "webhook-secret", args) {
		return 2
	}
	return withStore(ctx, env, "webhook-secret", func(a *App) int {
		s, err := webhookSecret(ctx, a.Config, a.Store)
		if err != nil {
			fmt.Fprintf(env.Stderr, "onbehalf webhook-secret: %v\n", err)
			return 1
		}
		fmt.Fprintln(env.Stdout, s)
		if a.Config.WebhookSecret == "" {
			fmt.Fprintln(env.Stderr, "Generated once and kept in the database; set it in your webhook receiver to verify the Standard Webhooks signatures (or set WEBHOOK_SECRET yourself).")
		}
		return 0
	})
}
