// Command onbehalf-bench measures onbehalf's token callback under load, on
// the loopback interface only.
//
// It starts the fake Zoom (internal/zoomtest) and the fake Recall.ai
// (internal/platform/recall/recallfake), starts the real server (app.Start) on a temporary
// database, connects -users users through the real browser OAuth flow, has
// each one launch a bot so that the fake Recall receives the real token URL,
// and then runs -c concurrent keep-alive clients against those token URLs
// for -d. The same load is then run directly against the fake's token
// endpoint, and the ratio onbehalf/direct is printed.
//
// Every answer is checked: a 200 must carry exactly a token the fake minted,
// and no token may be answered twice. With -fail-every K the fake fails
// every K-th mint, and the only acceptable answers are then a 200 with an
// exact minted token or a 502; anything else is a wrong answer.
//
// Modes:
//
//	-mode=inprocess  server, fakes and load share one Go runtime (default)
//	-mode=child      the server runs in a child process (this binary with
//	                 -child); -server-cpus and -load-cpus pin the two sides
//
// -scale N copies a one-connection database, adds N-1 connections to the
// copy (store.ImportConnections, or -fill=upsert for one UpsertConnection
// each), prints what the bbolt file holds, then runs two servers side by
// side, one per database, and alternates every client between them: open
// and start time, RSS, file size per connection and callback latency with
// N connections against 1.
//
// -cpuprofile profiles the onbehalf run: the server process alone in child
// mode, the whole process (server, fakes, load generator) in process.
//
// Every loop is bounded by a count and a time, and every address is
// 127.0.0.1.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// options are the command-line flags.
type options struct {
	users       int
	c           int
	d           time.Duration
	warmup      time.Duration
	failEvery   int
	cpuprofile  string
	mode        string
	serverCPUs  string
	loadCPUs    string
	scale       int
	tokenLen    int
	fill        string
	maxRequests int
	logLevel    string
	keep        bool
}

const (
	modeInProcess = "inprocess"
	modeChild     = "child"
	fillImport    = "import"
	fillUpsert    = "upsert"
)

func main() {
	var o options
	child := flag.Bool("child", false, "internal: run as the server child process (set by -mode=child)")
	flag.IntVar(&o.users, "users", 10, "users connected through the real OAuth flow (1..10000)")
	flag.IntVar(&o.c, "c", 64, "concurrent keep-alive clients (1..4096)")
	flag.DurationVar(&o.d, "d", 10*time.Second, "duration of each measured run (at most 10m)")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured warm-up before each run")
	flag.IntVar(&o.failEvery, "fail-every", 0, "the fake fails every K-th mint (0: never)")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the onbehalf run to this file (child mode: the server process alone)")
	flag.StringVar(&o.mode, "mode", modeInProcess, "inprocess or child")
	flag.StringVar(&o.serverCPUs, "server-cpus", "", "child mode: CPU list for the server (runs it under taskset -c LIST), e.g. 0")
	flag.StringVar(&o.loadCPUs, "load-cpus", "", "CPU list this process (load generator and fakes) pins itself to, e.g. 1")
	flag.IntVar(&o.scale, "scale", 0, "scale run: write this many connections and compare against 1 (e.g. 100000)")
	flag.StringVar(&o.fill, "fill", fillImport, "scale run: how filler connections are written: import (store.ImportConnections, 10,000 per transaction) or upsert (one store.Connect each, slow)")
	flag.IntVar(&o.tokenLen, "token-len", 0, "scale run: length of the filler access and refresh tokens (0: as long as the fake's)")
	flag.IntVar(&o.maxRequests, "max-requests", 20_000_000, "upper bound on requests per run")
	flag.StringVar(&o.logLevel, "log-level", "info", "LOG_LEVEL of the server (its log goes to a file in the work folder)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary work folder (database, server log)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./cmd/onbehalf-bench [flags]\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *child {
		os.Exit(runChild())
	}
	if err := o.check(); err != nil {
		fmt.Fprintln(os.Stderr, "onbehalf-bench:", err)
		os.Exit(2)
	}
	if err := realMain(o); err != nil {
		fmt.Fprintln(os.Stderr, "onbehalf-bench:", err)
		os.Exit(1)
	}
}

// check validates the flags and makes paths absolute (the bench runs in a
// temporary folder).
func (o *options) check() error {
	switch {
	case o.users < 1 || o.users > 10_000:
		return fmt.Errorf("-users %d: must be 1..10000", o.users)
	case o.c < 1 || o.c > 4096:
		return fmt.Errorf("-c %d: must be 1..4096", o.c)
	case o.d <= 0 || o.d > 10*time.Minute:
		return fmt.Errorf("-d %s: must be in (0, 10m]", o.d)
	case o.warmup < 0 || o.warmup > time.Minute:
		return fmt.Errorf("-warmup %s: must be in [0, 1m]", o.warmup)
	case o.failEvery < 0:
		return fmt.Errorf("-fail-every %d: must be >= 0", o.failEvery)
	case o.mode != modeInProcess && o.mode != modeChild:
		return fmt.Errorf("-mode %q: must be %s or %s", o.mode, modeInProcess, modeChild)
	case o.serverCPUs != "" && o.mode != modeChild:
		return fmt.Errorf("-server-cpus needs -mode=child")
	case o.scale < 0 || o.scale > 2_000_000:
		return fmt.Errorf("-scale %d: must be 0..2000000", o.scale)
	case o.tokenLen < 0 || o.tokenLen > 8192:
		return fmt.Errorf("-token-len %d: must be 0..8192", o.tokenLen)
	case o.fill != fillImport && o.fill != fillUpsert:
		return fmt.Errorf("-fill %q: must be %s or %s", o.fill, fillImport, fillUpsert)
	case o.maxRequests < 1:
		return fmt.Errorf("-max-requests must be >= 1")
	}
	if o.cpuprofile != "" {
		abs, err := filepath.Abs(o.cpuprofile)
		if err != nil {
			return err
		}
		o.cpuprofile = abs
	}
	return nil
}

// realMain sets the process up (pinning, work folder) and runs the load or the
// scale benchmark.
func realMain(o options) error {
	if o.loadCPUs != "" {
		n, err := pinSelf(o.loadCPUs)
		if err != nil {
			return fmt.Errorf("-load-cpus %s: %w", o.loadCPUs, err)
		}
		runtime.GOMAXPROCS(n)
	}
	work, err := os.MkdirTemp("", "onbehalf-bench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Printf("work folder (kept): %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	// app.Start reads ./.env: run in the empty work folder so that a
	// developer's .env cannot change what is measured.
	if err := os.Chdir(work); err != nil {
		return err
	}
	printMachine(o)
	if o.scale > 0 {
		return runScale(o, work)
	}
	return runLoadBench(o, work)
}

// printMachine prints what the figures were measured on.
func printMachine(o options) {
	fmt.Printf("machine: %d CPUs (%s); this process may use %d, GOMAXPROCS %d; %s %s/%s\n",
		onlineCPUs(), cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Printf("mode: %s", o.mode)
	if o.mode == modeChild {
		sc, lc := o.serverCPUs, o.loadCPUs
		if sc == "" {
			sc = "any"
		}
		if lc == "" {
			lc = fmt.Sprintf("%d by affinity", runtime.NumCPU())
		}
		fmt.Printf(" (server CPUs %s, load generator and fakes CPUs %s)", sc, lc)
	}
	fmt.Println()
	if o.mode == modeChild && (o.serverCPUs == "" || o.loadCPUs == "" && runtime.NumCPU() == onlineCPUs()) {
		fmt.Println("  to pin: -server-cpus 0 -load-cpus 1 (the server runs under `taskset -c 0`,")
		fmt.Println("  this process pins itself to CPU 1; same as `taskset -c 1 go run ./cmd/onbehalf-bench -mode=child -server-cpus 0`)")
	}
}
