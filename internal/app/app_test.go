package app_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/logtest"

	"github.com/onbehalf/onbehalf/internal/app"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/recall/recalldemo"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// fakes are the outside world of one test.
type fakes struct {
	zoom   *zoomdemo.Server
	recall *recalldemo.Fake
	env    map[string]string
}

func newFakes(t *testing.T) *fakes {
	f := &fakes{zoom: zoomdemo.New("cid", "csecret"), recall: recalldemo.New(recalldemo.Options{APIKey: "rkey"})}
	t.Cleanup(f.zoom.Close)
	t.Cleanup(f.recall.Close)
	f.env = map[string]string{
		"PORT":               "0",
		"DB_PATH":            filepath.Join(t.TempDir(), "data", "onbehalf.db"),
		"ZOOM_CLIENT_ID":     "cid",
		"ZOOM_CLIENT_SECRET": "csecret",
		"ZOOM_OAUTH_URL":     f.zoom.URL,
		"ZOOM_API_URL":       f.zoom.APIURL(),
		"RECALL_API_KEY":     "rkey",
		"RECALL_API_URL":     f.recall.URL(),
		"LOG_LEVEL":          "debug",
		"SHUTDOWN_DRAIN":     "0",
	}
	return f
}

func (f *fakes) getenv(k string) string { return f.env[k] }

// walk connects Zoom and launches a bot as a browser with a cookie jar, and
// returns the token URL Recall received.
func walk(t *testing.T, base string, f *fakes) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar, Timeout: 10 * time.Second}

	resp, err := b.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page := read(resp)
	if resp.StatusCode != 200 || !strings.Contains(page, "Connect Zoom") || !strings.Contains(page, base+"/zoom/oauth-callback") {
		t.Fatalf("home: %d\n%s", resp.StatusCode, page)
	}
	resp, err = b.Get(base + "/zoom/oauth") // → fake Zoom → /zoom/oauth-callback → /launch
	if err != nil {
		t.Fatal(err)
	}
	page = read(resp)
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/launch" ||
		!strings.Contains(page, `name="meeting_url"`) || !strings.Contains(page, `name="bot_name"`) {
		t.Fatalf("after oauth: %s %d\n%s", resp.Request.URL, resp.StatusCode, page)
	}
	resp, err = b.PostForm(base+"/launch", url.Values{"meeting_url": {"https://acme.zoom.us/j/85012345678?pwd=xyz"}, "bot_name": {"Notes"}})
	if err != nil {
		t.Fatal(err)
	}
	page = read(resp)
	bots := f.recall.Created()
	if resp.StatusCode != 200 || len(bots) == 0 || !strings.Contains(page, "Bot sent on Recall.ai") {
		t.Fatalf("launch: %d bots=%d\n%s", resp.StatusCode, len(bots), page)
	}
	bot := bots[len(bots)-1]
	if bot.BotName != "Notes" || bot.MeetingURL != "https://acme.zoom.us/j/85012345678?pwd=xyz" || bot.Header.Get("Authorization") != "Token rkey" {
		t.Fatalf("recall got %+v", bot)
	}
	return bot.TokenURLs[onbehalf.KindOBF]
}

// fetch GETs a token URL on base (the URL's own host is replaced, since a
// restarted server listens on a new port) and checks it answers the token
// the fake minted last.
func fetch(t *testing.T, base, tokenURL string, f *fakes) string {
	t.Helper()
	u, err := url.Parse(tokenURL)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(base + u.Path + "?" + u.RawQuery)
	if err != nil {
		t.Fatal(err)
	}
	got := read(resp)
	minted := f.zoom.Minted()
	if resp.StatusCode != 200 || len(minted) == 0 || got != minted[len(minted)-1] {
		t.Fatalf("token URL: %d %q (fake minted %d tokens)", resp.StatusCode, got, len(minted))
	}
	return got
}

func read(resp *http.Response) string {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// startApp starts the real app in this process on the fakes and returns
// it with a stop func: graceful shutdown, failing the test if it errs.
// Stop runs at cleanup too if the test did not call it.
func startApp(t *testing.T, f *fakes, logs io.Writer) (*app.App, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Start(ctx, app.Options{Getenv: f.getenv, LogOut: logs})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := a.Wait(); err != nil {
				t.Errorf("graceful stop: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return a, stop
}

func TestEndToEndBrowserFlowAndGracefulRestart(t *testing.T) {
	f := newFakes(t)
	logs := &logtest.Buffer{}
	a, stop := startApp(t, f, logs)
	base := a.BaseURL()
	tokenURL := walk(t, base, f)
	u, _ := url.Parse(tokenURL)
	q := u.Query()
	if u.Path != "/recall/obf-callback" || q.Get("meeting_id") != "85012345678" || q.Get("kinds") != "obf" || q.Get("bot") == "" ||
		len(q.Get("user_id")) != 22 || q.Get("exp") == "" || len(q.Get("sig")) != 43 || q.Has("auth_token") {
		t.Fatalf("token URL shape: %s", u.Path)
	}
	tok := fetch(t, base, tokenURL, f)

	// Graceful stop, then a restart on the same database: the generated
	// secret and the connection survive, so the same token URL works.
	stop()
	a2, stop2 := startApp(t, f, logs)
	tok2 := fetch(t, a2.BaseURL(), tokenURL, f)
	stop2()
	if tok == tok2 {
		t.Fatal("OBF tokens must be minted per request")
	}
	// Nothing secret in the logs.
	out := logs.String()
	for _, s := range []string{q.Get("sig"), "sig=", "auth_token=", f.zoom.CurrentAccessToken(zoomdemo.DefaultUserID),
		f.zoom.CurrentRefreshToken(zoomdemo.DefaultUserID), tok, tok2} {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("logs contain a secret or token (%.12s…)", s)
		}
	}
}

func TestSecondInstanceOnSameDatabaseFailsFast(t *testing.T) {
	f := newFakes(t)
	startApp(t, f, io.Discard)
	start := time.Now()
	var stderr strings.Builder
	code := app.Run(context.Background(), nil, f.getenv, io.Discard, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "locked by another process") {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %s", d)
	}
}

func TestConfigErrorsReportedAtOnce(t *testing.T) {
	var stderr strings.Builder
	code := app.Run(context.Background(), nil, func(k string) string {
		return map[string]string{"PORT": "x", "RECALL_API_KEY": "k", "RECALL_REGION": "mars", "MEETSTREAM_API_KEY": "k", "MEETSTREAM_API_URL": "ftp://x",
			"BASE_URL": "nope", "DB_PATH": filepath.Join(t.TempDir(), "x.db")}[k]
	}, io.Discard, &stderr)
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	for _, v := range []string{"PORT", "RECALL_REGION", "BASE_URL", "MEETSTREAM_API_URL"} {
		if !strings.Contains(stderr.String(), v) {
			t.Errorf("%s not reported: %s", v, stderr.String())
		}
	}
}

// TestWholeStartProblemsReportedBeforeStoreAndPort: a webhook secret the
// signer would refuse is reported with the other problems, before the
// store is opened (its file is not created) or a port bound.
func TestWholeStartProblemsReportedBeforeStoreAndPort(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	var stderr strings.Builder
	code := app.Run(context.Background(), nil, func(k string) string {
		return map[string]string{"PORT": "abc", "ZOOM_FAILURE_COOLDOWN": "forever", "DB_PATH": db,
			"WEBHOOK_URL": "https://receiver.example/hook", "WEBHOOK_SECRET": "whsec_c2hvcnQ="}[k]
	}, io.Discard, &stderr)
	if code != 1 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, v := range []string{"3 problem", "PORT=", "ZOOM_FAILURE_COOLDOWN=", "WEBHOOK_SECRET: must be whsec_"} {
		if !strings.Contains(stderr.String(), v) {
			t.Errorf("%s not reported: %s", v, stderr.String())
		}
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the store was opened: %v", err)
	}
}

// TestHelperProcess runs the real app in a child process for the kill -9
// test. It is not a test on its own.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("ONBEHALF_HELPER") != "1" {
		t.Skip("helper process")
	}
	os.Exit(app.Run(context.Background(), nil, os.Getenv, os.Stdout, os.Stderr))
}

// startChild starts the app in a child process and returns it with its URL.
func startChild(t *testing.T, f *fakes) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "ONBEHALF_HELPER=1")
	for k, v := range f.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := regexp.MustCompile(`open (http://\S+) in a browser`).FindStringSubmatch(sc.Text()); m != nil {
				line <- m[1]
			}
		}
	}()
	select {
	case base := <-line:
		return cmd, base
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		t.Fatal("child did not start")
	}
	return nil, ""
}

func TestKill9KeepsConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	f := newFakes(t)
	cmd, base := startChild(t, f)
	tokenURL := walk(t, base, f)
	fetch(t, base, tokenURL, f)
	for i := 0; i < 3; i++ {
		// Make the next callback refresh, then kill -9 right after it.
		f.zoom.InvalidateAccess(zoomdemo.DefaultUserID)
		fetch(t, base, tokenURL, f)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		cmd, base = startChild(t, f)
		fetch(t, base, tokenURL, f)
	}
	// Graceful stop with SIGTERM exits 0.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("SIGTERM exit: %v", err)
	}
	if n := f.zoom.ReusedRefreshTokens(); n != 0 {
		t.Fatalf("reused refresh tokens: %d", n)
	}
	t.Logf("refreshes across 3 kill -9 restarts: %d", f.zoom.RefreshCalls())
}
