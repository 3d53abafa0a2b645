package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/onbehalf/onbehalf/internal/app"
)

// child is onbehalf running in a child process: this binary with -child.
type child struct {
	cmd   *exec.Cmd
	base  string
	lines chan string
	done  chan error
	log   string
}

// Lines the child prints on stdout for its parent.
const (
	childReady   = "BENCH-CHILD ready"
	childProfile = "BENCH-CHILD"
)

func startChild(o options, work, name string, env map[string]string) (server, startup, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, startup{}, err
	}
	args := []string{self, "-child"}
	if o.serverCPUs != "" {
		ts, err := exec.LookPath("taskset")
		if err != nil {
			return nil, startup{}, errors.New("-server-cpus needs taskset (util-linux)")
		}
		args = append([]string{ts, "-c", o.serverCPUs}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = work // no stray .env
	// The server dies with this process, even when it is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for _, k := range []string{"GOMAXPROCS", "GOGC", "GOMEMLIMIT", "GODEBUG"} {
		if v := os.Getenv(k); v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	if o.cpuprofile != "" {
		cmd.Env = append(cmd.Env, "ONBEHALF_BENCH_CPUPROFILE="+o.cpuprofile)
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	logPath := filepath.Join(work, name+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, startup{}, err
	}
	defer logf.Close()
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, startup{}, err
	}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, startup{}, err
	}
	s := &child{cmd: cmd, lines: make(chan string, 16), done: make(chan error, 1), log: logPath}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
		s.done <- cmd.Wait()
	}()
	select {
	case line, ok := <-s.lines:
		total := time.Since(t0)
		var base string
		var ns int64
		if ok {
			_, err = fmt.Sscanf(line, childReady+" %s %d", &base, &ns)
		}
		if !ok || err != nil || !strings.HasPrefix(base, "http://127.0.0.1:") {
			_ = cmd.Process.Kill()
			return nil, startup{}, fmt.Errorf("child did not start (%q); its log:\n%s", line, tail(logPath, 2000))
		}
		s.base = base
		return s, startup{appStart: time.Duration(ns), total: total}, nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		return nil, startup{}, fmt.Errorf("child not ready after 30s; its log:\n%s", tail(logPath, 2000))
	}
}

// BaseURL implements server.
func (s *child) BaseURL() string { return s.base }

// CPU implements server: utime+stime of the child from /proc.
func (s *child) CPU() (user, sys time.Duration, ok bool) {
	user, sys, err := procCPU(s.cmd.Process.Pid)
	return user, sys, err == nil
}

// RSS implements server: VmRSS of the child.
func (s *child) RSS() (int64, error) { return procRSS(strconv.Itoa(s.cmd.Process.Pid)) }

// StartProfile implements server; the child writes the file given by -cpuprofile.
func (s *child) StartProfile(string) error { return s.profileSignal(syscall.SIGUSR1, "profiling") }

// StopProfile implements server.
func (s *child) StopProfile() error { return s.profileSignal(syscall.SIGUSR2, "profile written") }

// profileSignal asks the child to start or stop its CPU profile and waits
// for its acknowledgement.
func (s *child) profileSignal(sig os.Signal, want string) error {
	if err := s.cmd.Process.Signal(sig); err != nil {
		return err
	}
	select {
	case line := <-s.lines:
		if !strings.Contains(line, want) {
			return fmt.Errorf("child answered %q to %v", line, sig)
		}
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("child did not acknowledge %v", sig)
	}
}

// Stop sends SIGTERM and waits (at most 30s) for a graceful exit. A child
// that has exited already is reported with how it ended and its log.
func (s *child) Stop() error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		go func() {
			for range s.lines { // drain
			}
		}()
		select {
		case werr := <-s.done:
			return fmt.Errorf("the server had exited already (%v); its log:\n%s", werr, tail(s.log, 4000))
		case <-time.After(5 * time.Second):
			return fmt.Errorf("signalling the server: %w", err)
		}
	}
	go func() {
		for range s.lines { // drain
		}
	}()
	select {
	case err := <-s.done:
		if err != nil {
			return fmt.Errorf("child exited: %w; its log:\n%s", err, tail(s.log, 2000))
		}
		return nil
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		return errors.New("child did not stop within 30s; killed")
	}
}

// runChild is the body of the child process: app.Start with the real
// environment, a ready line on stdout, optional CPU profiling driven by
// SIGUSR1 (start) and SIGUSR2 (stop), graceful stop on SIGTERM.
func runChild() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if path := os.Getenv("ONBEHALF_BENCH_CPUPROFILE"); path != "" {
		// Registered before the ready line: the parent may signal at once.
		sigs := make(chan os.Signal, 2)
		signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2)
		go profileOnSignal(sigs, path)
	}
	app.TuneGC(os.Getenv) // as onbehalf serve does
	t0 := time.Now()
	a, err := app.Start(ctx, app.Options{Getenv: os.Getenv, LogOut: os.Stderr})
	took := time.Since(t0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "onbehalf-bench child:", err)
		fmt.Println("BENCH-CHILD failed")
		return 1
	}
	fmt.Printf("%s %s %d\n", childReady, a.BaseURL(), took.Nanoseconds())
	if err := a.Wait(); err != nil {
		fmt.Fprintln(os.Stderr, "onbehalf-bench child:", err)
		return 1
	}
	return 0
}

// profileOnSignal starts a CPU profile into path on SIGUSR1 and writes it
// on SIGUSR2, acknowledging each on stdout.
func profileOnSignal(sigs <-chan os.Signal, path string) {
	var f *os.File
	for sig := range sigs {
		if sig == syscall.SIGUSR1 {
			if err := startProfileFile(&f, path); err != nil {
				fmt.Println(childProfile, "profile error:", err)
				continue
			}
			fmt.Println(childProfile, "profiling")
			continue
		}
		if err := stopProfileFile(&f); err != nil {
			fmt.Println(childProfile, "profile error:", err)
			continue
		}
		fmt.Println(childProfile, "profile written")
	}
}

// tail returns the last n bytes of a file.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		_, _ = f.Seek(-n, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}
