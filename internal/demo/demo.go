// Package demo is `onbehalf demo`: the real server, clearly marked as a
// demo, with its own temporary database, against a fake Zoom (with a
// consent page and meeting pages a person can join and leave) and fake bot
// platforms, all on loopback, so that the whole flow can be clicked
// through with no account and no configuration: connect Zoom, approve,
// send a bot, watch it fetch its token, wait for you, get in when you join
// the meeting and leave when you leave. The fake platforms' bots reach the
// server only the way real ones do: token URLs and signed status webhooks.
//
// The package does not import the app (the app's command line runs the
// demo): Options.Start starts the real server.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/onbehalf/onbehalf/internal/events"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// Server is the real server, started by Options.Start.
type Server interface {
	// BaseURL is the URL people open.
	BaseURL() string
	// Wait serves until the context given to Start is done, then shuts
	// down.
	Wait() error
}

// Config is how the demo wants the real server run.
type Config struct {
	// Getenv is the server's whole configuration: no .env file, nothing
	// from the process environment.
	Getenv func(string) string
	// LogOut receives the server's log.
	LogOut io.Writer
	// Platforms are the platforms to offer: those of Options.Platforms
	// that have a fake, adapted to it.
	Platforms []platform.Spec
	// Listener is the server's listener on the demo's port, open since
	// the demo picked the port: the server serves on it (and closes it).
	Listener net.Listener
}

// StartFunc starts the real server, marked as a demo, as c says; it stops
// when ctx is done. The app's command line passes one that calls
// app.Start with Options{Demo: true}.
type StartFunc func(ctx context.Context, c Config) (Server, error)

// DefaultPort is the port the demo listens on when PORT is not set.
const DefaultPort = 8080

// DefaultPace is how long a fake bot takes for each step, slow enough for
// a person to see every status go by.
const DefaultPace = 1500 * time.Millisecond

// Options configure a demo.
type Options struct {
	// Start starts the real server.
	Start StartFunc
	// Platforms are the server's platforms (the app's list); the demo
	// runs the fake of each one that has one (Spec.Demo).
	Platforms []platform.Spec
	// Port is the port of the server on 127.0.0.1; 0 picks a free one.
	Port int
	// Pace is how long a fake bot takes for each step (DefaultPace when
	// zero).
	Pace time.Duration
	// LogOut receives the server's log (io.Discard when nil).
	LogOut io.Writer
	// LogLevel is the server's LOG_LEVEL ("warn" when empty).
	LogLevel string
	// ForwardWebhooks is the developer's WEBHOOK_URL: the demo's own
	// receiver forwards every verified webhook there ("" for none).
	ForwardWebhooks string
	// WebhookSecret is the developer's WEBHOOK_SECRET, which the server
	// signs webhooks with; a new one each run when empty.
	WebhookSecret string
}

// Demo is a running demo. Stop it by ending the context given to New,
// then call Wait.
type Demo struct {
	// URL is the server's URL: the page to open.
	URL string
	// ZoomURL is the fake Zoom's URL (its meetings are ZoomURL/j/<id>).
	ZoomURL string
	// DataDir is the temporary folder of the database, removed by Wait.
	DataDir string
	// Platforms names the fake platforms, as the server knows them.
	Platforms []string
	// Missing names the platforms of Options.Platforms without a fake:
	// the demo does not offer them.
	Missing []string
	// APIKey turns the integration API on (API_KEYS): new each run, for
	// Run to print once.
	APIKey string
	// WebhooksURL is the page of the demo's webhook receiver, which the
	// server sends its events to; WebhookSecret signs them.
	WebhooksURL, WebhookSecret string

	srv    Server
	ln     net.Listener // the server's, held from the start
	zoom   *zoomdemo.Server
	front  *frontServer
	hooks  *hookReceiver
	fakes  []*platformFake
	tls    *tlsFront
	driver *driver
	done   chan struct{}
}

// New starts a demo: a temporary folder for the database, the fake Zoom,
// the fake platforms, the real server and the fake bots' driver. Every
// part stops when ctx is done; Wait waits for that and removes the
// temporary folder.
func New(ctx context.Context, o Options) (d *Demo, err error) {
	if o.Start == nil {
		return nil, errors.New("demo: no Start function")
	}
	if o.Pace <= 0 {
		o.Pace = DefaultPace
	}
	if o.LogOut == nil {
		o.LogOut = io.Discard
	}
	if o.LogLevel == "" {
		o.LogLevel = "warn"
	}
	ln, err := listen(o.Port)
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	d = &Demo{URL: "http://127.0.0.1:" + strconv.Itoa(port), done: make(chan struct{}), ln: ln}
	started := d // a failure returns nil: stop what was started
	defer func() {
		if err != nil {
			started.cleanup()
		}
	}()
	if d.DataDir, err = os.MkdirTemp("", "onbehalf-demo-*"); err != nil {
		return nil, fmt.Errorf("demo: creating a temporary folder: %w", err)
	}
	env := newEnv(d.DataDir, port, o.LogLevel)
	d.zoom = newZoom(env)
	meet := newMeetings()
	if d.tls, err = startTLSFront(d.URL); err != nil {
		return nil, err
	}
	if d.fakes, d.Missing, err = startFakes(o.Platforms, d.URL, d.tls, env); err != nil {
		return nil, err
	}
	var specs []platform.Spec
	for _, f := range d.fakes {
		d.Platforms = append(d.Platforms, f.name)
		specs = append(specs, f.spec)
	}
	d.driver = &driver{fakes: d.fakes, meetings: meet, zoom: d.zoom, pace: o.Pace, log: o.LogOut, stopped: make(chan struct{})}
	if d.front, err = startFront(d.zoom, meet, d.URL); err != nil {
		return nil, err
	}
	d.ZoomURL = d.front.url
	env.set("ZOOM_OAUTH_URL", d.front.url)
	env.set("ZOOM_API_URL", d.front.url+"/v2")
	if err = d.enableIntegration(env, o); err != nil {
		return nil, err
	}
	if d.srv, err = o.Start(ctx, Config{Getenv: env.get, LogOut: o.LogOut, Platforms: specs, Listener: ln}); err != nil {
		return nil, err
	}
	if err = d.seedTeammates(ctx); err != nil { // team.go
		return nil, err
	}
	go d.driver.run(ctx)
	go func() {
		<-ctx.Done()
		close(d.done)
	}()
	return d, nil
}

// Wait waits until the demo's context is done, the server has shut down
// and every fake has stopped, and removes the temporary folder.
func (d *Demo) Wait() error {
	<-d.done
	err := d.srv.Wait()
	d.driver.wait()
	d.cleanup()
	return err
}

// cleanup stops the fakes and removes the temporary folder.
func (d *Demo) cleanup() {
	if d.ln != nil {
		_ = d.ln.Close() // closed already once the server ran; not when it never started
	}
	if d.front != nil {
		d.front.close()
	}
	if d.hooks != nil {
		d.hooks.close()
	}
	for _, f := range d.fakes {
		f.Fake.Close()
	}
	if d.tls != nil {
		d.tls.close()
	}
	if d.zoom != nil {
		d.zoom.Close()
	}
	if d.DataDir != "" {
		_ = os.RemoveAll(d.DataDir)
	}
}

// listen listens on port on 127.0.0.1 (a free one when 0) and keeps the
// listener for the server: a port checked and closed could be taken by
// anything started before the server, the demo's own fakes included.
func listen(port int) (net.Listener, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("port %d is in use on 127.0.0.1 (%v): choose another one, e.g. PORT=%d onbehalf demo", port, errors.Unwrap(err), port+1)
	}
	return ln, nil
}

// Process is what Run gets from the process: its environment and output
// streams.
type Process struct {
	// Getenv reads the process environment: only PORT, LOG_LEVEL and
	// WEBHOOK_URL, WEBHOOK_SECRET (to forward the webhooks to the
	// developer's receiver) are used; the demo needs no other
	// configuration and takes none.
	Getenv         func(string) string
	Stdout, Stderr io.Writer
}

// Run is the `onbehalf demo` command: it starts a demo as o says, on PORT
// (default 8080), prints the URL to open, serves until ctx is done or the
// process gets SIGINT (Ctrl-C) or SIGTERM, and removes what it created.
// It returns the exit code.
func Run(ctx context.Context, env Process, o Options) int {
	port := DefaultPort
	if p := strings.TrimSpace(env.Getenv("PORT")); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 65535 {
			fmt.Fprintf(env.Stderr, "onbehalf demo: PORT=%q: must be a number from 0 to 65535\n", p)
			return 2
		}
		port = n
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	o.Port, o.LogOut, o.LogLevel = port, env.Stderr, env.Getenv("LOG_LEVEL")
	o.ForwardWebhooks = strings.TrimSpace(env.Getenv(events.VarWebhookURL))
	newSecret := false
	if o.ForwardWebhooks != "" {
		o.WebhookSecret = strings.TrimSpace(env.Getenv(events.VarWebhookSecret))
		if o.WebhookSecret == "" {
			o.WebhookSecret = events.NewSecret()
			newSecret = true
		}
		if err := events.CheckConfig(o.ForwardWebhooks, o.WebhookSecret); err != nil {
			fmt.Fprintf(env.Stderr, "onbehalf demo: %v\n", err)
			return 2
		}
	}
	d, err := New(ctx, o)
	if err != nil {
		fmt.Fprintf(env.Stderr, "onbehalf demo: %v\n", err)
		return 1
	}
	fmt.Fprintf(env.Stdout, "onbehalf demo: open %s in a browser (fake Zoom and fake bot platforms on this machine, no account needed; Ctrl-C stops it and deletes its data)\n", d.URL)
	d.printPlayground(env.Stdout, o.ForwardWebhooks, newSecret)
	if err := d.Wait(); err != nil {
		fmt.Fprintf(env.Stderr, "onbehalf demo: %v\n", err)
		return 1
	}
	return 0
}
