package meetingbaas_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/meetingbaas"
	"github.com/onbehalf/onbehalf/internal/platform/meetingbaas/meetingbaasfake"
	"github.com/onbehalf/onbehalf/internal/platform/swh"
)

const botUUID = "123e4567-e89b-42d3-a456-426614174000"

var webhookSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("meeting-baas-endpoint-secret-32b"))

// parse parses body as a webhook to PathWebhook.
func parse(t *testing.T, a *meetingbaas.Adapter, body string) ([]onbehalf.StatusReport, error) {
	t.Helper()
	return a.ParseStatusWebhook(httptest.NewRequest("POST", meetingbaas.PathWebhook, strings.NewReader(body)), []byte(body))
}

// statusChange is a bot.status_change body as Meeting BaaS sends it.
func statusChange(code, extra string) string {
	return `{"event":"bot.status_change","data":{"bot_id":"` + botUUID + `","event_id":null,"status":{"code":"` + code +
		`","created_at":"2026-03-02T10:30:00.250Z"` + extra + `}},"extra":{"onbehalf_bot_id":"bot_1"}}`
}

func TestStatusChange(t *testing.T) {
	a := newAdapter(t, meetingbaas.Config{})
	at := time.Date(2026, 3, 2, 10, 30, 0, 250e6, time.UTC)
	for _, tc := range []struct {
		code   string
		status onbehalf.BotStatus
		reason string
	}{
		{"queued", onbehalf.BotCreated, "queued"},
		{"pickup_delayed", onbehalf.BotCreated, "pickup delayed"},
		{"joining_call", onbehalf.BotJoining, "joining"},
		{"in_waiting_room", onbehalf.BotWaiting, "waiting room"},
		{"in_waiting_for_host", onbehalf.BotWaiting, "join the meeting now (it can only join while you are in it)"},
		{"in_call_not_recording", onbehalf.BotInCall, "in the call"},
		{"in_call_recording", onbehalf.BotInCall, "recording"},
		{"recording_paused", onbehalf.BotInCall, "paused"},
		{"recording_resumed", onbehalf.BotInCall, "resumed"},
		{"call_ended", onbehalf.BotDone, "you left it"},
		{"recording_succeeded", onbehalf.BotDone, "recording is ready"},
		{"transcribing", onbehalf.BotDone, "transcribing"},
		{"completed", onbehalf.BotDone, "done"},
		{"api_request_stop", onbehalf.BotDone, "asked to leave"},
		{"recording_failed", onbehalf.BotFailed, "could not produce the recording"},
		{"failed", onbehalf.BotFailed, "failed"},
		{"bot_rejected", onbehalf.BotFailed, "refused entry"},
		{"bot_removed", onbehalf.BotFailed, "removed the bot"},
		{"bot_removed_too_early", onbehalf.BotFailed, "before it could start recording"},
		{"waiting_room_timeout", onbehalf.BotFailed, "Nobody admitted the bot"},
		{"invalid_meeting_url", onbehalf.BotFailed, "meeting link"},
		{"meeting_error", onbehalf.BotFailed, "error in the meeting"},
	} {
		reps, err := parse(t, a, statusChange(tc.code, ""))
		if err != nil || len(reps) != 1 {
			t.Fatalf("%s: %v, %v", tc.code, reps, err)
		}
		r := reps[0]
		want := onbehalf.StatusReport{Platform: "meetingbaas", PlatformBotID: botUUID, EventID: "bot.status_change:" + tc.code + "@2026-03-02T10:30:00.250Z",
			Status: tc.status, Code: tc.code, At: at, Message: r.Message, Failure: platform.FailureOf(tc.status, wantFailure[tc.code])}
		if r != want {
			t.Errorf("%s: %+v\nwant %+v", tc.code, r, want)
		}
		if !strings.Contains(r.Message, tc.reason) {
			t.Errorf("%s: reason %q does not say %q", tc.code, r.Message, tc.reason)
		}
	}

	reps, _ := parse(t, a, statusChange("recording_failed", `,"error_message":"Upload\nfailed `+strings.Repeat("é", 400)+`"`))
	if m := reps[0].Message; !strings.HasPrefix(m, "Meeting BaaS could not produce the recording. Meeting BaaS says: Upload failed éé") ||
		strings.Contains(m, "\n") || len(m) > 400 || !strings.HasSuffix(m, "…") {
		t.Errorf("reason with the platform's words: %q", m)
	}
	reps, _ = parse(t, a, `{"event":"bot.status_change","data":{"bot_id":"`+botUUID+`","status":{"code":"queued","created_at":"yesterday"}}}`)
	if r := reps[0]; !r.At.IsZero() || r.EventID != "bot.status_change:queued@yesterday" {
		t.Errorf("unreadable created_at: At %v, EventID %q: want zero (dated when received), the ID as sent", r.At, r.EventID)
	}
	reps, _ = parse(t, a, `{"event":"bot.status_change","data":{"bot_id":"`+botUUID+`","status":{"code":"queued"}}}`)
	if r := reps[0]; !r.At.IsZero() || r.EventID != "" {
		t.Errorf("no created_at: At %v, EventID %q: want zero and no ID (not one ID for every such change)", r.At, r.EventID)
	}
}

// wantFailure is the failure of the status codes that name one.
var wantFailure = map[string]onbehalf.JoinFailure{
	"bot_rejected": onbehalf.JoinWaitingRoom, "waiting_room_timeout": onbehalf.JoinWaitingRoom,
}

func TestFailedAndCompleted(t *testing.T) {
	a := newAdapter(t, meetingbaas.Config{})
	failed := func(code, msg string) string {
		return `{"event":"bot.failed","data":{"bot_id":"` + botUUID + `","event_id":"789e0123-e45b-47c8-9901-234567890abc","error_code":"` + code +
			`","error_message":"` + msg + `","sent_at":"2026-03-02T10:40:00Z"},"extra":null}`
	}
	for _, tc := range []struct {
		body, sub, msg string
		failure        onbehalf.JoinFailure
	}{
		{failed("WAITING_FOR_AUTHORIZED_USER_TIMEOUT", "Timed out waiting for the authorized user"), "WAITING_FOR_AUTHORIZED_USER_TIMEOUT",
			"You did not join the meeting in time: the bot can only join while you are in it. Meeting BaaS says: Timed out waiting for the authorized user", onbehalf.JoinUserNotInMeeting},
		{failed("WAITING_FOR_HOST_TIMEOUT", ""), "WAITING_FOR_HOST_TIMEOUT",
			"Nobody let the bot in in time: the meeting did not start, or you did not join it (the bot can only join while you are in it).", onbehalf.JoinMeetingNotStarted},
		{failed("ZOOM_OBF_TOKEN_ERROR", ""), "ZOOM_OBF_TOKEN_ERROR", "The bot got no usable OBF token from this server's token URL: see its token fetches.", onbehalf.JoinTokenInvalid},
		{failed("BOT_CRASHED", "The bot crashed"), "BOT_CRASHED", "The bot failed: The bot crashed (BOT_CRASHED)", onbehalf.JoinOther},
		{failed("MEETING_ENDED", ""), "MEETING_ENDED", "Meeting BaaS reports that the bot failed (MEETING_ENDED).", onbehalf.JoinOther},
		{failed("MEETING_ERROR", "Zoom meeting failed with code 506"), "MEETING_ERROR",
			"The bot failed: Zoom meeting failed with code 506 (MEETING_ERROR)", onbehalf.JoinTokenWrongMeeting},
		{failed("", ""), "", "Meeting BaaS reports that the bot failed, without saying why.", onbehalf.JoinOther},
	} {
		reps, err := parse(t, a, tc.body)
		if err != nil || len(reps) != 1 {
			t.Fatalf("%s: %v, %v", tc.sub, reps, err)
		}
		want := onbehalf.StatusReport{Platform: "meetingbaas", PlatformBotID: botUUID, EventID: "bot.failed", Status: onbehalf.BotFailed,
			Code: "bot.failed", SubCode: tc.sub, Message: tc.msg, Failure: tc.failure, At: time.Date(2026, 3, 2, 10, 40, 0, 0, time.UTC)}
		if reps[0] != want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.sub, reps[0], want)
		}
	}

	completed := `{"event":"bot.completed","data":{"bot_id":"` + botUUID + `","event_id":null,"participants":[],"speakers":[],"duration_seconds":60,` +
		`"joined_at":"2026-03-02T10:31:00Z","exited_at":"2026-03-02T10:32:00Z","data_deleted":false,"video":null,"audio":null,` +
		`"sent_at":"2026-03-02T10:35:00Z"},"extra":{"onbehalf_bot_id":"bot_1"}}`
	reps, err := parse(t, a, completed)
	if err != nil || len(reps) != 1 {
		t.Fatal(reps, err)
	}
	if r := reps[0]; r.Status != onbehalf.BotDone || r.Code != "bot.completed" || r.EventID != "bot.completed" ||
		!r.At.Equal(time.Date(2026, 3, 2, 10, 32, 0, 0, time.UTC)) {
		t.Errorf("completed: %+v, want done at exited_at", r)
	}
	// The guide's example: no exited_at or sent_at, extra inside data.
	reps, _ = parse(t, a, `{"event":"bot.completed","data":{"bot_id":"`+botUUID+`","mp4":"https://s3/x","extra":{"a":"b"}}}`)
	if r := reps[0]; r.Status != onbehalf.BotDone || !r.At.IsZero() {
		t.Errorf("completed without times: %+v", r)
	}
}

func TestIgnoredAndUnreadable(t *testing.T) {
	a := newAdapter(t, meetingbaas.Config{})
	for _, body := range []string{
		`{"event":"bot.chat_message","data":{"bot_id":"` + botUUID + `","text":"hi"}}`,
		`{"event":"calendar.event_created","data":{"calendar_id":"c"}}`,
		`{"event":"transcription_complete","data":{"bot_id":"` + botUUID + `"}}`,
		statusChange("some_new_code", ""),
	} {
		if reps, err := parse(t, a, body); err != nil || len(reps) != 0 {
			t.Errorf("%s: %v, %v; want no report, no error", body, reps, err)
		}
	}
	for _, body := range []string{
		``, `not json`, `[]`, `{}`, `{"data":{"bot_id":"x"}}`, `{"event":5}`,
		`{"event":"bot.status_change"}`,
		`{"event":"bot.status_change","data":"x"}`,
		`{"event":"bot.status_change","data":{"status":{"code":"queued"}}}`,
		`{"event":"bot.status_change","data":{"bot_id":"` + botUUID + `"}}`,
		`{"event":"bot.status_change","data":{"bot_id":"` + botUUID + `","status":{"created_at":"2026-03-02T10:30:00Z"}}}`,
		`{"event":"bot.failed","data":{"bot_id":5}}`,
		`{"event":"bot.failed","data":{"bot_id":"a b"}}`,
		`{"event":"bot.completed","data":{"bot_id":"` + strings.Repeat("x", 200) + `"}}`,
	} {
		if reps, err := parse(t, a, body); onbehalf.ErrorCode(err) != onbehalf.EINVALID || reps != nil {
			t.Errorf("%s: %v, %v; want EINVALID", body, reps, err)
		}
	}
}

func TestVerifyStatusWebhook(t *testing.T) {
	now := time.Unix(1_780_000_000, 0)
	a := newAdapterWith(t, meetingbaas.Config{WebhookSecret: webhookSecret}, platform.Deps{Now: func() time.Time { return now }})
	key, _ := onbehalf.ParseWebhookSecret(webhookSecret)
	body := []byte(statusChange("queued", ""))
	request := func(id string, ts time.Time, sig string, body []byte) *http.Request {
		r := httptest.NewRequest("POST", meetingbaas.PathWebhook, strings.NewReader(string(body)))
		for k, v := range map[string]string{"svix-id": id, "svix-timestamp": strconv.FormatInt(ts.Unix(), 10), "svix-signature": sig} {
			if v != "" {
				r.Header.Set(k, v)
			}
		}
		return r
	}
	good := swh.Sign(key, "msg_1", now, body)
	if err := a.VerifyStatusWebhook(request("msg_1", now, good, body), body); err != nil {
		t.Fatalf("good signature: %v", err)
	}
	// Svix retries with the same svix-id: not a replay to refuse (the
	// report is de-duplicated by its event ID).
	if err := a.VerifyStatusWebhook(request("msg_1", now, good, body), body); err != nil {
		t.Errorf("retried delivery: %v", err)
	}
	other := swh.Sign([]byte("another key"), "msg_2", now, body)
	stale := now.Add(-6 * time.Minute)
	for name, r := range map[string]*http.Request{
		"bad signature":     request("msg_2", now, other, body),
		"body changed":      request("msg_1", now, good, []byte(statusChange("failed", ""))),
		"no signature":      request("msg_3", now, "", body),
		"no id":             request("", now, good, body),
		"stale":             request("msg_4", stale, swh.Sign(key, "msg_4", stale, body), body),
		"signed for msg_1":  request("msg_5", now, good, body),
		"other v1 and junk": request("msg_6", now, "v0,abc v1,!!! "+other, body),
	} {
		b, _ := io.ReadAll(r.Body)
		if err := a.VerifyStatusWebhook(r, b); onbehalf.ErrorCode(err) != onbehalf.EUNAUTHORIZED {
			t.Errorf("%s: %v, want EUNAUTHORIZED", name, err)
		}
	}

	unset := newAdapter(t, meetingbaas.Config{})
	err := unset.VerifyStatusWebhook(request("msg_1", now, good, body), body)
	if onbehalf.ErrorCode(err) != onbehalf.EUNAUTHORIZED || !strings.Contains(onbehalf.ErrorMessage(err), "MEETINGBAAS_WEBHOOK_SECRET") {
		t.Errorf("no secret: %v, want EUNAUTHORIZED naming MEETINGBAAS_WEBHOOK_SECRET", err)
	}
	if _, err := meetingbaas.New(meetingbaas.Config{APIKey: testKey, WebhookSecret: "not-whsec"}, platform.Deps{}); err == nil || !strings.Contains(err.Error(), "MEETINGBAAS_WEBHOOK_SECRET") {
		t.Errorf("bad secret: %v", err)
	}
}

// receiver is this server's status webhook, as far as the adapter goes:
// the account webhook verified with the Svix secret, callbacks (to the
// status URL, which the server signed) only parsed.
type receiver struct {
	a       *meetingbaas.Adapter
	mu      sync.Mutex
	reports []onbehalf.StatusReport
	via     []string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	via := "callback"
	if r.URL.Path == meetingbaas.PathWebhook {
		via = "webhook"
		if err := rc.a.VerifyStatusWebhook(r, body); err != nil {
			http.Error(w, onbehalf.ErrorMessage(err), onbehalf.HTTPStatus(err))
			return
		}
	}
	reps, err := rc.a.ParseStatusWebhook(r, body)
	if err != nil {
		http.Error(w, onbehalf.ErrorMessage(err), onbehalf.HTTPStatus(err))
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, rep := range reps {
		rc.reports = append(rc.reports, rep)
		rc.via = append(rc.via, via+" "+string(rep.Status))
	}
}

// TestFakeStatusRoundTrip has the fake send what Meeting BaaS sends for a
// bot's life, through the account webhook and the bot's callback.
func TestFakeStatusRoundTrip(t *testing.T) {
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	f := newFake(t, meetingbaasfake.Options{WebhookSecret: webhookSecret, WebhookURL: srv.URL + meetingbaas.PathWebhook})
	rc.a = newAdapter(t, meetingbaas.Config{BaseURL: f.URL(), WebhookSecret: webhookSecret})

	ctx := context.Background()
	launch := func() string {
		req := botRequest(t, rc.a, onbehalf.KindOBF)
		req.StatusURL = srv.URL + "/status?bot=bot_1&sig=x"
		bot, err := rc.a.CreateBot(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return bot.PlatformBotID
	}
	id := launch()
	for _, s := range []onbehalf.BotStatus{onbehalf.BotCreated, onbehalf.BotJoining, onbehalf.BotWaiting, onbehalf.BotInCall, onbehalf.BotDone} {
		if err := f.SendStatus(ctx, id, s, ""); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	failedID := launch()
	if err := f.SendStatus(ctx, failedID, onbehalf.BotFailed, ""); err != nil {
		t.Fatal(err)
	}
	want := []string{"webhook created", "webhook joining", "webhook waiting", "webhook in_call", "callback done", "webhook done",
		"callback failed", "webhook failed"}
	if got := strings.Join(rc.via, ", "); got != strings.Join(want, ", ") {
		t.Errorf("received %s\nwant     %s", got, strings.Join(want, ", "))
	}
	for i, rep := range rc.reports {
		if wantID := map[bool]string{true: failedID, false: id}[i >= 6]; rep.PlatformBotID != wantID || rep.At.IsZero() {
			t.Errorf("report %d: %+v", i, rep)
		}
	}
	cb, hook := rc.reports[6], rc.reports[7]
	if cb.EventID != "bot.failed" || cb.EventID != hook.EventID || cb.SubCode != "WAITING_FOR_AUTHORIZED_USER_TIMEOUT" ||
		!strings.HasPrefix(cb.Message, "You did not join the meeting in time") {
		t.Errorf("failure: callback %+v, webhook %+v: want one event, the OBF reason", cb, hook)
	}
}
