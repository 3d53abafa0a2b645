package crashtest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/store/bolt"
	"github.com/onbehalf/onbehalf/internal/tokens"
	"github.com/onbehalf/onbehalf/internal/zoom"
)

// Environment of the child process.
const (
	envChild = "ONBEHALF_CRASH_CHILD" // "1" in the child
	envDB    = "ONBEHALF_CRASH_DB"    // database path
	envZoom  = "ONBEHALF_CRASH_ZOOM"  // OAuth base URL of the (proxied) fake Zoom
	envIDs   = "ONBEHALF_CRASH_IDS"   // comma-separated connection IDs
)

// childWorkers is how many goroutines of the child refresh at once. They
// walk the same connections from different starting points, so they
// sometimes meet on one connection and share its refresh.
const childWorkers = 4

// TestCrashHelperProcess is the child of TestKill9DuringRefreshes: it is
// not a test on its own.
func TestCrashHelperProcess(t *testing.T) {
	if os.Getenv(envChild) != "1" {
		t.Skip("helper process for TestKill9DuringRefreshes")
	}
	os.Exit(child())
}

// child opens the store, prints READY and refreshes its connections round
// robin until it is killed. Any error ends it with status 3 and a line on
// stderr: the parent treats that as a failure.
func child() int {
	st, err := bolt.Open(os.Getenv(envDB), bolt.Options{Timeout: 10 * time.Second, ReserveBytes: bolt.NoReserve})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: opening the store:", err)
		return 2
	}
	base := os.Getenv(envZoom)
	zc := zoom.New(zoom.Options{ClientID: clientID, ClientSecret: clientSecret, OAuthURL: base, APIURL: base + "/v2", Timeout: 10 * time.Second})
	mgr := &tokens.Manager{Store: st, Zoom: zc,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	ids := strings.Split(os.Getenv(envIDs), ",")
	ctx := context.Background()

	var once sync.Once
	fail := func(format string, args ...any) {
		once.Do(func() {
			fmt.Fprintf(os.Stderr, "child: "+format+"\n", args...)
			os.Exit(3)
		})
	}
	fmt.Println("READY")
	var wg sync.WaitGroup
	for w := range childWorkers {
		wg.Go(func() {
			for i := w * len(ids) / childWorkers; ; i++ {
				id := ids[i%len(ids)]
				c, err := st.Connection(ctx, id)
				if err != nil {
					fail("reading %s: %v", id, err)
				}
				if _, err := mgr.Refresh(ctx, id, c.Token.AccessToken); err != nil {
					fail("refreshing %s: %v", id, err)
				}
			}
		})
	}
	wg.Wait()
	return 0
}
