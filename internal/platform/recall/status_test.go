package recall_test

import (
	"context"
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
	"github.com/onbehalf/onbehalf/internal/platform/recall"
	"github.com/onbehalf/onbehalf/internal/platform/recall/recalldemo"
	"github.com/onbehalf/onbehalf/internal/platform/swh"
)

// event is a status webhook body of today's shape.
func event(name, code, subCode string) string {
	sc := "null"
	if subCode != "" {
		sc = strconv.Quote(subCode)
	}
	return `{"event":"` + name + `","data":{"data":{"code":"` + code + `","sub_code":` + sc +
		`,"updated_at":"2026-03-02T09:30:15.123456Z"},"bot":{"id":"bot-uuid-1","metadata":{"onbehalf_bot_id":"bot_123"}}}}`
}

// parse runs ParseStatusWebhook on body, with a webhook-id header.
func parse(t *testing.T, a *recall.Adapter, body string) ([]onbehalf.StatusReport, error) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/webhooks/recall", strings.NewReader(body))
	r.Header.Set("webhook-id", "msg_status_1")
	return a.ParseStatusWebhook(r, []byte(body))
}

func TestParseStatusWebhook(t *testing.T) {
	a, _ := setup(t, recalldemo.Options{}, recall.Config{})
	at := time.Date(2026, 3, 2, 9, 30, 15, 123456000, time.UTC)
	cases := []struct {
		event, subCode string
		status         onbehalf.BotStatus
		message        string
		failure        onbehalf.JoinFailure
	}{
		{"joining_call", "", onbehalf.BotJoining, "joining the meeting", ""},
		{"in_waiting_room", "", onbehalf.BotWaiting, "in the waiting room", ""},
		{"in_call_not_recording", "", onbehalf.BotInCall, "in the call, not recording yet", ""},
		{"recording_permission_allowed", "", onbehalf.BotInCall, "in the call, allowed to record", ""},
		{"recording_permission_denied", "zoom_local_recording_disabled", onbehalf.BotInCall, "the host's Zoom settings do not allow local recording", ""},
		{"in_call_recording", "", onbehalf.BotInCall, "in the call, recording", ""},
		{"call_ended", "timeout_exceeded_everyone_left", onbehalf.BotDone, "everyone left the meeting", ""},
		{"call_ended", "call_ended_by_host", onbehalf.BotDone, "the host ended the meeting", ""},
		{"call_ended", "bot_kicked_from_waiting_room", onbehalf.BotDone, "the host did not let the bot in from the waiting room", onbehalf.JoinWaitingRoom},
		{"call_ended", "timeout_exceeded_waiting_room", onbehalf.BotDone, "nobody let the bot in from the waiting room in time", onbehalf.JoinWaitingRoom},
		{"call_ended", "", onbehalf.BotDone, "left the meeting", ""},
		{"call_ended", "zoom_obf_authorized_user_left", onbehalf.BotDone, "the person the bot joined for left the meeting", onbehalf.JoinUserLeft},
		{"fatal", "zoom_meeting_fail_506", onbehalf.BotFailed, "zoom meeting fail 506", onbehalf.JoinTokenWrongMeeting},
		{"done", "", onbehalf.BotDone, "done: Recall.ai finished with the bot", ""},
		{"fatal", "zoom_obf_user_not_in_meeting", onbehalf.BotFailed, "the person the bot joined for was not in the meeting", onbehalf.JoinUserNotInMeeting},
		{"fatal", "zoom_obf_token_invalid", onbehalf.BotFailed, "Zoom did not accept the on-behalf-of (OBF) token", onbehalf.JoinTokenInvalid},
		{"fatal", "meeting_not_started", onbehalf.BotFailed, "the meeting has not started: waiting for the host", onbehalf.JoinMeetingNotStarted},
		{"fatal", "zoom_something_new_and_odd", onbehalf.BotFailed, "zoom something new and odd", onbehalf.JoinOther},
		{"fatal", "", onbehalf.BotFailed, "the bot failed (Recall.ai gave no reason)", onbehalf.JoinOther},
	}
	for _, tc := range cases {
		reps, err := parse(t, a, event("bot."+tc.event, tc.event, tc.subCode))
		if err != nil || len(reps) != 1 {
			t.Errorf("%s/%s: %v, %v", tc.event, tc.subCode, reps, err)
			continue
		}
		want := onbehalf.StatusReport{Platform: "recall", PlatformBotID: "bot-uuid-1", EventID: "msg_status_1",
			Status: tc.status, Code: tc.event, SubCode: tc.subCode, Message: tc.message, Failure: tc.failure, At: at}
		if got := reps[0]; got != want {
			t.Errorf("%s/%s:\n got %+v\nwant %+v", tc.event, tc.subCode, got, want)
		}
	}

	// The code comes from the event name when data.data lacks it.
	reps, err := parse(t, a, `{"event":"bot.in_waiting_room","data":{"data":{"updated_at":"bad time"},"bot":{"id":"b2"}}}`)
	if err != nil || len(reps) != 1 || reps[0].Code != "in_waiting_room" || reps[0].Status != onbehalf.BotWaiting || !reps[0].At.IsZero() {
		t.Errorf("no code, bad time: %+v, %v", reps, err)
	}
}

func TestParseLegacyStatusWebhook(t *testing.T) {
	a, _ := setup(t, recalldemo.Options{}, recall.Config{})
	body := `{"event":"bot.status_change","data":{"bot_id":"bot-uuid-2","status":{"code":"call_ended","created_at":"2024-02-17T16:44:00.505440Z","sub_code":"bot_kicked_from_call","message":"The bot was kicked from the call."}}}`
	reps, err := parse(t, a, body)
	if err != nil || len(reps) != 1 {
		t.Fatalf("%v, %v", reps, err)
	}
	r := reps[0]
	if r.PlatformBotID != "bot-uuid-2" || r.Status != onbehalf.BotDone || r.Code != "call_ended" || r.SubCode != "bot_kicked_from_call" ||
		r.Message != "the host removed the bot from the meeting" || !r.At.Equal(time.Date(2024, 2, 17, 16, 44, 0, 505440000, time.UTC)) {
		t.Errorf("legacy report %+v", r)
	}
	// An unknown sub code shows Recall's own message.
	reps, _ = parse(t, a, strings.Replace(body, "bot_kicked_from_call", "brand_new_code", 1))
	if len(reps) != 1 || reps[0].Message != "The bot was kicked from the call." {
		t.Errorf("unknown legacy sub code: %+v", reps)
	}
	reps, _ = parse(t, a, `{"event":"bot.status_change","data":{"bot_id":"b","status":{"code":"in_waiting_room","sub_code":null,"message":null}}}`)
	if len(reps) != 1 || reps[0].Status != onbehalf.BotWaiting || reps[0].Message != "in the waiting room" {
		t.Errorf("legacy waiting: %+v", reps)
	}
}

func TestParseStatusWebhookIgnoresAndRefuses(t *testing.T) {
	a, _ := setup(t, recalldemo.Options{}, recall.Config{})
	for _, body := range []string{
		event("bot.recording_done", "recording_done", ""),
		event("bot.analysis_done", "analysis_done", ""),
		event("bot.something_new", "something_new", ""),
		`{"event":"recording.done","data":{"data":{"code":"done"},"recording":{"id":"r1"}}}`,
		`{"event":"transcript.done","data":{}}`,
		`{"event":"calendar.sync_events","data":null}`,
		`{"event":"bot.status_change","data":{"bot_id":"b","status":{"code":"recording_done"}}}`,
	} {
		if reps, err := parse(t, a, body); err != nil || len(reps) != 0 {
			t.Errorf("%s: %v, %v; want no report, no error", body, reps, err)
		}
	}
	for _, body := range []string{
		``, `not json`, `[]`, `{"data":{}}`, `{"event":""}`, `{"event":5}`,
		`{"event":"bot.fatal"}`,
		`{"event":"bot.fatal","data":"x"}`,
		`{"event":"bot.fatal","data":{"data":{"code":"fatal"},"bot":{}}}`,
		`{"event":"bot.status_change","data":{"status":{"code":"fatal"}}}`,
		`{"event":"bot.fatal","data":{"data":{"code":7},"bot":{"id":"b"}}}`,
	} {
		if _, err := parse(t, a, body); onbehalf.ErrorCode(err) != onbehalf.EINVALID {
			t.Errorf("%q: %v, want EINVALID", body, err)
		}
	}
}

// signed is a status webhook signed with secret under the header prefix.
func signed(t *testing.T, prefix, secret, id string, at time.Time, body string) *http.Request {
	t.Helper()
	key, err := onbehalf.ParseWebhookSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/webhooks/recall", strings.NewReader(body))
	r.Header.Set(prefix+"id", id)
	r.Header.Set(prefix+"timestamp", strconv.FormatInt(at.Unix(), 10))
	r.Header.Set(prefix+"signature", swh.Sign(key, id, at, []byte(body)))
	return r
}

func TestVerifyStatusWebhook(t *testing.T) {
	now := time.Unix(1_900_000_000, 0)
	deps := platform.Deps{Now: func() time.Time { return now }}
	body := event("bot.fatal", "fatal", "bot_errored")

	none, _ := recall.New(recall.Config{APIKey: apiKey}, deps)
	err := none.VerifyStatusWebhook(signed(t, "webhook-", verificationSecret, "msg_0", now, body), []byte(body))
	if onbehalf.ErrorCode(err) != onbehalf.EUNAUTHORIZED || !strings.Contains(onbehalf.ErrorMessage(err), "RECALL_VERIFICATION_SECRET") ||
		!strings.Contains(onbehalf.ErrorMessage(err), "RECALL_WEBHOOK_SECRET") {
		t.Errorf("no secret: %v", err)
	}

	both, _ := recall.New(recall.Config{APIKey: apiKey, VerificationSecret: verificationSecret, WebhookSecret: webhookSecret}, deps)
	onlyNew, _ := recall.New(recall.Config{APIKey: apiKey, VerificationSecret: verificationSecret}, deps)
	onlyLegacy, _ := recall.New(recall.Config{APIKey: apiKey, WebhookSecret: webhookSecret}, deps)
	other := "whsec_" + strings.Repeat("QUJD", 8)
	cases := []struct {
		name string
		a    *recall.Adapter
		r    *http.Request
		body string
		ok   bool
	}{
		{"workspace secret", both, signed(t, "webhook-", verificationSecret, "msg_1", now, body), body, true},
		{"legacy svix", both, signed(t, "svix-", webhookSecret, "msg_2", now, body), body, true},
		{"legacy secret, webhook- headers", both, signed(t, "webhook-", webhookSecret, "msg_3", now, body), body, true},
		{"only the workspace secret", onlyNew, signed(t, "webhook-", verificationSecret, "msg_4", now, body), body, true},
		{"only the legacy secret", onlyLegacy, signed(t, "svix-", webhookSecret, "msg_5", now, body), body, true},
		{"legacy secret not configured", onlyNew, signed(t, "svix-", webhookSecret, "msg_6", now, body), body, false},
		{"another secret", both, signed(t, "webhook-", other, "msg_7", now, body), body, false},
		{"body changed", both, signed(t, "webhook-", verificationSecret, "msg_8", now, body), strings.Replace(body, "bot_errored", "call_ended_by_host", 1), false},
		{"stale", both, signed(t, "webhook-", verificationSecret, "msg_9", now.Add(-10*time.Minute), body), body, false},
		{"unsigned", both, httptest.NewRequest(http.MethodPost, "/webhooks/recall", strings.NewReader(body)), body, false},
	}
	for _, tc := range cases {
		err := tc.a.VerifyStatusWebhook(tc.r, []byte(tc.body))
		if tc.ok && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		} else if !tc.ok && onbehalf.ErrorCode(err) != onbehalf.EUNAUTHORIZED {
			t.Errorf("%s: %v, want EUNAUTHORIZED", tc.name, err)
		}
	}
	// Svix retries a failed delivery with the same ID: it passes, and the
	// store drops the duplicate by its EventID.
	for i := 0; i < 2; i++ {
		if err := both.VerifyStatusWebhook(signed(t, "webhook-", verificationSecret, "msg_1", now.Add(time.Duration(i)*time.Second), body), []byte(body)); err != nil {
			t.Errorf("retry %d: %v", i, err)
		}
	}
}

// TestSendStatus has the fake deliver status webhooks to a receiver that
// verifies and parses them like the server.
func TestSendStatus(t *testing.T) {
	for _, ws := range []struct {
		name string
		o    recalldemo.Options
		c    recall.Config
	}{
		{"workspace secret", recalldemo.Options{VerificationSecret: verificationSecret}, recall.Config{VerificationSecret: verificationSecret}},
		{"legacy workspace", recalldemo.Options{VerificationSecret: verificationSecret, WebhookSecret: webhookSecret}, recall.Config{VerificationSecret: verificationSecret, WebhookSecret: webhookSecret}},
	} {
		var mu sync.Mutex
		var got []onbehalf.StatusReport
		var a *recall.Adapter
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if err := a.VerifyStatusWebhook(r, body); err != nil {
				http.Error(w, onbehalf.ErrorMessage(err), onbehalf.HTTPStatus(err))
				return
			}
			reps, err := a.ParseStatusWebhook(r, body)
			if err != nil {
				http.Error(w, onbehalf.ErrorMessage(err), onbehalf.HTTPStatus(err))
				return
			}
			mu.Lock()
			got = append(got, reps...)
			mu.Unlock()
		}))
		ws.o.WebhookURL = receiver.URL + "/webhooks/recall"
		a, fake := setup(t, ws.o, ws.c)
		created, err := a.CreateBot(context.Background(), botRequest())
		if err != nil {
			t.Fatal(err)
		}
		id := created.PlatformBotID
		ctx := context.Background()
		steps := []struct {
			s      onbehalf.BotStatus
			reason string
		}{
			{onbehalf.BotCreated, ""}, {onbehalf.BotJoining, ""}, {onbehalf.BotWaiting, ""}, {onbehalf.BotInCall, ""},
			{onbehalf.BotDone, ""}, {onbehalf.BotFailed, "zoom_obf_user_not_in_meeting"},
		}
		for _, st := range steps {
			if err := fake.SendStatus(ctx, id, st.s, st.reason); err != nil {
				t.Fatalf("%s: SendStatus(%s): %v", ws.name, st.s, err)
			}
		}
		mu.Lock()
		var seen []string
		for _, r := range got {
			if r.PlatformBotID != id || r.EventID == "" || r.At.IsZero() {
				t.Errorf("%s: report %+v", ws.name, r)
			}
			seen = append(seen, string(r.Status)+":"+r.Message)
		}
		mu.Unlock()
		want := "joining:joining the meeting|waiting:in the waiting room|in_call:in the call, recording|done:everyone left the meeting|failed:the person the bot joined for was not in the meeting"
		if strings.Join(seen, "|") != want {
			t.Errorf("%s: reports\n %s\nwant\n %s", ws.name, strings.Join(seen, "|"), want)
		}
		if err := fake.SendStatus(ctx, "no-such-bot", onbehalf.BotJoining, ""); err == nil {
			t.Errorf("%s: unknown bot accepted", ws.name)
		}
		receiver.Close()
	}
}
