package attendee_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/attendee"
	"github.com/onbehalf/onbehalf/internal/platform/attendee/attendeedemo"
)

// stateBody is a bot.state_change webhook body as Attendee writes it.
func stateBody(newState, eventType string, subType any) []byte {
	b, _ := json.Marshal(map[string]any{
		"idempotency_key": "0d4b9b8e-4f7c-4d0e-9a39-2b1f3c8c7a10",
		"bot_id":          "bot_x",
		"bot_metadata":    map[string]string{"onbehalf_bot_id": "bot_1"},
		"trigger":         "bot.state_change",
		"data": map[string]any{"event_type": eventType, "event_sub_type": subType, "event_metadata": map[string]any{},
			"old_state": "joining", "new_state": newState, "created_at": "2026-03-02T10:10:00.250000+00:00"},
	})
	return b
}

func TestStatusMapping(t *testing.T) {
	s := newSetup(t, attendeedemo.Options{}, attendee.Config{})
	r := httptest.NewRequest(http.MethodPost, "/webhooks/attendee", nil)
	for _, tc := range []struct {
		state, event string
		sub          any
		want         onbehalf.BotStatus
		says         string
	}{
		{"scheduled", "", nil, onbehalf.BotCreated, "start time"},
		{"staged", "staged", nil, onbehalf.BotCreated, "ready to join"},
		{"joining", "join_requested", nil, onbehalf.BotJoining, "joining"},
		{"waiting_room", "put_in_waiting_room", nil, onbehalf.BotWaiting, "host must admit"},
		{"joining", "could_not_join_meeting", "meeting_not_started_waiting_for_host", onbehalf.BotWaiting, "waiting for the host"},
		{"joined_not_recording", "joined_meeting", nil, onbehalf.BotInCall, "in the meeting"},
		{"joined_recording", "recording_permission_granted", nil, onbehalf.BotInCall, "recording"},
		{"joined_recording_paused", "recording_paused", nil, onbehalf.BotInCall, "paused"},
		{"joined_recording_permission_denied", "recording_permission_denied", "host_denied_permission", onbehalf.BotInCall, "did not allow"},
		{"joining_breakout_room", "began_joining_breakout_room", nil, onbehalf.BotInCall, "breakout"},
		{"leaving", "leave_requested", "auto_leave_only_participant_in_meeting", onbehalf.BotDone, "everyone else had left"},
		{"leaving", "leave_requested", "user_requested", onbehalf.BotDone, "asked to leave"},
		{"post_processing", "meeting_ended", nil, onbehalf.BotDone, "meeting ended"},
		{"post_processing", "left_meeting", nil, onbehalf.BotDone, "left the meeting"},
		{"ended", "post_processing_completed", nil, onbehalf.BotDone, "over"},
		{"fatal_error", "could_not_join_meeting", "authorized_user_not_in_meeting_timeout_exceeded", onbehalf.BotFailed, "You did not join the meeting in time"},
		{"fatal_error", "could_not_join_meeting", "meeting_not_started_waiting_for_host", onbehalf.BotFailed, "had not started"},
		{"fatal_error", "could_not_join_meeting", "zoom_app_cannot_join_anonymously", onbehalf.BotFailed, "without a token"},
		{"fatal_error", "could_not_join_meeting", "waiting_room_timeout_exceeded", onbehalf.BotFailed, "waiting room in time"},
		{"fatal_error", "fatal_error", "heartbeat_timeout", onbehalf.BotFailed, "(heartbeat_timeout)"},
		{"fatal_error", "fatal_error", nil, onbehalf.BotFailed, "error at Attendee"},
	} {
		reports, err := s.a.ParseStatusWebhook(r, stateBody(tc.state, tc.event, tc.sub))
		if err != nil || len(reports) != 1 {
			t.Errorf("%s/%v: %v, %v", tc.state, tc.sub, reports, err)
			continue
		}
		rep := reports[0]
		sub, _ := tc.sub.(string)
		if rep.Status != tc.want || !strings.Contains(rep.Message, tc.says) || rep.Code != tc.event || rep.SubCode != sub {
			t.Errorf("%s/%v: %+v, want %s saying %q", tc.state, tc.sub, rep, tc.want, tc.says)
		}
		if rep.Platform != "attendee" || rep.PlatformBotID != "bot_x" || rep.EventID != "0d4b9b8e-4f7c-4d0e-9a39-2b1f3c8c7a10" ||
			!rep.At.Equal(time.Date(2026, 3, 2, 10, 10, 0, 250e6, time.UTC)) {
			t.Errorf("%s: report %+v", tc.state, rep)
		}
	}
	// Of no interest: no report, no error.
	for _, body := range [][]byte{
		stateBody("ready", "", nil), stateBody("data_deleted", "data_deleted", nil), stateBody("connected", "app_session_connected", nil),
		[]byte(`{"idempotency_key": "k", "bot_id": "bot_x", "trigger": "transcript.update", "data": {"speaker_name": "A"}}`),
	} {
		if reports, err := s.a.ParseStatusWebhook(r, body); err != nil || len(reports) != 0 {
			t.Errorf("%s: %v, %v", body, reports, err)
		}
	}
	// Unreadable: EINVALID.
	for _, body := range []string{`not json`, `[]`, `{"trigger": "bot.state_change", "data": {"new_state": "joining"}}`,
		`{"trigger": "bot.state_change", "bot_id": "b", "data": "joining"}`,
		`{"trigger": "bot.state_change", "trigger": "x", "bot_id": "b", "data": {"new_state": "joining"}}`} {
		if _, err := s.a.ParseStatusWebhook(r, []byte(body)); onbehalf.ErrorCode(err) != onbehalf.EINVALID {
			t.Errorf("%s: %v, want EINVALID", body, err)
		}
	}
	// A timestamp that does not parse leaves At zero (when received).
	body := strings.Replace(string(stateBody("joining", "join_requested", nil)), "2026-03-02T10:10:00.250000+00:00", "yesterday", 1)
	if reports, err := s.a.ParseStatusWebhook(r, []byte(body)); err != nil || !reports[0].At.IsZero() {
		t.Errorf("bad created_at: %+v, %v", reports, err)
	}
}

// TestStatusWebhooksFromTheFake: the fake's webhooks, delivered to the
// bot's own status URL or to the project's, verify and parse.
func TestStatusWebhooksFromTheFake(t *testing.T) {
	project, projectGot := captureServer(t)
	s := newSetup(t, attendeedemo.Options{WebhookSecret: secret, WebhookURL: project.URL + "/webhooks/attendee"},
		attendee.Config{WebhookSecret: secret})
	perBot, perBotGot := captureServer(t)
	req := botRequest()
	req.StatusURL = perBot.URL + "/webhooks/attendee?bot=bot_1"
	ctx := context.Background()
	withHook, err := s.a.CreateBot(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	req.StatusURL = ""
	withoutHook, err := s.a.CreateBot(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.fake.SendStatus(ctx, withHook.PlatformBotID, onbehalf.BotFailed, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.fake.SendStatus(ctx, withoutHook.PlatformBotID, onbehalf.BotWaiting, ""); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]captured{"per bot": perBotGot(), "project": projectGot()} {
		if len(got) != 1 {
			t.Fatalf("%s: %d webhooks", name, len(got))
		}
		c := got[0]
		if c.header.Get("User-Agent") != "Attendee-Webhook/1.0" || !strings.HasPrefix(string(c.body), `{"idempotency_key": "`) {
			t.Errorf("%s: %v %s", name, c.header, c.body)
		}
		r := asRequest(c, c.body)
		if err := s.a.VerifyStatusWebhook(r, c.body); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		reports, err := s.a.ParseStatusWebhook(r, c.body)
		if err != nil || len(reports) != 1 || reports[0].EventID == "" || reports[0].At.IsZero() {
			t.Fatalf("%s: %+v, %v", name, reports, err)
		}
		switch rep := reports[0]; name {
		case "per bot":
			if rep.PlatformBotID != withHook.PlatformBotID || rep.Status != onbehalf.BotFailed ||
				rep.SubCode != "authorized_user_not_in_meeting_timeout_exceeded" || !strings.Contains(rep.Message, "did not join the meeting in time") {
				t.Errorf("per bot: %+v", rep)
			}
		case "project":
			if rep.PlatformBotID != withoutHook.PlatformBotID || rep.Status != onbehalf.BotWaiting {
				t.Errorf("project: %+v", rep)
			}
		}
		// A changed body or another secret does not verify.
		changed := []byte(strings.Replace(string(c.body), `"trigger"`, `"trigger" `, 1) + " ")
		if err := s.a.VerifyStatusWebhook(r, changed); err != nil {
			t.Errorf("%s: whitespace changed the verdict: %v", name, err)
		}
		changed = []byte(strings.Replace(string(c.body), "fatal_error", "ended", 1))
		if name == "per bot" {
			if err := s.a.VerifyStatusWebhook(r, changed); onbehalf.ErrorCode(err) != onbehalf.EUNAUTHORIZED {
				t.Errorf("changed body: %v", err)
			}
		}
		r.Header.Del(attendee.SignatureHeader)
		if err := s.a.VerifyStatusWebhook(r, c.body); onbehalf.ErrorCode(err) != onbehalf.EUNAUTHORIZED {
			t.Errorf("%s: unsigned: %v", name, err)
		}
	}
	// Without the secret nothing can be verified.
	open := newSetup(t, attendeedemo.Options{}, attendee.Config{})
	c := perBotGot()[0]
	err = open.a.VerifyStatusWebhook(asRequest(c, c.body), c.body)
	if onbehalf.ErrorCode(err) != onbehalf.EUNAUTHORIZED || !strings.Contains(onbehalf.ErrorMessage(err), attendee.VarWebhookSecret) {
		t.Errorf("no secret: %v", err)
	}
	// A bot whose webhooks lack bot.state_change gets none (Attendee sends
	// no project webhook to a bot that has webhooks of its own).
	req.Options = json.RawMessage(`{"webhooks": [{"url": "https://product.example.com/t", "triggers": ["transcript.update"]}]}`)
	other, err := s.a.CreateBot(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.fake.SendStatus(ctx, other.PlatformBotID, onbehalf.BotJoining, ""); err == nil || len(projectGot()) != 1 {
		t.Errorf("bot without a state webhook: %v, project got %d", err, len(projectGot()))
	}
}
