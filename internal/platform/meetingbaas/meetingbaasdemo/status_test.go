package meetingbaasdemo_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/meetingbaas/meetingbaasdemo"
	"github.com/onbehalf/onbehalf/internal/platform/swh"
)

var secret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("fake endpoint secret"))

// delivery is a request the receiver got.
type delivery struct {
	method, path string
	header       http.Header
	body         map[string]any
	raw          []byte
}

// receiver keeps what it gets and answers status.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	got    []delivery
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{status: 204}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		d := delivery{method: r.Method, path: r.URL.Path, header: r.Header, raw: raw}
		if err := json.Unmarshal(raw, &d.body); err != nil {
			t.Errorf("delivery is not JSON: %s", raw)
		}
		rc.mu.Lock()
		rc.got = append(rc.got, d)
		status := rc.status
		rc.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// take returns the deliveries so far and forgets them.
func (rc *receiver) take() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	got := rc.got
	rc.got = nil
	return got
}

// path returns a JSON value of v at a dotted path.
func path(v any, p string) any {
	for _, k := range strings.Split(p, ".") {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

func TestSendStatusWebhook(t *testing.T) {
	rc := newReceiver(t)
	now := time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC)
	f := newFake(t, meetingbaasdemo.Options{WebhookSecret: secret, WebhookURL: rc.URL + "/webhooks/meetingbaas", Now: func() time.Time { return now }})
	id := launch(t, f, `, "extra": {"onbehalf_bot_id": "bot_1"}`)
	v, err := swh.New("Meeting BaaS", "SECRET", secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		status onbehalf.BotStatus
		reason string
		event  string
		code   string
	}{
		{onbehalf.BotCreated, "", "bot.status_change", "queued"},
		{onbehalf.BotJoining, "", "bot.status_change", "joining_call"},
		{onbehalf.BotWaiting, "", "bot.status_change", "in_waiting_for_host"},
		{onbehalf.BotWaiting, "in_waiting_room", "bot.status_change", "in_waiting_room"},
		{onbehalf.BotInCall, "", "bot.status_change", "in_call_recording"},
		{onbehalf.BotDone, "", "bot.status_change", "call_ended"},
		{onbehalf.BotFailed, "", "bot.failed", "WAITING_FOR_AUTHORIZED_USER_TIMEOUT"},
		{onbehalf.BotFailed, "ZOOM_OBF_TOKEN_ERROR", "bot.failed", "ZOOM_OBF_TOKEN_ERROR"},
		{onbehalf.BotFailed, "the bot fell over", "bot.failed", "UNKNOWN_ERROR"},
	} {
		if err := f.SendStatus(ctx, id, tc.status, tc.reason); err != nil {
			t.Fatalf("%s %q: %v", tc.status, tc.reason, err)
		}
		got := rc.take()
		if len(got) != 1 {
			t.Fatalf("%s: %d deliveries, want 1 (the bot has no callback)", tc.status, len(got))
		}
		d := got[0]
		if _, err := v.Verify(d.header, d.raw, now, "x"); err != nil {
			t.Errorf("%s: Svix signature: %v", tc.status, err)
		}
		if !strings.HasPrefix(d.header.Get("svix-id"), "msg_") || d.method != "POST" || d.path != "/webhooks/meetingbaas" {
			t.Errorf("%s: %s %s %v", tc.status, d.method, d.path, d.header)
		}
		b := d.body
		if b["event"] != tc.event || path(b, "data.bot_id") != id || path(b, "extra.onbehalf_bot_id") != "bot_1" {
			t.Errorf("%s: body %v", tc.status, b)
		}
		if tc.event == "bot.status_change" {
			if path(b, "data.status.code") != tc.code || path(b, "data.status.created_at") != "2026-03-02T10:30:00.000Z" {
				t.Errorf("%s: status %v", tc.status, path(b, "data.status"))
			}
		} else if path(b, "data.error_code") != tc.code || path(b, "data.error_message") == "" || path(b, "data.sent_at") != "2026-03-02T10:30:00.000Z" {
			t.Errorf("%s %q: %v", tc.status, tc.reason, path(b, "data"))
		}
	}
	if err := f.SendStatus(ctx, id, onbehalf.BotFailed, "the bot fell over"); err != nil {
		t.Fatal(err)
	}
	if d := rc.take()[0]; path(d.body, "data.error_message") != "the bot fell over" {
		t.Errorf("free text reason: %v", d.body)
	}

	rc.mu.Lock()
	rc.status = 401
	rc.mu.Unlock()
	if err := f.SendStatus(ctx, id, onbehalf.BotJoining, ""); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("refused delivery: %v", err)
	}
	if err := f.SendStatus(ctx, "nobody", onbehalf.BotJoining, ""); err == nil {
		t.Error("unknown bot: no error")
	}
}

func TestSendStatusCallback(t *testing.T) {
	rc := newReceiver(t)
	f := newFake(t, meetingbaasdemo.Options{})
	id := launch(t, f, `, "callback_enabled": true, "callback_config": {"url": "`+rc.URL+`/cb?sig=x", "secret": "s3cret", "method": "PUT"}`)
	if err := f.SendStatus(ctx, id, onbehalf.BotJoining, ""); err == nil || !strings.Contains(err.Error(), "nowhere to send") {
		t.Errorf("status change without an account webhook: %v (callbacks carry completion and failure only)", err)
	}
	if err := f.SendStatus(ctx, id, onbehalf.BotDone, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.SendStatus(ctx, id, onbehalf.BotFailed, ""); err != nil {
		t.Fatal(err)
	}
	got := rc.take()
	if len(got) != 2 {
		t.Fatalf("%d deliveries", len(got))
	}
	for i, event := range []string{"bot.completed", "bot.failed"} {
		d := got[i]
		if d.method != "PUT" || d.path != "/cb" || d.header.Get("x-mb-secret") != "s3cret" || d.header.Get("svix-signature") != "" ||
			d.body["event"] != event || path(d.body, "data.bot_id") != id {
			t.Errorf("%s: %s %s %v %v", event, d.method, d.path, d.header, d.body)
		}
	}
	if path(got[0].body, "data.exited_at") == nil || path(got[1].body, "data.error_code") != meetingbaasdemo.DefaultErrorCode {
		t.Errorf("bodies %v / %v", got[0].body, got[1].body)
	}

	// Without a secret: no x-mb-secret; with an account webhook too: both.
	f2 := newFake(t, meetingbaasdemo.Options{WebhookURL: rc.URL + "/hook"})
	id = launch(t, f2, `, "callback_enabled": true, "callback_config": {"url": "`+rc.URL+`/cb"}`)
	if err := f2.SendStatus(ctx, id, onbehalf.BotFailed, ""); err != nil {
		t.Fatal(err)
	}
	got = rc.take()
	if len(got) != 2 || got[0].path != "/cb" || got[0].method != "POST" || got[0].header.Get("x-mb-secret") != "" || got[1].path != "/hook" {
		t.Errorf("deliveries %+v", got)
	}
	// callback_config without callback_enabled: no callback.
	id = launch(t, f2, `, "callback_config": {"url": "`+rc.URL+`/cb"}`)
	if err := f2.SendStatus(ctx, id, onbehalf.BotDone, ""); err != nil {
		t.Fatal(err)
	}
	if got = rc.take(); len(got) != 1 || got[0].path != "/hook" {
		t.Errorf("deliveries %+v", got)
	}
}
