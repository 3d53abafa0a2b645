package crashtest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/logtest"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

const (
	clientID     = "cid"
	clientSecret = "csecret"
	// connections is how many connections the child refreshes round robin.
	connections = 20
)

var (
	flagRounds = flag.Int("crash.rounds", envInt("ONBEHALF_CRASH_ROUNDS", 100), "kill -9 rounds of TestKill9DuringRefreshes (env ONBEHALF_CRASH_ROUNDS)")
	flagBudget = flag.Duration("crash.budget", 90*time.Second, "stop TestKill9DuringRefreshes after this long even if rounds remain")
	flagSeed   = flag.Uint64("crash.seed", 0, "seed of the kill delays (0: from the clock)")
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// conn is one connection of the test and its Zoom user.
type conn struct {
	id, user string
}

func TestKill9DuringRefreshes(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes for a while")
	}
	fake := zoomdemo.New(clientID, clientSecret)
	t.Cleanup(fake.Close)
	path := filepath.Join(t.TempDir(), "crash.db")

	st := openStore(t, path)
	conns := make([]conn, connections)
	ids := make([]string, connections)
	for i := range conns {
		user := fmt.Sprintf("zu_%02d", i)
		fake.AddUser(zoomdemo.User{ID: user, Email: user + "@example.com"})
		conns[i] = conn{id: grant(t, st, fake, user, ""), user: user}
		ids[i] = conns[i].id
	}
	st.Close()

	seed := *flagSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	env := append(os.Environ(),
		envChild+"=1",
		envDB+"="+path,
		envZoom+"="+fake.URL,
		envIDs+"="+strings.Join(ids, ","),
	)

	began := time.Now()
	rounds, window, refreshes := 0, 0, 0
	for rounds < *flagRounds && time.Since(began) < *flagBudget && !t.Failed() {
		calls := fake.RefreshCalls()
		delay := time.Duration(5+rng.IntN(76)) * time.Millisecond
		runAndKill(t, env, delay)
		if !fake.WaitIdle(10 * time.Second) {
			t.Fatal("the fake Zoom still has open connections 10 s after the kill")
		}
		refreshes += fake.RefreshCalls() - calls
		window += checkAndRepair(t, path, fake, conns)
		rounds++
	}
	took := time.Since(began)
	t.Logf("%d rounds in %s (seed %d): %d refreshes at Zoom, %d connection(s) ended in the window "+
		"(Zoom rotated, the commit did not finish) and were repaired",
		rounds, took.Round(time.Millisecond), seed, refreshes, window)
	if rounds < *flagRounds {
		t.Logf("stopped after %s (-crash.budget) with %d of %d rounds", *flagBudget, rounds, *flagRounds)
	}
	if refreshes < rounds {
		t.Errorf("only %d refreshes in %d rounds: the child barely ran", refreshes, rounds)
	}
	if r := fake.ReusedRefreshTokens(); r != 0 {
		t.Errorf("%d rotated refresh tokens were presented again", r)
	}
}

// runAndKill starts the child, waits for READY, lets it refresh for delay
// and kills it with SIGKILL.
func runAndKill(t *testing.T, env []string, delay time.Duration) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelperProcess$", "-test.count=1")
	cmd.Env = env
	var stderr logtest.Buffer
	cmd.Stderr = &stderr
	stdout := &readyWriter{ready: make(chan struct{})}
	cmd.Stdout = stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-stdout.ready:
	case err := <-exited:
		t.Fatalf("child ended (%v) before it was ready:\n%s", err, stderr.String())
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-exited
		t.Fatalf("child not ready after 30s:\n%s", stderr.String())
	}
	time.Sleep(delay)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("killing the child: %v", err)
	}
	err := <-exited
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("child: %v", err)
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended on its own (%v) before the kill:\n%s", err, stderr.String())
	}
	if s := stderr.String(); strings.Contains(s, "DATA RACE") || strings.Contains(s, "level=") {
		t.Fatalf("child complained:\n%s", s)
	}
}

// checkAndRepair opens the database after a kill, checks every connection
// and repairs the ones whose refresh token is behind Zoom's by one step.
// It returns how many needed that repair.
func checkAndRepair(t *testing.T, path string, fake *zoomdemo.Server, conns []conn) (window int) {
	t.Helper()
	ctx := context.Background()
	st := openStore(t, path)
	defer st.Close()
	if err := st.Ping(ctx); err != nil {
		t.Fatalf("ping after kill: %v", err)
	}
	if n, err := st.CountConnections(ctx); err != nil || n[onbehalf.StateConnected]+n[onbehalf.StateDisconnected] != len(conns) {
		t.Fatalf("after kill: %v connections (%v), want %d", n, err, len(conns))
	}
	due, err := st.DueBefore(ctx, time.Now().Add(1000*time.Hour), 10*len(conns))
	if err != nil {
		t.Fatalf("due index after kill: %v", err)
	}
	indexed := make(map[string]time.Time, len(due))
	for _, d := range due {
		if _, dup := indexed[d.ConnID]; dup {
			t.Errorf("connection %s indexed twice", d.ConnID)
		}
		indexed[d.ConnID] = d.Expiry
	}
	if len(indexed) != len(conns) {
		t.Errorf("due index lists %d connections, want %d", len(indexed), len(conns))
	}
	for _, cn := range conns {
		c, err := st.Connection(ctx, cn.id)
		if err != nil {
			t.Fatalf("reading %s after kill: %v", cn.id, err)
		}
		if !c.Connected() {
			t.Errorf("%s: disconnected after kill (%s)", cn.id, c.DisconnectedReason)
			grant(t, st, fake, cn.user, cn.id)
			continue
		}
		if exp, ok := indexed[cn.id]; !ok || !exp.Equal(c.Token.Expiry) {
			t.Errorf("%s: due index says %v, record says %v", cn.id, exp, c.Token.Expiry)
		}
		current := fake.CurrentRefreshToken(cn.user)
		switch prev, _ := fake.PreviousRefreshToken(current); c.Token.RefreshToken {
		case current:
		case prev:
			window++
			grant(t, st, fake, cn.user, cn.id)
		default:
			t.Errorf("%s: stored refresh token is neither Zoom's current one nor the one before it", cn.id)
			grant(t, st, fake, cn.user, cn.id)
		}
	}
	return window
}

// grant gives user a fresh grant at the fake Zoom and stores it, as if the
// user connected again; id, when set, is the ID the connection must keep.
func grant(t *testing.T, st *bolt.Store, fake *zoomdemo.Server, user, id string) string {
	t.Helper()
	at, rt := fake.IssueGrant(user)
	c, _, err := st.Connect(context.Background(), onbehalf.Authorization{User: onbehalf.ZoomUser{ID: user, Email: user + "@example.com"},
		Token: onbehalf.Token{AccessToken: at, RefreshToken: rt, Expiry: time.Now().Add(zoomdemo.DefaultAccessTTL)}})
	if err != nil {
		t.Fatal(err)
	}
	if id != "" && c.ID != id {
		t.Fatalf("reconnecting %s changed its ID", user)
	}
	return c.ID
}

func openStore(t *testing.T, path string) *bolt.Store {
	t.Helper()
	st, err := bolt.Open(path, bolt.Options{ReserveBytes: bolt.NoReserve})
	if err != nil {
		t.Fatalf("opening the database: %v", err)
	}
	return st
}

// readyWriter is a child's stdout: it closes ready once READY is printed.
type readyWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan struct{}
	done  bool
}

func (r *readyWriter) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf.Write(p)
	if !r.done && bytes.Contains(r.buf.Bytes(), []byte("READY\n")) {
		r.done = true
		close(r.ready)
	}
	return len(p), nil
}
