package app_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/logtest"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// reply is one response of the server as a client saw it.
type reply struct {
	path   string
	status int
	header http.Header
	body   string
}

// recordingProxy stands in front of the app at a fixed public URL
// (BASE_URL) and records every reply the app gives, whatever client asked.
type recordingProxy struct {
	*httptest.Server
	target  atomic.Pointer[url.URL]
	mu      sync.Mutex
	replies []reply
}

func newRecordingProxy(t *testing.T) *recordingProxy {
	p := &recordingProxy{}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(p.target.Load()) },
		ModifyResponse: func(resp *http.Response) error {
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			resp.Body = io.NopCloser(bytes.NewReader(b))
			p.mu.Lock()
			p.replies = append(p.replies, reply{resp.Request.URL.Path, resp.StatusCode, resp.Header.Clone(), string(b)})
			p.mu.Unlock()
			return err
		},
	}
	p.Server = httptest.NewServer(rp)
	t.Cleanup(p.Close)
	return p
}

// start starts the app and points the proxy at it.
func (p *recordingProxy) start(t *testing.T, f *fakes, logs io.Writer) (stop func()) {
	t.Helper()
	a, stop := startApp(t, f, logs)
	u, _ := url.Parse("http://" + strings.Replace(a.Addr(), "[::]", "127.0.0.1", 1))
	p.target.Store(u)
	return stop
}

// launchWithZAK connects as a new browser and launches a bot with the
// "bot signs in as me (ZAK)" box checked; it returns both token URLs.
func launchWithZAK(t *testing.T, base string, f *fakes) (obf, zak string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := b.Get(base + "/zoom/oauth")
	if err != nil {
		t.Fatal(err)
	}
	if page := read(resp); !strings.Contains(page, `name="use_zak"`) {
		t.Fatalf("launch form has no ZAK box:\n%s", page)
	}
	resp, err = b.PostForm(base+"/launch", url.Values{"meeting_url": {"https://zoom.us/j/85012345678"}, "use_zak": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	if page := read(resp); resp.StatusCode != 200 {
		t.Fatalf("launch with ZAK: %d\n%s", resp.StatusCode, page)
	}
	bots := f.recall.Bots()
	z := bots[len(bots)-1].TokenURLs
	if z[onbehalf.KindOBF] == "" || !strings.HasPrefix(z[onbehalf.KindZAK], base+"/recall/zak-callback?") {
		t.Fatalf("recall got %+v", z)
	}
	return z[onbehalf.KindOBF], z[onbehalf.KindZAK]
}

// recallHeaders signs a GET like Recall does (Standard Webhooks).
func recallHeaders(key []byte, id string, ts time.Time) http.Header {
	s := strconv.FormatInt(ts.Unix(), 10)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + s + "."))
	return http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {s},
		"Webhook-Signature": {"v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))}}
}

// getWith GETs u with headers and returns the status.
func getWith(t *testing.T, u string, h http.Header) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	read(resp)
	return resp.StatusCode
}

func TestNothingSecretLeaks(t *testing.T) {
	f := newFakes(t)
	p := newRecordingProxy(t)
	const obfSecret = "leak-test-obf-callback-secret-0123456789"
	const sessionSecret = "leak-test-session-secret-0123456789-abcdefgh"
	recallKey := []byte("leak-test-recall-verification-key-32b")
	whsec := "whsec_" + base64.StdEncoding.EncodeToString(recallKey)
	f.env["BASE_URL"] = p.URL
	f.env["OBF_CALLBACK_SECRET"] = obfSecret
	f.env["SESSION_SECRET"] = sessionSecret
	f.env["ALLOW_ZAK"] = "true" // ZAK URLs are searched for leaks too
	logs := &logtest.Buffer{}
	secrets := map[string]string{"OBF_CALLBACK_SECRET": obfSecret, "SESSION_SECRET": sessionSecret,
		"RECALL_VERIFICATION_SECRET": whsec[6:], "Recall API key header": "Token rkey"}
	zoomTokens := func(when string) {
		secrets["Zoom access token "+when] = f.zoom.CurrentAccessToken(zoomdemo.DefaultUserID)
		secrets["Zoom refresh token "+when] = f.zoom.CurrentRefreshToken(zoomdemo.DefaultUserID)
	}

	// Phase 1: connect, launch (plain and with ZAK), fetch, fail.
	stop := p.start(t, f, logs)
	obfURL := walk(t, p.URL, f)
	zoomTokens("after connect")
	obf2, zakURL := launchWithZAK(t, p.URL, f)
	for name, u := range map[string]string{"OBF sig": obfURL, "OBF sig 2": obf2, "ZAK sig": zakURL} {
		pu, _ := url.Parse(u)
		secrets[name] = pu.Query().Get("sig")
	}
	fetch(t, p.URL, obfURL, f)
	fetch(t, p.URL, zakURL, f)
	f.zoom.InvalidateAccess(zoomdemo.DefaultUserID) // the next fetch refreshes
	fetch(t, p.URL, obf2, f)
	zoomTokens("after refresh")
	plain := strings.Split(obfURL, "&exp=")[0] + "&auth_token="
	for _, c := range []struct {
		name string
		u    string
		want int
	}{
		{"sig changed", strings.Replace(obfURL, "sig=", "sig=A", 1), 401},
		{"meeting changed", strings.Replace(obfURL, "meeting_id=8", "meeting_id=9", 1), 401},
		{"ZAK URL as OBF", strings.Replace(zakURL, "/zak-callback", "/obf-callback", 1), 401},
		{"signed URL with a wrong auth_token", obfURL + "&auth_token=wrong", 401},
		{"wrong auth_token", plain + "wrong-" + obfSecret[:10], 401},
		{"plain URL", plain + url.QueryEscape(obfSecret), 200},
		{"auth_token holding the secret", plain + url.QueryEscape(obfSecret) + "x", 401},
		{"bad meeting_id", strings.Replace(plain, "meeting_id=8", "meeting_id=x8", 1) + url.QueryEscape(obfSecret), 400},
		{"unknown user", p.URL + "/obf-callback?user_id=nobody&meeting_id=85012345678&auth_token=" + obfSecret, 404},
	} {
		// Never print c.u: it holds secrets.
		if got := getWith(t, c.u, nil); got != c.want {
			t.Fatalf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	stop()

	// Phase 2: restart requiring Recall signatures.
	f.env["RECALL_VERIFICATION_SECRET"] = whsec
	stop = p.start(t, f, logs)
	now := time.Now()
	signed := recallHeaders(recallKey, "msg_leak_1", now)
	secrets["Recall signature"] = signed.Get("Webhook-Signature")[3:]
	for _, c := range []struct {
		name string
		u    string
		h    http.Header
		want int
	}{
		{"signed", obfURL, signed, 200},
		{"replayed", obfURL, signed, 401},
		{"signed ZAK", zakURL, recallHeaders(recallKey, "msg_leak_2", now), 200},
		{"unsigned", obfURL, nil, 401},
		{"stale", obfURL, recallHeaders(recallKey, "msg_leak_3", now.Add(-time.Hour)), 401},
		{"wrong key", obfURL, recallHeaders([]byte("wrong"), "msg_leak_4", now), 401},
	} {
		if got := getWith(t, c.u, c.h); got != c.want {
			t.Fatalf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	zoomTokens("at the end")
	stop()

	// Scan every reply and every log line.
	minted := f.zoom.Minted()
	if len(minted) < 5 {
		t.Fatalf("only %d tokens minted", len(minted))
	}
	for i, m := range minted {
		secrets["minted token "+strconv.Itoa(i)] = m
	}
	p.mu.Lock()
	replies := p.replies
	p.mu.Unlock()
	out := logs.String()
	if len(replies) < 20 || !strings.Contains(out, "level=DEBUG") {
		t.Fatalf("recorded %d replies; debug logs: %v", len(replies), strings.Contains(out, "level=DEBUG"))
	}
	for name, s := range secrets {
		if len(s) < 8 {
			t.Fatalf("%s is too short to scan for: %q", name, s)
		}
		if strings.Contains(out, s) {
			t.Errorf("logs contain the %s", name)
		}
		for _, r := range replies {
			own := strings.HasPrefix(name, "minted token") && r.status == 200 && r.body == s
			if !own && strings.Contains(r.body, s) {
				t.Errorf("reply %d %s has the %s in its body", r.status, r.path, name)
			}
			for k, vs := range r.header {
				if k != "Set-Cookie" && strings.Contains(strings.Join(vs, " "), s) {
					t.Errorf("reply %d %s has the %s in header %s", r.status, r.path, name, k)
				}
			}
		}
	}
	for _, bad := range []string{"auth_token=", "sig=", "exp="} {
		if strings.Contains(out, bad) {
			t.Errorf("logs contain a token URL query (%s)", bad)
		}
	}
}
