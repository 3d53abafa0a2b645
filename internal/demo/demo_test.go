package demo_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/demo"
	"github.com/onbehalf/onbehalf/internal/demo/demotest"
	"github.com/onbehalf/onbehalf/internal/logtest"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/attendee"
	"github.com/onbehalf/onbehalf/internal/platform/meetingbaas"
	"github.com/onbehalf/onbehalf/internal/platform/meetstream"
	"github.com/onbehalf/onbehalf/internal/platform/recall"
)

// allPlatforms are the four platforms, whether or not the app's list has
// them all.
var allPlatforms = []platform.Spec{recall.Spec, meetstream.Spec, attendee.Spec, meetingbaas.Spec}

// pace is the fake bots' pace in these tests.
const pace = 100 * time.Millisecond

// TestDemoFlow clicks through the demo as a person would, with a bot on
// every platform: connect, approve, send a bot, join the meeting, leave.
func TestDemoFlow(t *testing.T) {
	d := demotest.Start(t, allPlatforms, pace)
	p := demotest.NewPerson(t, d)
	_, page := p.Get(d.URL + "/")
	if !strings.Contains(page, "DEMO") || !strings.Contains(page, "Connect Zoom") {
		t.Fatalf("home page:\n%s", page)
	}
	p.Connect()
	for i, name := range []string{"recall", "meetstream", "attendee", "meetingbaas"} {
		t.Run(name, func(t *testing.T) {
			p.T = t
			meeting := "8501234567" + string(rune('0'+i))
			resp, page := p.Post(d.URL+"/launch", url.Values{
				"meeting_url": {"https://zoom.us/j/" + meeting}, "bot_name": {name + " notes"}, "platform": {name},
			})
			if resp.StatusCode != 200 || resp.Request.URL.Query().Get("created") == "" {
				t.Fatalf("launch: %s %d\n%s", resp.Request.URL, resp.StatusCode, page)
			}
			p.WaitBots("Your bot is waiting for you: join the meeting now")
			_, mpage := p.Get(d.ZoomURL + "/j/" + meeting)
			if !strings.Contains(mpage, "DEMO") || !strings.Contains(mpage, "Join as Demo User") {
				t.Fatalf("meeting page:\n%s", mpage)
			}
			p.Post(d.ZoomURL+"/j/"+meeting+"/join", nil)
			p.WaitBots("in the call")
			p.Post(d.ZoomURL+"/j/"+meeting+"/leave", nil)
			p.WaitBots("left when you left")
		})
	}
	p.T = t
	_, page = p.Get(d.URL + "/")
	for _, secret := range []string{"zat_", "zrt_", "whsec_", "auth_token=", "sig="} {
		if strings.Contains(page, secret) {
			t.Errorf("the home page shows %q", secret)
		}
	}
}

// TestDemoDecline: declining on the consent page brings the person back
// with a readable error and nothing connected.
func TestDemoDecline(t *testing.T) {
	d := demotest.Start(t, allPlatforms[:1], pace)
	p := demotest.NewPerson(t, d)
	resp, page := p.Consent("decline")
	if resp.StatusCode < 400 || !strings.Contains(page, "DEMO") || !strings.Contains(page, "Try again") {
		t.Fatalf("after decline: %d\n%s", resp.StatusCode, page)
	}
	if resp, _ = p.Get(d.URL + "/launch"); resp.Request.URL.Path != "/" {
		t.Fatalf("launch after decline went to %s, want the home page", resp.Request.URL)
	}
}

var openLine = regexp.MustCompile(`open (http://127\.0\.0\.1:\d+) in a browser`)

// TestRun: `onbehalf demo` prints the URL to open first, then the API
// playground, serves the marked pages there, and stops cleanly.
func TestRun(t *testing.T) {
	var out, errOut logtest.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	getenv := func(k string) string { return map[string]string{"PORT": "0"}[k] }
	code := make(chan int, 1)
	go func() {
		code <- demo.Run(ctx, demo.Process{Getenv: getenv, Stdout: &out, Stderr: &errOut}, demo.Options{Start: demotest.StartApp})
	}()
	var m []string
	deadline := time.Now().Add(10 * time.Second)
	for m == nil {
		if m = openLine.FindStringSubmatch(out.String()); m == nil {
			if time.Now().After(deadline) {
				t.Fatalf("no URL printed; stdout %q, stderr %q", out.String(), errOut.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for !strings.Contains(out.String(), "Webhooks:") {
		if time.Now().After(deadline) {
			t.Fatalf("no playground printed; stdout %q", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if first, _, _ := strings.Cut(out.String(), "\n"); !openLine.MatchString(first) {
		t.Errorf("the first line is not the URL to open: %q", first)
	}
	checkPlayground(t, m[1], out.String())
	resp, err := http.Get(m[1] + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "DEMO") {
		t.Fatalf("the page at %s is not marked DEMO", m[1])
	}
	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("exit code %d; stderr:\n%s", c, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the demo did not stop")
	}
}

// TestNewCleansUp: Wait removes the temporary database folder.
func TestNewCleansUp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	d, err := demo.New(ctx, demo.Options{Start: demotest.StartApp})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(d.DataDir, "onbehalf.db")); err != nil {
		t.Fatalf("no database in %s: %v", d.DataDir, err)
	}
	cancel()
	if err := d.Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d.DataDir); !os.IsNotExist(err) {
		t.Fatalf("%s is still there after the demo stopped (%v)", d.DataDir, err)
	}
}

// TestPortInUse: a port in use is one clear message.
func TestPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	_, err = demo.New(context.Background(), demo.Options{Port: port, Start: func(context.Context, demo.Config) (demo.Server, error) {
		t.Fatal("started a server on a port in use")
		return nil, nil
	}})
	if err == nil || !strings.Contains(err.Error(), "is in use") || !strings.Contains(err.Error(), "PORT=") {
		t.Fatalf("error %v", err)
	}
}

// TestIgnoresDotEnv: a developer's .env (a real database, a webhook
// receiver) never reaches the demo, whose whole configuration is its own.
func TestIgnoresDotEnv(t *testing.T) {
	dir := t.TempDir()
	env := "DATABASE_URL=postgres://nobody@127.0.0.1:1/nothing\nWEBHOOK_URL=https://product.example/hooks\n"
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	d := demotest.Start(t, allPlatforms[:1], pace)
	resp, err := http.Get(d.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(d.DataDir, "onbehalf.db")); err != nil {
		t.Fatalf("the demo does not use its own database: %v", err)
	}
}
