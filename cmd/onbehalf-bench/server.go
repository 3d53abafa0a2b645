package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/onbehalf/onbehalf/internal/app"
)

// server is a running onbehalf, in this process or in a child.
type server interface {
	// BaseURL is http://127.0.0.1:port.
	BaseURL() string
	// CPU returns the user and system CPU time the server process has
	// used so far; ok is false when it cannot be told apart from the load
	// generator's (in-process mode).
	CPU() (user, sys time.Duration, ok bool)
	// RSS returns the resident set size of the server process in bytes.
	RSS() (int64, error)
	// StartProfile and StopProfile bracket a CPU profile of the server.
	StartProfile(path string) error
	StopProfile() error
	// Stop shuts the server down gracefully.
	Stop() error
}

// startup is how long a start took.
type startup struct {
	// appStart is the duration of app.Start (open the database, read the
	// secrets, build the handler, listen).
	appStart time.Duration
	// total is appStart plus, in child mode, the process start (exec,
	// Go runtime init) as seen from the parent.
	total time.Duration
}

// freePort returns a TCP port that is free on 127.0.0.1 right now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startServer starts onbehalf with a copy of env to which PORT and
// BASE_URL are added; its log goes to work/<name>.log.
func startServer(o options, work, name string, env map[string]string) (server, startup, error) {
	port, err := freePort()
	if err != nil {
		return nil, startup{}, err
	}
	env = maps.Clone(env)
	env["PORT"] = strconv.Itoa(port)
	env["BASE_URL"] = "http://127.0.0.1:" + strconv.Itoa(port)
	if o.mode == modeChild {
		return startChild(o, work, name, env)
	}
	return startInProcess(work, name, env)
}

// startServers starts n instances on the same environment (n > 1 needs
// PostgreSQL), one after the other, and prints how long each took.
func startServers(o options, work string, env map[string]string, n int) (serverSet, error) {
	var ss serverSet
	for i := range n {
		srv, st, err := startServer(o, work, fmt.Sprintf("server-%d", i+1), env)
		if err != nil {
			_ = ss.Stop()
			return nil, fmt.Errorf("instance %d: %w", i+1, err)
		}
		ss = append(ss, srv)
		fmt.Printf("server %d of %d: %s (app.Start %s, ready after %s)\n", i+1, n, srv.BaseURL(), round(st.appStart), round(st.total))
	}
	return ss, nil
}

// inproc is onbehalf started with app.Start in this process.
type inproc struct {
	app    *app.App
	cancel context.CancelFunc
	log    *os.File
	prof   *os.File
}

func startInProcess(work, name string, env map[string]string) (server, startup, error) {
	logf, err := os.OpenFile(filepath.Join(work, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, startup{}, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	t0 := time.Now()
	a, err := app.Start(ctx, app.Options{Getenv: func(k string) string { return env[k] }, LogOut: logf})
	took := time.Since(t0)
	if err != nil {
		cancel()
		logf.Close()
		return nil, startup{}, fmt.Errorf("app.Start: %w", err)
	}
	return &inproc{app: a, cancel: cancel, log: logf}, startup{appStart: took, total: took}, nil
}

// BaseURL implements server.
func (s *inproc) BaseURL() string { return s.app.BaseURL() }

// CPU implements server: in-process, the server's CPU time cannot be told
// apart from the load generator's and the fakes'.
func (s *inproc) CPU() (user, sys time.Duration, ok bool) { return 0, 0, false }

// RSS implements server: the whole process (server, fakes, load generator)
// after a GC that returns free memory to the OS.
func (s *inproc) RSS() (int64, error) {
	runtime.GC()
	debug.FreeOSMemory()
	return procRSS("self")
}

// StartProfile implements server.
func (s *inproc) StartProfile(path string) error { return startProfileFile(&s.prof, path) }

// StopProfile implements server.
func (s *inproc) StopProfile() error { return stopProfileFile(&s.prof) }

// Stop implements server.
func (s *inproc) Stop() error {
	s.cancel()
	err := s.app.Wait()
	s.log.Close()
	return err
}

// startProfileFile starts a CPU profile into a new file at path.
func startProfileFile(f **os.File, path string) error {
	pf, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(pf); err != nil {
		pf.Close()
		return err
	}
	*f = pf
	return nil
}

// stopProfileFile stops the CPU profile started by startProfileFile.
func stopProfileFile(f **os.File) error {
	if *f == nil {
		return nil
	}
	pprof.StopCPUProfile()
	err := (*f).Close()
	*f = nil
	return err
}

// serverSet is several instances seen as one: CPU times and RSS add up,
// Stop stops all, and a profile is taken of the first only.
type serverSet []server

// BaseURL is the first instance's.
func (ss serverSet) BaseURL() string { return ss[0].BaseURL() }

// CPU implements server: the sum over the instances.
func (ss serverSet) CPU() (user, sys time.Duration, ok bool) {
	for _, s := range ss {
		u, sy, ok := s.CPU()
		if !ok {
			return 0, 0, false
		}
		user, sys = user+u, sys+sy
	}
	return user, sys, true
}

// RSS implements server: the sum over the instances.
func (ss serverSet) RSS() (int64, error) {
	var n int64
	for _, s := range ss {
		r, err := s.RSS()
		if err != nil {
			return 0, err
		}
		n += r
	}
	return n, nil
}

// StartProfile implements server: the first instance only.
func (ss serverSet) StartProfile(path string) error { return ss[0].StartProfile(path) }

// StopProfile implements server.
func (ss serverSet) StopProfile() error { return ss[0].StopProfile() }

// Stop stops every instance (those that are still running).
func (ss serverSet) Stop() error {
	var errs []error
	for i, s := range ss {
		if s == nil {
			continue
		}
		if err := s.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("instance %d: %w", i+1, err))
		}
		ss[i] = nil
	}
	return errors.Join(errs...)
}
