package demo_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/app"
	"github.com/onbehalf/onbehalf/internal/demo"
	"github.com/onbehalf/onbehalf/internal/demotest"
	"github.com/onbehalf/onbehalf/internal/events"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/attendee"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// curlLine is a printed POST call: its URL and JSON body.
var curlLine = regexp.MustCompile(`curl -s -X POST (\S+) -H "Authorization: Bearer \$ONBEHALF_API_KEY" -H 'Content-Type: application/json' -d '([^']*)'`)

// linkLine is a printed GET or DELETE of the connect link: its -X option
// and URL.
var linkLine = regexp.MustCompile(`curl -s (-X DELETE )?(\S+/api/v1/connect-links/\$LINK_ID) -H "Authorization: Bearer \$ONBEHALF_API_KEY"\n`)

// checkPlayground checks what Run printed for a backend developer: the
// key once, and curl lines for this run's URL that work as printed.
func checkPlayground(t *testing.T, base, out string) {
	t.Helper()
	keys := regexp.MustCompile(`obk_[A-Za-z0-9_-]{20,}`).FindAllString(out, -1)
	if len(keys) != 1 || !strings.Contains(out, "export ONBEHALF_API_KEY="+keys[0]+"\n") {
		t.Fatalf("the key is not printed exactly once as a shell variable:\n%s", out)
	}
	calls := curlLine.FindAllStringSubmatch(out, -1)
	if len(calls) != 2 || !strings.Contains(out, "curl -N "+base+"/api/v1/events ") {
		t.Fatalf("want the connect-link, token and events curl lines for %s:\n%s", base, out)
	}
	for _, c := range calls {
		if !strings.HasPrefix(c[1], base+"/api/v1/") {
			t.Errorf("curl line for %s, not this run's %s", c[1], base)
		}
	}
	status, body := apiCall(t, keys[0], http.MethodPost, calls[0][1], calls[0][2])
	var link struct{ ID, Status string }
	if status != http.StatusCreated || !strings.Contains(body, base+"/connect/") || json.Unmarshal([]byte(body), &link) != nil || link.ID == "" {
		t.Fatalf("the printed connect-link call: %d %s", status, body)
	}
	// The link's GET and DELETE lines, with LINK_ID set as they say.
	follow := linkLine.FindAllStringSubmatch(out, -1)
	if len(follow) != 2 || follow[0][1] != "" || follow[1][1] != "-X DELETE " {
		t.Fatalf("want the connect link's GET and DELETE lines:\n%s", out)
	}
	for i, want := range []string{"pending", "revoked"} {
		method := strings.TrimSpace(strings.TrimPrefix(follow[i][1], "-X "))
		status, body := apiCall(t, keys[0], cmp.Or(method, http.MethodGet), strings.ReplaceAll(follow[i][2], "$LINK_ID", link.ID), "")
		if status != http.StatusOK || json.Unmarshal([]byte(body), &link) != nil || link.Status != want {
			t.Fatalf("the printed %s line: %d %s, want %s", cmp.Or(method, "GET"), status, body, want)
		}
	}
	// Nobody has connected yet: the token call answers, saying so.
	if status, body := apiCall(t, keys[0], http.MethodPost, calls[1][1], calls[1][2]); status != http.StatusNotFound {
		t.Fatalf("the printed token call before connecting: %d %s", status, body)
	}
}

// apiCall makes an API call with key and returns its status and body.
func apiCall(t *testing.T, key, method, u, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestDemoAPIPlayground: the demo's API answers with its key (the
// description and reference page with none), mints for the demo person
// once connected, and its events reach the demo's receiver, signatures
// checked, and the developer's WEBHOOK_URL, still signed.
func TestDemoAPIPlayground(t *testing.T) {
	secret := events.NewSecret()
	verify, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var forwarded []string
	theirs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if err := verify.Verify(b, r.Header); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		mu.Lock()
		forwarded = append(forwarded, string(b))
		mu.Unlock()
	}))
	defer theirs.Close()
	d := demotest.StartOptions(t, demo.Options{Platforms: app.Platforms[:1], Pace: pace, ForwardWebhooks: theirs.URL, WebhookSecret: secret})
	if d.APIKey == "" || d.WebhooksURL == "" {
		t.Fatalf("key %q, webhooks page %q", d.APIKey, d.WebhooksURL)
	}
	for _, path := range []string{"/api/v1/openapi.json", "/api/v1/reference"} {
		if status, _ := apiCall(t, "", http.MethodGet, d.URL+path, ""); status != http.StatusOK {
			t.Fatalf("%s without a key: %d", path, status)
		}
	}
	if status, _ := apiCall(t, "", http.MethodGet, d.URL+"/api/v1/connections", ""); status != http.StatusUnauthorized {
		t.Fatalf("connections without a key: %d", status)
	}
	p := demotest.NewPerson(t, d)
	p.Connect()
	status, body := apiCall(t, d.APIKey, http.MethodPost, d.URL+"/api/v1/tokens", `{"zoom_user_id":"`+zoomdemo.DefaultUserID+`","kind":"obf","meeting_id":"`+demo.PlaygroundMeeting+`"}`)
	var tok struct{ Token, Kind string }
	if status != http.StatusOK || json.Unmarshal([]byte(body), &tok) != nil || tok.Token == "" || tok.Kind != "obf" {
		t.Fatalf("minting for the demo person: %d %s", status, body)
	}
	page := waitPage(t, d.WebhooksURL, "connection.created")
	if !strings.Contains(page, verified) || strings.Contains(page, refused) || !strings.Contains(page, "forwarded: 200 OK") {
		t.Fatalf("webhooks page:\n%s", page)
	}
	eventually(t, "the forward to WEBHOOK_URL", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(forwarded) > 0 && strings.Contains(forwarded[0], `"connection.created"`)
	})
	// A delivery not signed with the secret is refused and shown as such,
	// unread and not forwarded.
	req, _ := http.NewRequest(http.MethodPost, strings.TrimSuffix(d.WebhooksURL, "/")+demo.HookPath,
		bytes.NewReader([]byte(`{"type":"forged.event","data":{}}`)))
	req.Header.Set("webhook-id", "msg_forged")
	req.Header.Set("webhook-timestamp", "1")
	req.Header.Set("webhook-signature", "v1,AAAA")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged delivery: %d", resp.StatusCode)
	}
	page = waitPage(t, d.WebhooksURL, "msg_forged")
	if !strings.Contains(page, refused) || strings.Contains(page, "forged.event") {
		t.Fatalf("the forged delivery on the page:\n%s", page)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, f := range forwarded {
		if strings.Contains(f, "forged") {
			t.Fatal("a forged delivery was forwarded")
		}
	}
}

// The marks of a delivery on the receiver's page.
const (
	verified = `<span class="ok" title="signature verified">✓</span>`
	refused  = `<span class="bad" title="signature refused">✗</span>`
)

// waitPage reloads u until it holds want, and returns it.
func waitPage(t *testing.T, u, want string) string {
	t.Helper()
	var page string
	eventually(t, want+" on "+u, func() bool {
		_, page = apiCall(t, "", http.MethodGet, u, "")
		return strings.Contains(page, want)
	})
	return page
}

// eventually waits until cond holds, for 20 seconds at most (a retried
// delivery comes after the backoff and the deliverer's poll).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: never happened", what)
		}
	}
}

// TestDemoForwardRefusedIsRetried: when the developer's WEBHOOK_URL
// refuses a delivery, the demo's receiver refuses it too, so the server
// delivers it again, with the same webhook-id, as it would in production.
func TestDemoForwardRefusedIsRetried(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	theirs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if calls++; calls == 1 {
			http.Error(w, "not yet", http.StatusServiceUnavailable)
		}
	}))
	defer theirs.Close()
	d := demotest.StartOptions(t, demo.Options{Platforms: app.Platforms[:1], Pace: pace, ForwardWebhooks: theirs.URL})
	demotest.NewPerson(t, d).Connect()
	page := waitPage(t, d.WebhooksURL, "attempt 2")
	if !strings.Contains(page, "forwarded: 503 Service Unavailable") || !strings.Contains(page, "forwarded: 200 OK") {
		t.Fatalf("webhooks page:\n%s", page)
	}
}

// TestDemoAttendeeTokenURLs: the token URLs the API would hand out for
// the demo's Attendee are the server's http ones, which Attendee refuses:
// a 400 that says so, as with an http BASE_URL, not URLs its bots cannot
// use.
func TestDemoAttendeeTokenURLs(t *testing.T) {
	d := demotest.StartOptions(t, demo.Options{Platforms: []platform.Spec{attendee.Spec}, Pace: pace})
	demotest.NewPerson(t, d).Connect()
	status, body := apiCall(t, d.APIKey, http.MethodGet, d.URL+"/api/v1/connections?zoom_user_id="+zoomdemo.DefaultUserID, "")
	var list struct{ Connections []struct{ ID string } }
	if status != http.StatusOK || json.Unmarshal([]byte(body), &list) != nil || len(list.Connections) != 1 {
		t.Fatalf("the demo person's connection: %d %s", status, body)
	}
	status, body = apiCall(t, d.APIKey, http.MethodPost, d.URL+"/api/v1/connections/"+list.Connections[0].ID+"/token-urls",
		`{"platform":"attendee","meeting_id":"`+demo.PlaygroundMeeting+`"}`)
	if status != http.StatusBadRequest || !strings.Contains(body, "https") || strings.Contains(body, "token_url") {
		t.Fatalf("token URLs for the demo's Attendee: %d %s", status, body)
	}
}
