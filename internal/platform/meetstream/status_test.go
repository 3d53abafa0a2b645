package meetstream

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/clocktest"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/meetstream/meetstreamdemo"
)

// now is the clock of the status tests.
var now = time.Date(2026, 11, 30, 14, 30, 0, 0, time.UTC)

// hook is a MeetStream status webhook body with the given fields.
func hook(fields string) string {
	return `{"bot_id": "6f1c-bot", "status_code": 200, "timestamp": "2026-11-30T14:29:58Z", "custom_attributes": {"onbehalf_bot_id": "bot_1"}, ` + fields + `}`
}

func TestParseStatusWebhook(t *testing.T) {
	a := adapter(t, Config{})
	at := time.Date(2026, 11, 30, 14, 29, 58, 0, time.UTC)
	for name, tc := range map[string]struct {
		body    string
		status  onbehalf.BotStatus // "" for no report
		code    string
		sub     string
		message string
	}{
		"joining":             {hook(`"bot_event": "bot.joining", "bot_status": "Joining", "message": "Bot is joining"`), onbehalf.BotJoining, "bot.joining", "Joining", "Bot is joining"},
		"waiting room":        {hook(`"bot_event": "bot.in_waiting_room", "bot_status": "Joining", "message": "Waiting to be admitted"`), onbehalf.BotWaiting, "bot.in_waiting_room", "Joining", "Waiting to be admitted"},
		"in meeting":          {hook(`"bot_event": "bot.inmeeting", "bot_status": "InMeeting"`), onbehalf.BotInCall, "bot.inmeeting", "InMeeting", "The MeetStream bot is in the meeting."},
		"recording":           {hook(`"bot_event": "bot.recording", "bot_status": "InMeeting"`), onbehalf.BotInCall, "bot.recording", "InMeeting", ""},
		"leaving":             {hook(`"bot_event": "bot.leaving"`), onbehalf.BotDone, "bot.leaving", "", "The MeetStream bot left the meeting."},
		"stopped":             {hook(`"event": "bot.stopped", "bot_event": "bot.stopped", "bot_status": "Stopped", "message": "Meeting ended"`), onbehalf.BotDone, "bot.stopped", "Stopped", "Meeting ended"},
		"done":                {hook(`"bot_event": "bot.done"`), onbehalf.BotDone, "bot.done", "", ""},
		"kicked":              {hook(`"bot_event": "bot.kicked", "message": "Removed by host"`), onbehalf.BotFailed, "bot.kicked", "", "Removed by host"},
		"not allowed":         {hook(`"event": "bot.stopped", "bot_event": "bot.notallowed", "bot_status": "NotAllowed", "status_code": 500, "message": "Failed: Not admitted to meeting"`), onbehalf.BotFailed, "bot.notallowed", "NotAllowed", "Failed: Not admitted to meeting"},
		"denied":              {hook(`"bot_event": "bot.denied", "bot_status": "Denied"`), onbehalf.BotFailed, "bot.denied", "Denied", "The MeetStream bot could not join or stay in the meeting."},
		"failed":              {hook(`"bot_event": "bot.failed", "message": "OBF token is required but could not be fetched"`), onbehalf.BotFailed, "bot.failed", "", "OBF token is required but could not be fetched"},
		"older event field":   {hook(`"event": "bot.inmeeting"`), onbehalf.BotInCall, "bot.inmeeting", "", ""},
		"stopped, refused":    {hook(`"event": "bot.stopped", "bot_status": "NotAllowed", "message": "Not admitted"`), onbehalf.BotFailed, "bot.stopped", "NotAllowed", "Not admitted"},
		"stopped, error":      {hook(`"event": "bot.stopped", "bot_status": "Error"`), onbehalf.BotFailed, "bot.stopped", "Error", ""},
		"upper case":          {hook(`"bot_event": "Bot.InMeeting"`), onbehalf.BotInCall, "Bot.InMeeting", "", ""},
		"numeric bot_id":      {`{"bot_event": "bot.joining", "bot_id": 77}`, onbehalf.BotJoining, "bot.joining", "", ""},
		"error, not terminal": {hook(`"bot_event": "bot.error", "bot_status": "Error", "message": "Transient"`), "", "", "", ""},
		"scheduled":           {hook(`"bot_event": "bot.scheduled"`), "", "", "", ""},
		"recording allowed":   {hook(`"bot_event": "bot.recording_permission_allowed"`), "", "", "", ""},
		"audio processed":     {`{"event": "audio.processed", "bot_id": "6f1c-bot"}`, "", "", "", ""},
		"transcription":       {`{"event": "transcription.processed"}`, "", "", "", ""},
		"data deletion":       {`{"event": "data_deletion"}`, "", "", "", ""},
	} {
		t.Run(name, func(t *testing.T) {
			reports, err := a.ParseStatusWebhook(httptest.NewRequest("POST", "/webhooks/meetstream", nil), []byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.status == "" {
				if len(reports) != 0 {
					t.Errorf("reports %+v, want none", reports)
				}
				return
			}
			if len(reports) != 1 {
				t.Fatalf("reports %+v, want one", reports)
			}
			r := reports[0]
			if r.Platform != "meetstream" || r.Status != tc.status || r.Code != tc.code || r.SubCode != tc.sub || r.EventID != "" {
				t.Errorf("report %+v: want status %s, code %s, sub-code %q", r, tc.status, tc.code, tc.sub)
			}
			if tc.message != "" && r.Message != tc.message {
				t.Errorf("message %q, want %q", r.Message, tc.message)
			}
			if r.Message == "" {
				t.Error("no message")
			}
			if strings.HasPrefix(tc.body, `{"bot_id": "6f1c-bot"`) && (r.PlatformBotID != "6f1c-bot" || !r.At.Equal(at)) {
				t.Errorf("bot %q at %v", r.PlatformBotID, r.At)
			}
		})
	}
}

func TestParseStatusWebhookUnreadable(t *testing.T) {
	a := adapter(t, Config{})
	for name, body := range map[string]string{
		"not JSON":         `event=bot.joining`,
		"not an object":    `["bot.joining"]`,
		"empty":            ``,
		"no event":         `{"bot_id": "b"}`,
		"event not string": `{"bot_event": 3, "bot_id": "b"}`,
		"no bot_id":        `{"bot_event": "bot.joining"}`,
		"bot_id object":    `{"bot_event": "bot.joining", "bot_id": {}}`,
	} {
		_, err := a.ParseStatusWebhook(httptest.NewRequest("POST", "/webhooks/meetstream", nil), []byte(body))
		if onbehalf.ErrorCode(err) != onbehalf.EINVALID || !strings.Contains(onbehalf.ErrorMessage(err), "MeetStream") {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]struct {
		t     time.Time
		zoned bool
	}{
		"2026-11-30T14:30:00Z":             {now, true},
		"2026-11-30T15:30:00+01:00":        {now, true},
		"2026-11-30T14:30:00.250Z":         {now.Add(250 * time.Millisecond), true},
		"2026-11-30 14:30:00+00:00":        {now, true},
		"2026-11-30T14:30:00.123456":       {now.Add(123456 * time.Microsecond), false},
		"2026-11-30 14:30:00":              {now, false},
		"1796049000":                       {now, true},
		"1796049000000":                    {now, true},
		"1796049000.5":                     {now.Add(500 * time.Millisecond), true},
		"":                                 {time.Time{}, false},
		"yesterday":                        {time.Time{}, false},
		"0":                                {time.Time{}, false},
		"1.2.3":                            {time.Time{}, false},
		"99999999999999999999999999999999": {time.Time{}, false},
	} {
		got, zoned := parseTime(in)
		if !got.Equal(want.t) || zoned != want.zoned {
			t.Errorf("parseTime(%q) = %v, %v; want %v, %v", in, got, zoned, want.t, want.zoned)
		}
	}
}

// signed returns a request carrying body signed with secret.
func signed(secret, body string, sig ...string) *http.Request {
	r := httptest.NewRequest("POST", "/webhooks/meetstream", strings.NewReader(body))
	if len(sig) > 0 {
		for _, s := range sig {
			r.Header.Add(HeaderSignature, s)
		}
		return r
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	r.Header.Set(HeaderSignature, "sha256="+hex.EncodeToString(m.Sum(nil)))
	r.Header.Set(HeaderTimestamp, "2026-11-30T14:30:00Z")
	return r
}

func TestVerifyStatusWebhook(t *testing.T) {
	body := hook(`"bot_event": "bot.joining"`)
	at := func(ts string) string {
		return `{"bot_event": "bot.joining", "bot_id": "b", "timestamp": ` + ts + `}`
	}
	for name, tc := range map[string]struct {
		r    *http.Request
		body string
		says string // "" when accepted
	}{
		"good":                {signed(testSigning, body), body, ""},
		"upper-case hex":      {signed("", body, "sha256="+strings.ToUpper(strings.TrimPrefix(signed(testSigning, body).Header.Get(HeaderSignature), "sha256="))), body, ""},
		"one of two":          {signed("", body, "sha256=00", signed(testSigning, body).Header.Get(HeaderSignature)), body, ""},
		"missing":             {httptest.NewRequest("POST", "/webhooks/meetstream", nil), body, "header is missing"},
		"wrong secret":        {signed("other", body), body, "bad X-MeetStream-Signature"},
		"body changed":        {signed(testSigning, body), body + " ", "bad X-MeetStream-Signature"},
		"no prefix":           {signed("", body, strings.TrimPrefix(signed(testSigning, body).Header.Get(HeaderSignature), "sha256=")), body, "bad"},
		"other algorithm":     {signed("", body, "sha1=abcd"), body, "bad"},
		"not hex":             {signed("", body, "sha256=zz"), body, "bad"},
		"empty":               {signed("", body, ""), body, "bad"},
		"stale":               {signed(testSigning, at(`"2026-11-30T12:29:00Z"`)), at(`"2026-11-30T12:29:00Z"`), "too old"},
		"stale epoch":         {signed(testSigning, at(`1796000000`)), at(`1796000000`), "too old"},
		"future":              {signed(testSigning, at(`"2026-11-30T15:30:00Z"`)), at(`"2026-11-30T15:30:00Z"`), "in the future"},
		"late but in bounds":  {signed(testSigning, at(`"2026-11-30T13:45:00Z"`)), at(`"2026-11-30T13:45:00Z"`), ""},
		"naive, zone unknown": {signed(testSigning, at(`"2026-11-30 09:30:00"`)), at(`"2026-11-30 09:30:00"`), ""},
		"no timestamp":        {signed(testSigning, `{"bot_event": "bot.joining", "bot_id": "b"}`), `{"bot_event": "bot.joining", "bot_id": "b"}`, ""},
		"signed but not JSON": {signed(testSigning, `nope`), `nope`, ""}, // ParseStatusWebhook refuses it
	} {
		t.Run(name, func(t *testing.T) {
			// A fresh adapter each: one remembers the bodies it took.
			a, err := New(Config{APIKey: testKey, SigningSecret: testSigning}, platform.Deps{Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			err = a.VerifyStatusWebhook(tc.r, []byte(tc.body))
			if tc.says == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if onbehalf.ErrorCode(err) != onbehalf.EUNAUTHORIZED || !strings.Contains(onbehalf.ErrorMessage(err), tc.says) {
				t.Errorf("error %v: want EUNAUTHORIZED saying %q", err, tc.says)
			}
		})
	}
	// Without a signing secret nothing can be verified: say what to do.
	err := adapter(t, Config{}).VerifyStatusWebhook(signed(testSigning, body), []byte(body))
	msg := onbehalf.ErrorMessage(err)
	if onbehalf.ErrorCode(err) != onbehalf.EUNAUTHORIZED || !strings.Contains(msg, VarSigningSecret) || !strings.Contains(msg, "per-bot callback URL") {
		t.Errorf("no secret: %v", err)
	}
}

// receiver is a status webhook endpoint of this server, as far as the
// adapter goes: verify (when asked), then parse.
type receiver struct {
	a      *Adapter
	verify bool
	mu     sync.Mutex
	got    []onbehalf.StatusReport
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if rc.verify {
		if err := rc.a.VerifyStatusWebhook(r, body); err != nil {
			http.Error(w, onbehalf.ErrorMessage(err), onbehalf.HTTPStatus(err))
			return
		}
	}
	reports, err := rc.a.ParseStatusWebhook(r, body)
	if err != nil {
		http.Error(w, onbehalf.ErrorMessage(err), onbehalf.HTTPStatus(err))
		return
	}
	rc.mu.Lock()
	rc.got = append(rc.got, reports...)
	rc.mu.Unlock()
}

// TestFakeStatusWebhooks sends the fake's webhooks to the adapter: to the
// per-bot callback URL (unsigned) and to a workspace endpoint (signed).
func TestFakeStatusWebhooks(t *testing.T) {
	clock := func() time.Time { return now }
	for _, perBot := range []bool{true, false} {
		a, err := New(Config{APIKey: testKey, SigningSecret: testSigning}, platform.Deps{Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		rc := &receiver{a: a, verify: !perBot}
		hooks := httptest.NewServer(rc)
		fake := meetstreamdemo.New(meetstreamdemo.Options{APIKey: testKey, AllowHTTP: true, Now: clock,
			WebhookURL: hooks.URL + "/webhooks/meetstream", SigningSecret: testSigning})
		a.baseURL = fake.URL()
		req := request(onbehalf.KindOBF, obfURL)
		if perBot {
			req.StatusURL = hooks.URL + "/webhooks/meetstream?bot=bot_1&sig=x"
		}
		created, err := a.CreateBot(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		steps := []onbehalf.BotStatus{onbehalf.BotCreated, onbehalf.BotJoining, onbehalf.BotWaiting, onbehalf.BotInCall, onbehalf.BotDone, onbehalf.BotFailed}
		for _, s := range steps {
			if err := fake.SendStatus(context.Background(), created.PlatformBotID, s, ""); err != nil {
				t.Fatalf("per-bot %v, %s: %v", perBot, s, err)
			}
		}
		if err := fake.SendStatus(context.Background(), created.PlatformBotID, onbehalf.BotFailed, "Removed: the authorized user left"); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rc.got {
			if r.PlatformBotID != created.PlatformBotID || !r.At.Equal(now) {
				t.Errorf("report %+v", r)
			}
			got = append(got, string(r.Status)+":"+r.Message)
		}
		want := "joining:Bot is joining the meeting|waiting:Bot is in the waiting room|in_call:Bot joined the meeting|" +
			"done:Bot left the meeting|failed:Failed: Not admitted to meeting|failed:Removed: the authorized user left"
		if strings.Join(got, "|") != want {
			t.Errorf("per-bot %v: reports\n %s\nwant\n %s", perBot, strings.Join(got, "|"), want)
		}
		fake.Close()
		hooks.Close()
	}
}

// TestStatusWebhookReplay: MeetStream signs the body alone, so a signed
// body is taken once. Undated, it is refused again for
// undatedReplayWindow and only then forgotten; dated, it is refused until
// it is too old anyway.
func TestStatusWebhookReplay(t *testing.T) {
	clock := clocktest.New(now)
	a, err := New(Config{APIKey: testKey, SigningSecret: testSigning}, platform.Deps{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	verify := func(body string) error { return a.VerifyStatusWebhook(signed(testSigning, body), []byte(body)) }
	undated := `{"bot_event": "bot.done", "bot_id": "b"}`
	dated := `{"bot_event": "bot.done", "bot_id": "b", "timestamp": "` + now.Format(time.RFC3339) + `"}`
	for _, body := range []string{undated, dated} {
		if err := verify(body); err != nil {
			t.Fatalf("first delivery: %v", err)
		}
		if err := verify(body); onbehalf.ErrorCode(err) != onbehalf.EUNAUTHORIZED || !strings.Contains(onbehalf.ErrorMessage(err), "delivered before") {
			t.Fatalf("replay: %v, want EUNAUTHORIZED saying delivered before", err)
		}
	}
	clock.Advance(maxWebhookAge + time.Second)
	if err := verify(dated); onbehalf.ErrorCode(err) != onbehalf.EUNAUTHORIZED || !strings.Contains(onbehalf.ErrorMessage(err), "too old") {
		t.Fatalf("dated replay past its age: %v", err)
	}
	if err := verify(undated); err == nil {
		t.Fatal("undated replay accepted within the window")
	}
	clock.Advance(undatedReplayWindow)
	if err := verify(undated); err != nil {
		t.Fatalf("undated body after the window: %v (the window is its only bound)", err)
	}
}
