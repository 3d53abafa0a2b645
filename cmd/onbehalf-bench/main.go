// Command onbehalf-bench measures onbehalf's token callback under load, on
// the loopback interface only.
//
// It starts the fake Zoom (internal/zoomdemo) and the fake Recall.ai
// (internal/platform/recall/recalldemo), starts the real server (app.Start) on a temporary
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
// -scale N copies a one-connection database (the bbolt file, or CREATE
// DATABASE … TEMPLATE), adds N-1 connections to the copy
// (ImportConnections, or -fill=upsert for one Connect each), prints what
// the database holds, then runs two servers side by side, one per
// database, and alternates every client between them: open and start
// time, RSS, size per connection and callback latency with N connections
// against 1.
//
// -store=postgres runs every mode on PostgreSQL instead of bbolt: a new
// database is made for the run on the server -database-url names (a
// superuser URL; default $ONBEHALF_BENCH_DATABASE_URL, else the test
// server's $ONBEHALF_TEST_DATABASE_URL) and dropped after it; the servers
// get DATABASE_URL and a TOKEN_ENCRYPTION_KEY. The CPU time of the
// database's backends is reported beside the server's when the server
// runs on this machine.
//
// -instances=N (1–3, PostgreSQL) starts N servers on the one database;
// every client sends its requests to them in turn (round robin), and the
// server CPU is their sum.
//
// -burst is the top-of-the-hour burst (burst.go): -burst-conns connections
// (imported, with grants issued at the fake, their signed token URLs made
// through POST /api/v1/connections/{id}/token-urls), one callback each
// sent within -burst-window on new TCP connections (-burst-reuse: over
// kept-alive ones), -burst-refresh of them needing a refresh, the fake
// answering after -zoom-delay. Every answer is checked
// against the token the fake minted for that connection, and the latency
// onbehalf adds on top of Zoom's is each request's latency minus the time
// the fake spent on that connection's calls, measured inside the fake.
//
// -keepalive=N is the keep-alive cycle (keepalive.go): N connections due
// over -keepalive-spread, refreshed by the instances' keep-alive
// schedulers (KEEPALIVE_IDLE, _RATE, _CONCURRENCY from the
// -keepalive-* flags), -keepalive-cycles times; every connection must be
// refreshed exactly once per cycle.
//
// -idle-day=N is the idle refresh rate (idleday.go): N connections nobody
// fetches a token for, kept alive by the real scheduler, token manager and
// store on a fake clock over -idle-day-span with KEEPALIVE_IDLE
// -idle-day-idle; every refresh is counted at the fake Zoom, none may come
// sooner than Idle after the last, and the rate at a million connections
// with the default Idle is derived from the count.
//
// -cpuprofile profiles the onbehalf run: the server process alone in child
// mode (the first instance), the whole process (server, fakes, load
// generator) in process.
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

	"github.com/onbehalf/onbehalf/internal/keepalive"
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

	store       string
	databaseURL string
	instances   int

	burst        bool
	burstConns   int
	burstWindow  time.Duration
	burstRefresh float64
	burstReuse   bool
	zoomDelay    time.Duration

	keepalive     int
	kaSpread      time.Duration
	kaMargin      time.Duration
	kaRate        int
	kaConcurrency int
	kaCycles      int

	idleDay     int
	idleDayIdle time.Duration
	idleDaySpan time.Duration
	kaPass      bool
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
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary work folder (database, server log) and the PostgreSQL database")
	flag.StringVar(&o.store, "store", storeBolt, "store of the servers: bolt or postgres")
	flag.StringVar(&o.databaseURL, "database-url", defaultDatabaseURL(), "-store=postgres: superuser URL of the PostgreSQL server the bench makes its databases on")
	flag.IntVar(&o.instances, "instances", 1, "server instances on one database (1..3; more than 1 needs -store=postgres); the load goes to them in turn")
	flag.BoolVar(&o.burst, "burst", false, "top-of-the-hour burst: -burst-conns connections, one callback each within -burst-window")
	flag.IntVar(&o.burstConns, "burst-conns", 10_000, "burst: connections, one callback each (1..100000)")
	flag.DurationVar(&o.burstWindow, "burst-window", time.Second, "burst: the callbacks are sent evenly over this window")
	flag.Float64Var(&o.burstRefresh, "burst-refresh", 0.05, "burst: share of the connections that need a refresh (half expired in the store, half invalidated at the fake)")
	flag.BoolVar(&o.burstReuse, "burst-reuse", false, "burst: the load generator keeps its connections open (as a reverse proxy in front of onbehalf does) instead of a new TCP connection per callback (as bots do)")
	flag.DurationVar(&o.zoomDelay, "zoom-delay", 100*time.Millisecond, "burst: the fake Zoom waits this long before each mint and refresh answer")
	flag.IntVar(&o.keepalive, "keepalive", 0, "keep-alive cycle over this many connections (0: off)")
	flag.DurationVar(&o.kaSpread, "keepalive-spread", 2*time.Minute, "keep-alive: the connections fall due evenly over this window")
	flag.DurationVar(&o.kaMargin, "keepalive-margin", 6*time.Minute, "keep-alive: how long before its stored expiry a connection falls due (the servers get KEEPALIVE_IDLE = 1h - this)")
	flag.IntVar(&o.kaRate, "keepalive-rate", 500, "keep-alive: KEEPALIVE_RATE of each server (refreshes started per second, 1..1000)")
	flag.IntVar(&o.kaConcurrency, "keepalive-concurrency", 32, "keep-alive: KEEPALIVE_CONCURRENCY of each server (1..256)")
	flag.IntVar(&o.kaCycles, "keepalive-cycles", 1, "keep-alive: cycles to run (1..3); the fake's token lifetime is set so that cycles do not overlap")
	flag.IntVar(&o.idleDay, "idle-day", 0, "idle refresh rate: this many connections nobody fetches a token for, kept alive over a simulated -idle-day-span with KEEPALIVE_IDLE=-idle-day-idle; counts the Zoom refreshes (0: off)")
	flag.DurationVar(&o.idleDayIdle, "idle-day-idle", time.Hour, "idle-day: KEEPALIVE_IDLE of the simulation")
	flag.DurationVar(&o.idleDaySpan, "idle-day-span", 24*time.Hour, "idle-day: simulated time")
	flag.BoolVar(&o.kaPass, "keepalive-pass", true, "scale run: after the load, time keep-alive passes over the big database (nothing due, everything due)")
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
	case o.store != storeBolt && o.store != storePostgres:
		return fmt.Errorf("-store %q: must be %s or %s", o.store, storeBolt, storePostgres)
	case o.instances < 1 || o.instances > 3:
		return fmt.Errorf("-instances %d: must be 1..3", o.instances)
	case o.instances > 1 && o.store != storePostgres:
		return fmt.Errorf("-instances %d needs -store=postgres: bbolt locks its file to one process", o.instances)
	case o.instances > 1 && o.scale > 0:
		return fmt.Errorf("-scale runs one server per database: drop -instances")
	case btoi(o.scale > 0)+btoi(o.burst)+btoi(o.keepalive > 0)+btoi(o.idleDay > 0) > 1:
		return fmt.Errorf("-scale, -burst, -keepalive and -idle-day are separate runs: give one")
	case o.idleDay < 0 || o.idleDay > 100_000:
		return fmt.Errorf("-idle-day %d: must be 0..100000", o.idleDay)
	case o.idleDayIdle < keepalive.MinIdle || o.idleDayIdle > keepalive.MaxIdle:
		return fmt.Errorf("-idle-day-idle %s: must be in [%s, %s] (KEEPALIVE_IDLE)", o.idleDayIdle, keepalive.MinIdle, keepalive.MaxIdle)
	case o.idleDaySpan < o.idleDayIdle || o.idleDaySpan > 31*24*time.Hour:
		return fmt.Errorf("-idle-day-span %s: must be in [-idle-day-idle, 31 days]", o.idleDaySpan)
	case o.burstConns < 1 || o.burstConns > 100_000:
		return fmt.Errorf("-burst-conns %d: must be 1..100000", o.burstConns)
	case o.burstWindow <= 0 || o.burstWindow > time.Minute:
		return fmt.Errorf("-burst-window %s: must be in (0, 1m]", o.burstWindow)
	case o.burstRefresh < 0 || o.burstRefresh > 1:
		return fmt.Errorf("-burst-refresh %g: must be in [0, 1]", o.burstRefresh)
	case o.zoomDelay < 0 || o.zoomDelay > 5*time.Second:
		return fmt.Errorf("-zoom-delay %s: must be in [0, 5s]", o.zoomDelay)
	case o.keepalive < 0 || o.keepalive > 1_000_000:
		return fmt.Errorf("-keepalive %d: must be 0..1000000", o.keepalive)
	case o.kaSpread <= 0 || o.kaSpread > time.Hour:
		return fmt.Errorf("-keepalive-spread %s: must be in (0, 1h]", o.kaSpread)
	case o.kaMargin <= 0 || o.kaMargin > keepalive.AccessTokenLifetime-keepalive.MinIdle:
		return fmt.Errorf("-keepalive-margin %s: must be in (0, %s] (KEEPALIVE_IDLE = 1h - it, at least %s)", o.kaMargin, keepalive.AccessTokenLifetime-keepalive.MinIdle, keepalive.MinIdle)
	case o.kaRate < 1 || o.kaRate > 1000:
		return fmt.Errorf("-keepalive-rate %d: must be 1..1000 (KEEPALIVE_RATE)", o.kaRate)
	case o.kaConcurrency < 1 || o.kaConcurrency > 256:
		return fmt.Errorf("-keepalive-concurrency %d: must be 1..256 (KEEPALIVE_CONCURRENCY)", o.kaConcurrency)
	case o.kaCycles < 1 || o.kaCycles > 3:
		return fmt.Errorf("-keepalive-cycles %d: must be 1..3", o.kaCycles)
	}
	if o.store == storePostgres {
		if err := checkDatabaseURL(o.databaseURL); err != nil {
			return err
		}
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
	switch {
	case o.scale > 0:
		return runScale(o, work)
	case o.burst:
		return runBurst(o, work)
	case o.keepalive > 0:
		return runKeepAlive(o, work)
	case o.idleDay > 0:
		return runIdleDay(o, work)
	}
	return runLoadBench(o, work)
}

// btoi is 1 for true.
func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
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
	fmt.Printf("store: %s, %d instance(s)\n", o.store, o.instances)
	if o.store == storePostgres {
		fmt.Printf("  %s\n", pgSettings(&database{kind: storePostgres, admin: o.databaseURL}))
	}
	if o.mode == modeChild && (o.serverCPUs == "" || o.loadCPUs == "" && runtime.NumCPU() == onlineCPUs()) {
		fmt.Println("  to pin: -server-cpus 0 -load-cpus 1 (the server runs under `taskset -c 0`,")
		fmt.Println("  this process pins itself to CPU 1; same as `taskset -c 1 go run ./cmd/onbehalf-bench -mode=child -server-cpus 0`)")
	}
}
