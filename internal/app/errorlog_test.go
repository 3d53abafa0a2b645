package app_test

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/app"
	"github.com/onbehalf/onbehalf/internal/config"
	"github.com/onbehalf/onbehalf/internal/logtest"
)

// emfileListener fails its first Accept as a process out of file
// descriptors does, then waits until it is closed.
type emfileListener struct {
	once   sync.Once
	closed chan struct{}
}

func (l *emfileListener) Accept() (net.Conn, error) {
	var err error
	l.once.Do(func() {
		err = &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	})
	if err != nil {
		return nil, err
	}
	<-l.closed
	return nil, net.ErrClosed
}

func (l *emfileListener) Close() error {
	select {
	case <-l.closed:
	default:
		close(l.closed)
	}
	return nil
}

func (l *emfileListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }

// TestAcceptErrorsAreErrors: an accept that fails with "too many open
// files" reaches the log at ERROR (nobody can connect then, token URLs
// included), while a client's noise (a bad TLS handshake) stays at DEBUG.
func TestAcceptErrorsAreErrors(t *testing.T) {
	logs := &logtest.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := app.NewHTTPServer(http.NotFoundHandler(), app.DefaultServerLimits(config.Config{}), log)
	ln := &emfileListener{closed: make(chan struct{})}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "too many open files") {
		if time.Now().After(deadline) {
			t.Fatalf("no accept error logged: %s", logs.String())
		}
		time.Sleep(time.Millisecond) // polling the log: the condition is the line
	}
	srv.Close()
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	line := logs.String()
	if !strings.Contains(line, "level=ERROR") || !strings.Contains(line, "out of file descriptors") || !strings.Contains(line, "STREAMS_MAX") {
		t.Fatalf("accept error logged as %q", line)
	}

	// A TLS server's handshake error stays at debug.
	logs2 := &logtest.Buffer{}
	log2 := slog.New(slog.NewTextHandler(logs2, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv2 := app.NewHTTPServer(http.NotFoundHandler(), app.DefaultServerLimits(config.Config{}), log2)
	srv2.ErrorLog.Printf("http: TLS handshake error from 203.0.113.7:4242: EOF")
	if got := logs2.String(); !strings.Contains(got, "level=DEBUG") || !strings.Contains(got, "TLS handshake error") {
		t.Fatalf("TLS noise logged as %q", got)
	}
}
