package app_test

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/app"
	"github.com/onbehalf/onbehalf/internal/config"
)

func TestDefaultServerLimitsCoverSlowestHandler(t *testing.T) {
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	l := app.DefaultServerLimits(cfg)
	if l.ReadHeaderTimeout <= 0 || l.ReadHeaderTimeout > 30*time.Second || l.ReadTimeout < l.ReadHeaderTimeout ||
		l.IdleTimeout <= 0 || l.MaxHeaderBytes < 8<<10 || l.MaxHeaderBytes > 1<<20 {
		t.Fatalf("limits %+v", l)
	}
	// Four Zoom waits (refresh, mint, refresh, mint) and one platform call
	// (15 s by default) must fit in the write timeout.
	if l.WriteTimeout <= 4*cfg.ZoomTimeout || l.WriteTimeout <= 15*time.Second {
		t.Fatalf("WriteTimeout %s too short for ZOOM_TIMEOUT %s", l.WriteTimeout, cfg.ZoomTimeout)
	}
}

// TestSlowlorisDisconnected drips a request's headers one byte at a time
// into a server built like the app's (NewHTTPServer), with a 300 ms
// ReadHeaderTimeout: the server hangs up long before the headers end,
// while a normal request on the same server is served.
func TestSlowlorisDisconnected(t *testing.T) {
	l := app.DefaultServerLimits(config.Config{ZoomTimeout: time.Second})
	l.ReadHeaderTimeout = 300 * time.Millisecond
	srv := app.NewHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }),
		l, slog.New(slog.DiscardHandler))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil || read(resp) != "ok" {
		t.Fatalf("normal request: %v", err)
	}

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	closed := make(chan time.Duration, 1)
	start := time.Now()
	go func() {
		// The server sends nothing; Read returns when it hangs up.
		_, _ = io.Copy(io.Discard, conn)
		closed <- time.Since(start)
	}()
	request := []byte("GET / HTTP/1.1\r\nHost: x\r\nX-Padding: " + strings.Repeat("a", 100) + "\r\n\r\n")
	var writeErr error
	for i := 0; i < len(request) && writeErr == nil; i++ {
		select {
		case took := <-closed:
			if took > 2*time.Second {
				t.Fatalf("disconnected only after %s", took)
			}
			t.Logf("slow client disconnected after %s, %d header bytes sent", took.Round(time.Millisecond), i)
			return
		case <-time.After(50 * time.Millisecond):
		}
		_, writeErr = conn.Write(request[i : i+1])
	}
	select {
	case took := <-closed:
		if took > 2*time.Second {
			t.Fatalf("disconnected only after %s", took)
		}
	case <-time.After(3 * time.Second):
		t.Fatalf("slow client still connected after %s (last write error: %v)", time.Since(start), errors.Unwrap(writeErr))
	}
}
