package app_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/logtest"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// fillDisk writes a file of zeros until the file system holding dir is
// full, leaving about leave bytes (none when the server's own writes take
// them first).
func fillDisk(t *testing.T, dir, name string, leave int64) {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	if n := free - leave; n > 0 {
		// The server writes meanwhile, so the disk may fill first: then
		// the file holds what fitted, and the disk is full as wanted.
		err := os.WriteFile(filepath.Join(dir, name), make([]byte, n), 0o600)
		if err != nil && !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("filling the disk: %v", err)
		}
	}
}

// connectUser walks the OAuth flow for one fake Zoom user and launches a
// bot; it returns the bot's OBF token URL and the person's browser, which
// can launch more.
func connectUser(t *testing.T, base string, f *fakes, user string) (string, *http.Client) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	nf := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := nf.Get(base + "/zoom/oauth")
	if err != nil {
		t.Fatal(err)
	}
	read(resp)
	b := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err = b.Get(resp.Header.Get("Location") + "&fake_user=" + user)
	if err != nil {
		t.Fatal(err)
	}
	if page := read(resp); resp.Request.URL.Path != "/launch" {
		t.Fatalf("connecting %s ended at %s: %d %.300s", user, resp.Request.URL, resp.StatusCode, page)
	}
	if code := launch(t, base, b); code != 200 {
		t.Fatalf("launching a bot for %s: %d", user, code)
	}
	bots := f.recall.Bots()
	return bots[len(bots)-1].TokenURLs[onbehalf.KindOBF], b
}

// launch sends one bot from the person's browser b and returns the status
// of the page it ends on.
func launch(t *testing.T, base string, b *http.Client) int {
	t.Helper()
	resp, err := b.PostForm(base+"/launch", url.Values{"meeting_url": {"https://zoom.us/j/85012345678"}})
	if err != nil {
		t.Fatal(err)
	}
	read(resp)
	return resp.StatusCode
}

// TestDiskFullUnderLoad is the disk-full fault campaign against the real
// server: the database on a small real file system that fills while 30
// connected people's tokens are refreshed. Nothing may be lost: every
// connection still works once space is freed, /healthz tells the truth
// meanwhile, and nothing answers 500. (Connecting on a full disk answers
// 507: internal/web's TestFullDiskSaysSo.)
//
// A token refresh rewrites pages bbolt has freed, so refreshes alone make
// the file grow only when a reader happens to pin old pages (it took from
// 500 to more than 12,000 callbacks). Each round therefore also sends a
// new bot for every person, as a busy day would: the data grows, the file
// must grow into the full disk within a few rounds, and both the launches
// and the refreshes meet the failed writes.
func TestDiskFullUnderLoad(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounts a small tmpfs: needs root")
	}
	dir := filepath.Join(t.TempDir(), "tmpfs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "size=48m,mode=0700"); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v): needs CAP_SYS_ADMIN", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })

	f := newFakes(t)
	f.env["DB_PATH"] = filepath.Join(dir, "data", "onbehalf.db")
	f.env["BOTS_PER_HOUR"] = "0"              // a bot per person per round, for up to 200 rounds
	a, _ := startApp(t, f, &logtest.Buffer{}) // creates the 16 MiB reserve
	base := a.BaseURL()
	const users = 30
	urls := make([]string, users)
	browsers := make([]*http.Client, users)
	for i := range urls {
		u := fmt.Sprintf("zu_full_%02d", i)
		f.zoom.AddUser(zoomdemo.User{ID: u, Email: u + "@example.com", DisplayName: "User " + u})
		urls[i], browsers[i] = connectUser(t, base, f, u)
	}
	health := func() (int, string) {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, read(resp)
	}

	statuses, launches := map[int]int{}, map[int]int{}
	sawFull, sawNearly := false, false
	round := 0
	for ; round < 200 && !(sawFull && statuses[503] >= 5); round++ {
		fillDisk(t, dir, fmt.Sprintf("filler%03d", round), 0) // full to the last block: whatever the database frees, others take
		for i, u := range urls {
			launches[launch(t, base, browsers[i])]++
			f.zoom.InvalidateAccess(fmt.Sprintf("zu_full_%02d", i)) // every callback refreshes
			resp, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[resp.StatusCode]++
			if resp.StatusCode == 503 && !sawFull {
				// Refused because writes fail: /healthz must say so now.
				code, body := health()
				sawFull = code == 503 && strings.Contains(body, "is full")
			}
		}
		code, body := health()
		sawNearly = sawNearly || code == 503 && strings.Contains(body, "nearly full")
	}
	t.Logf("%d rounds; callback statuses while the disk filled: %v; launches: %v", round, statuses, launches)
	if !sawFull || !sawNearly {
		t.Fatalf("/healthz never said the disk was nearly full (%v) and then full (%v)", sawNearly, sawFull)
	}
	if statuses[500]+launches[500] > 0 {
		t.Fatalf("%d callbacks and %d launches answered 500", statuses[500], launches[500])
	}
	// Space again: every connection works, none lost.
	matches, _ := filepath.Glob(filepath.Join(dir, "filler*"))
	for _, m := range matches {
		os.Remove(m)
	}
	deadline := time.Now().Add(30 * time.Second)
	for code, _ := health(); code != 200; code, _ = health() {
		if time.Now().After(deadline) {
			t.Fatal("/healthz never recovered after space was freed")
		}
		time.Sleep(100 * time.Millisecond)
	}
	lost := 0
	for i, u := range urls {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		if body := read(resp); resp.StatusCode != 200 {
			lost++
			t.Errorf("connection %d after the disk was freed: %d %.200s", i, resp.StatusCode, body)
		}
	}
	if r := f.zoom.ReusedRefreshTokens(); r != 0 || lost != 0 {
		t.Fatalf("connections lost: %d of %d; refresh tokens reused: %d", lost, users, r)
	}
	t.Logf("connections lost: 0 of %d; refreshes at Zoom: %d", users, f.zoom.RefreshCalls())
}
