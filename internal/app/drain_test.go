package app_test

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// loadResult is what one client loop saw.
type loadResult struct {
	ok      []string // bodies of the 200s
	refused int      // dial refused: the listener was closed
	reset   int      // reset before any answer: a connection the kernel queued, never accepted
	bad     []string // anything else: a request dropped or cut
}

// tokenLoad runs workers client loops GETting tokenURL until each is
// refused at connect (the server is gone), counting 200s in served.
func tokenLoad(t *testing.T, tokenURL string, workers int, served *atomic.Int64) (wait func() loadResult) {
	var wg sync.WaitGroup
	results := make([]loadResult, workers)
	for i := range workers {
		wg.Add(1)
		go func(r *loadResult) {
			defer wg.Done()
			c := &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
			defer c.CloseIdleConnections()
			for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
				resp, err := c.Get(tokenURL)
				switch {
				case errors.Is(err, syscall.ECONNREFUSED):
					r.refused++
					return
				case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF):
					r.reset++
					continue
				case err != nil:
					r.bad = append(r.bad, err.Error())
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || len(b) == 0 {
					r.bad = append(r.bad, resp.Status+" "+string(b)+" "+errString(err))
					return
				}
				r.ok = append(r.ok, string(b))
				served.Add(1)
			}
			r.bad = append(r.bad, "the server never went away")
		}(&results[i])
	}
	return func() loadResult {
		wg.Wait()
		var all loadResult
		for _, r := range results {
			all.ok = append(all.ok, r.ok...)
			all.refused += r.refused
			all.reset += r.reset
			all.bad = append(all.bad, r.bad...)
		}
		return all
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// eventually waits until cond holds, failing the test after d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// probeStatus GETs u and returns its status, 0 when nothing answered.
func probeStatus(u string) int {
	resp, err := http.Get(u)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestSIGTERMDropsNoTokenRequest: under a load of concurrent token
// requests, SIGTERM turns /readyz to 503 at once while tokens keep being
// served for the drain; then the listener closes and the process exits 0.
// Every request was answered 200 with a token Zoom minted, or refused at
// connect; none was cut, and Zoom minted exactly once per 200.
func TestSIGTERMDropsNoTokenRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	f := newFakes(t)
	f.env["SHUTDOWN_DRAIN"] = "3s"
	cmd, base := startChild(t, f)
	tokenURL := walk(t, base, f)
	u, _ := url.Parse(tokenURL)
	tokenURL = base + u.Path + "?" + u.RawQuery
	fetch(t, base, tokenURL, f)
	f.zoom.SetMintDelay(10 * time.Millisecond) // requests are in flight when the listener closes
	mintsBefore := f.zoom.MintCalls()

	var served atomic.Int64
	wait := tokenLoad(t, tokenURL, 8, &served)
	eventually(t, 20*time.Second, "the load is served", func() bool { return served.Load() >= 50 })
	if got := probeStatus(base + "/readyz"); got != 200 {
		t.Fatalf("/readyz before SIGTERM: %d", got)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "/readyz answers 503", func() bool { return probeStatus(base+"/readyz") == 503 })
	if got := probeStatus(base + "/livez"); got != 200 {
		t.Fatalf("/livez while draining: %d", got)
	}
	during := served.Load()
	eventually(t, 10*time.Second, "tokens are served during the drain", func() bool { return served.Load() >= during+10 })
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	r := wait()
	if len(r.bad) > 0 {
		t.Fatalf("%d request(s) dropped or cut: %q", len(r.bad), r.bad)
	}
	minted := map[string]bool{}
	for _, tok := range f.zoom.Minted() {
		minted[tok] = true
	}
	for _, b := range r.ok {
		if !minted[b] {
			t.Fatalf("a 200 carried %q, not a token Zoom minted", b)
		}
	}
	if m := f.zoom.MintCalls() - mintsBefore; m != len(r.ok) {
		t.Fatalf("Zoom minted %d tokens for %d answers: a request was served and its answer lost", m, len(r.ok))
	}
	if r.refused == 0 {
		t.Fatal("no request was refused: the loop did not run past the shutdown")
	}
	t.Logf("%d tokens served (%d after /readyz turned 503), %d refused at connect, %d reset before any answer", len(r.ok), len(r.ok)-int(during), r.refused, r.reset)
}
