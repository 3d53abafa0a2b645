package app_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/logtest"
	"github.com/onbehalf/onbehalf/internal/store/postgres/pgtest"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// onPostgres points the fakes' environment at a fresh PostgreSQL schema
// (skipping without a test server, failing without one under CI).
func onPostgres(t *testing.T, f *fakes) {
	u, _ := pgtest.Schema(t)
	f.env["DATABASE_URL"] = u
	f.env["TOKEN_ENCRYPTION_KEY"] = base64.StdEncoding.EncodeToString([]byte("instances-test-key-0123456789abc"))
}

// TestThreeInstancesOneRefresh: three instances on one database, 200
// concurrent callbacks for one connection whose access token Zoom just
// rejected, spread round robin: exactly one refresh reaches Zoom and
// every caller gets its own token.
func TestThreeInstancesOneRefresh(t *testing.T) {
	f := newFakes(t)
	onPostgres(t, f)
	var bases []string
	for i := 0; i < 3; i++ {
		a, _ := startApp(t, f, &logtest.Buffer{})
		bases = append(bases, a.BaseURL())
	}
	tokenURL := walk(t, bases[0], f)
	fetch(t, bases[1], tokenURL, f) // every instance serves the URL another one signed
	f.zoom.InvalidateAccess(zoomdemo.DefaultUserID)
	refreshes := f.zoom.RefreshCalls()

	const n = 200
	type result struct {
		status int
		body   string
	}
	out := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for i := 0; i < n; i++ {
		wg.Go(func() {
			<-start
			p := mustParse(t, tokenURL)
			resp, err := client.Get(bases[i%len(bases)] + p.Path + "?" + p.RawQuery)
			if err != nil {
				out[i] = result{0, err.Error()}
				return
			}
			out[i] = result{resp.StatusCode, read(resp)}
		})
	}
	close(start)
	wg.Wait()
	seen := map[string]bool{}
	for i, r := range out {
		if r.status != 200 || r.body == "" || seen[r.body] {
			t.Fatalf("callback %d (instance %d): %d %.200q", i, i%len(bases), r.status, r.body)
		}
		seen[r.body] = true
	}
	if got := f.zoom.RefreshCalls() - refreshes; got != 1 {
		t.Fatalf("%d refreshes reached Zoom for one connection across 3 instances, want 1", got)
	}
	if r := f.zoom.ReusedRefreshTokens(); r != 0 {
		t.Fatalf("%d refresh tokens reused", r)
	}
	t.Logf("%d callbacks over 3 instances: 1 refresh at Zoom, %d distinct tokens", n, len(seen))
}

// TestKill9OfTheLeaseHolder: the instance whose refresh is at Zoom is
// killed with SIGKILL. When Zoom had not rotated yet, another instance
// takes over once the lease runs out and the connection survives; when
// Zoom had rotated, the new pair died with the instance (the documented
// window) and the connection says so. Either way the connection is
// blocked for 15 s at most (the 10 s lease, renewed while a refresh
// runs, whatever ZOOM_REFRESH_TIMEOUT).
func TestKill9OfTheLeaseHolder(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for _, rotated := range []bool{false, true} {
		name := "before Zoom rotated"
		if rotated {
			name = "after Zoom rotated"
		}
		t.Run(name, func(t *testing.T) {
			f := newFakes(t)
			onPostgres(t, f)
			f.env["ZOOM_REFRESH_TIMEOUT"] = "60s" // the default: the lease no longer depends on it
			f.env["ZOOM_TIMEOUT"] = "2s"
			a, base := startChild(t, f)
			b, baseB := startChild(t, f)
			defer b.Process.Kill()
			tokenURL := walk(t, base, f)
			fetch(t, baseB, tokenURL, f)

			f.zoom.InvalidateAccess(zoomdemo.DefaultUserID)
			var hold *zoomdemo.Hold
			if rotated {
				hold = f.zoom.HoldNextRefresh()
			} else {
				hold = f.zoom.HoldNextRefreshBeforeRotate()
			}
			go func() { // A's callback takes the lease and calls Zoom; A dies before answering
				p := mustParse(t, tokenURL)
				if resp, err := http.Get(base + p.Path + "?" + p.RawQuery); err == nil {
					read(resp)
				}
			}()
			select {
			case <-hold.Arrived():
			case <-time.After(20 * time.Second):
				t.Fatalf("no refresh reached Zoom (refreshes %d, mints %d)", f.zoom.RefreshCalls(), f.zoom.MintCalls())
			}
			if err := a.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			a.Wait()
			killed := time.Now()
			<-hold.Done() // the fake saw A's connection die
			refreshes := f.zoom.RefreshCalls()

			// B answers 504 while A's lease lives, then takes over.
			deadline := time.Now().Add(40 * time.Second)
			var last int
			var body string
			for time.Now().Before(deadline) {
				p := mustParse(t, tokenURL)
				resp, err := http.Get(baseB + p.Path + "?" + p.RawQuery)
				if err != nil {
					t.Fatal(err)
				}
				last, body = resp.StatusCode, read(resp)
				if last == 200 || last == 409 {
					break
				}
				time.Sleep(500 * time.Millisecond)
			}
			took := f.zoom.RefreshCalls() - refreshes
			blocked := time.Since(killed)
			t.Logf("after the kill: instance B answered %d after %v; %d more refresh(es) at Zoom", last, blocked.Round(100*time.Millisecond), took)
			if blocked > 15*time.Second {
				t.Fatalf("the connection was blocked %v by the dead instance, want at most 15 s", blocked)
			}
			if !rotated {
				if last != 200 || took != 1 || f.zoom.ReusedRefreshTokens() != 0 {
					t.Fatalf("B: %d %.200q, refreshes %d, reused %d: the connection did not survive", last, body, took, f.zoom.ReusedRefreshTokens())
				}
				return
			}
			if last != 409 || !strings.Contains(body, "reconnect") || !strings.Contains(body, "Another instance stopped") {
				t.Fatalf("B after the rotated pair was lost: %d %.200q, want 409 saying to reconnect", last, body)
			}
		})
	}
}
