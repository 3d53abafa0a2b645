package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/onbehalf/onbehalf/internal/buildinfo"
	"github.com/onbehalf/onbehalf/internal/demo"
	"github.com/onbehalf/onbehalf/internal/doctor"
)

// command is one command of the command line.
type command struct {
	name, args, help string
	run              func(ctx context.Context, env Process, args []string) int
}

// Process is what a command gets from the process: its environment and
// output streams.
type Process struct {
	Getenv         func(string) string
	Stdout, Stderr io.Writer
}

// commands lists every command, in the order `onbehalf help` shows them.
func commands() []command {
	return []command{
		{"serve", "", "run the server (the default when no command is given)", runServe},
		{"demo", "", "run the server with a fake Zoom and fake bot platforms on this machine, to click through with no account", runDemo},
		{"apikey", "create --name NAME | list | revoke ID", "manage the integration API's keys (printed once, stored hashed)", runAPIKey},
		{"doctor", "[--offline]", "check the configuration without changing anything (database, BASE_URL, Zoom credentials, platform keys) and print every value to paste into Zoom and the bot platforms", runDoctor},
		{"migrate", "[--from DB_PATH] [--to DATABASE_URL]", "copy a stopped bbolt install into an empty PostgreSQL database (the bbolt file is not changed)", runMigrate},
		{"backup", "FILE", "write a consistent copy of the bbolt database to FILE, also while the server runs (with PostgreSQL: says how to use pg_dump)", runBackup},
		{"webhook-secret", "", "print the secret outgoing webhooks are signed with (generated once when WEBHOOK_SECRET is unset)", runWebhookSecret},
		{"version", "", "print the version", runVersion},
		{"help", "", "list the commands", runHelp},
	}
}

// Run runs the command line and returns the process exit code:
// `onbehalf [command] [flags]`. Configuration comes from the environment
// and ./.env; an unknown command or flag is an error with the usage.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	env := Process{Getenv: getenv, Stdout: stdout, Stderr: stderr}
	name := "serve"
	if len(args) > 0 {
		name, args = args[0], args[1:]
	}
	switch name {
	case "-h", "--help", "-help":
		name = "help"
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, env, args)
		}
	}
	if strings.HasPrefix(name, "-") {
		fmt.Fprintf(stderr, "onbehalf: unknown flag %s: the server takes its configuration from the environment (for example PORT=9090 onbehalf), see .env.example\n\n", name)
	} else {
		fmt.Fprintf(stderr, "onbehalf: unknown command %q\n\n", name)
	}
	usage(stderr)
	return 2
}

// usage prints the commands.
func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: onbehalf [command]")
	fmt.Fprintln(w, "\nCommands:")
	const col = 16 // commands longer than this get their text on the next line
	for _, c := range commands() {
		if name := strings.TrimSpace(c.name + " " + c.args); len(name) <= col {
			fmt.Fprintf(w, "  %-*s %s\n", col, name, c.help)
		} else {
			fmt.Fprintf(w, "  %s\n  %-*s %s\n", name, col, "", c.help)
		}
	}
	fmt.Fprintln(w, "\nConfiguration comes from the environment and ./.env; see .env.example and README.md.")
}

// noArgs refuses arguments to a command that takes none.
func noArgs(env Process, name string, args []string) bool {
	if len(args) == 0 {
		return true
	}
	fmt.Fprintf(env.Stderr, "onbehalf %s: unexpected argument %q\n\n", name, args[0])
	usage(env.Stderr)
	return false
}

func runHelp(ctx context.Context, env Process, args []string) int {
	usage(env.Stdout)
	return 0
}

func runVersion(ctx context.Context, env Process, args []string) int {
	if !noArgs(env, "version", args) {
		return 2
	}
	fmt.Fprintln(env.Stdout, "onbehalf "+Version())
	return 0
}

// Version is the running build's one-line identity (buildinfo.Get):
// version, commit, date and Go version, as far as they are known.
func Version() string { return buildinfo.Get().String() }

// runDemo runs `onbehalf demo`: the real server, marked as a demo, against
// fake Zoom and fake platforms on loopback, with a temporary database.
func runDemo(ctx context.Context, env Process, args []string) int {
	if !noArgs(env, "demo", args) {
		return 2
	}
	return demo.Run(ctx, demo.Process{Getenv: env.Getenv, Stdout: env.Stdout, Stderr: env.Stderr}, demo.Options{
		Start: func(ctx context.Context, c demo.Config) (demo.Server, error) {
			return Start(ctx, Options{Getenv: c.Getenv, LogOut: c.LogOut, Demo: true, Platforms: c.Platforms, Listener: c.Listener})
		},
		Platforms: Platforms,
	})
}

// runDoctor runs `onbehalf doctor [--offline]`: every check it can make
// without side effects, and every value to paste. Exit 1 when a check
// failed.
func runDoctor(ctx context.Context, env Process, args []string) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	offline := fs.Bool("offline", false, "skip every check that needs the network")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		msg := fmt.Sprintf("unexpected argument %q", fs.Arg(0))
		if err != nil {
			msg = err.Error()
		}
		fmt.Fprintf(env.Stderr, "onbehalf doctor: %s\nusage: onbehalf doctor [--offline]\n", msg)
		return 2
	}
	return doctor.Run(ctx, doctor.Options{
		Getenv: env.Getenv, DotEnv: ".env", Stdout: env.Stdout,
		Specs: Platforms, Offline: *offline,
	})
}

// runServe runs the server until SIGINT or SIGTERM.
func runServe(ctx context.Context, env Process, args []string) int {
	if !noArgs(env, "serve", args) {
		return 2
	}
	return serve(ctx, env, Options{Getenv: env.Getenv, LogOut: env.Stderr})
}
