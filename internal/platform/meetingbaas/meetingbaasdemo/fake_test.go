package meetingbaasdemo_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/meetingbaas/meetingbaasdemo"
)

const key = "mb_fake_key"

func newFake(t *testing.T, o meetingbaasdemo.Options) *meetingbaasdemo.Fake {
	t.Helper()
	o.APIKey = key
	f, err := meetingbaasdemo.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

// create posts body to the fake's POST /v2/bots and returns the status and
// the decoded answer.
func create(t *testing.T, f *meetingbaasdemo.Fake, apiKey, contentType, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", f.URL()+"/v2/bots", strings.NewReader(body))
	if apiKey != "" {
		req.Header.Set("x-meeting-baas-api-key", apiKey)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	return resp.StatusCode, out
}

// botBody is a valid create-bot body with fields replaced or added.
func botBody(fields string) string {
	base := `"bot_name": "Notes", "meeting_url": "https://zoom.us/j/85012345678", "zoom_config": {"obf_token_url": "https://obo.test/meetingbaas/token?sig=a"}`
	if fields == "" {
		return "{" + base + "}"
	}
	return "{" + base + ", " + fields + "}"
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestCreateBot(t *testing.T) {
	f := newFake(t, meetingbaasdemo.Options{})
	status, out := create(t, f, key, "application/json", botBody(`"extra": {"k": "v"}, "callback_enabled": true,
		"callback_config": {"url": "https://obo.test/status", "secret": "s3", "method": "PUT"},
		"zoom_config": {"obf_token_url": "https://obo.test/t?a=1", "zak_token_url": "https://obo.test/t?a=2", "credential_id": "a1b2c3d4-e5f6-4890-abcd-ef1234567890"},
		"timeout_config": {"waiting_room_timeout": 1800}, "recording_mode": "audio_only"`))
	if status != http.StatusCreated || out["success"] != true {
		t.Fatalf("%d %v", status, out)
	}
	id, _ := out["data"].(map[string]any)["bot_id"].(string)
	if !uuidV4.MatchString(id) || len(out) != 2 {
		t.Errorf("answer %v: want {success, data: {bot_id: <uuid>}}", out)
	}
	bots := f.Bots()
	if len(bots) != 1 || bots[0].ID != id || bots[0].BotName != "Notes" || bots[0].MeetingURL != "https://zoom.us/j/85012345678" ||
		bots[0].TokenURLs[onbehalf.KindOBF] != "https://obo.test/t?a=1" || bots[0].TokenURLs[onbehalf.KindZAK] != "https://obo.test/t?a=2" {
		t.Errorf("bots %+v", bots)
	}
}

func TestCreateBotRefused(t *testing.T) {
	f := newFake(t, meetingbaasdemo.Options{})
	for _, k := range []string{"", "wrong"} {
		status, out := create(t, f, k, "application/json", botBody(""))
		if status != 401 || out["success"] != false || out["code"] != "FST_ERR_FORBIDDEN" || out["statusCode"] != 401.0 || out["message"] == nil {
			t.Errorf("key %q: %d %v, want 401 in Meeting BaaS's shape", k, status, out)
		}
	}
	if status, out := create(t, f, key, "text/plain", botBody("")); status != 415 || out["code"] != "FST_ERR_CTP_INVALID_MEDIA_TYPE" {
		t.Errorf("text/plain body: %d %v", status, out)
	}
	for _, body := range []string{`{`, `[1]`, `"x"`} {
		if status, out := create(t, f, key, "application/json", body); status != 400 || out["code"] != "FST_ERR_CTP_INVALID_JSON_BODY" {
			t.Errorf("%s: %d %v", body, status, out)
		}
	}
	for _, tc := range []struct{ body, msg string }{
		{`{"meeting_url": "https://zoom.us/j/85012345678"}`, "body must have required property 'bot_name'"},
		{`{"bot_name": "x"}`, "body must have required property 'meeting_url'"},
		{`{"bot_name": "", "meeting_url": "https://zoom.us/j/1"}`, "body/bot_name must NOT have fewer than 1 or more than 255 characters"},
		{`{"bot_name": 5, "meeting_url": "https://zoom.us/j/1"}`, "body/bot_name must be string"},
		{`{"bot_name": "x", "meeting_url": "85012345678"}`, `body/meeting_url must match format "uri"`},
		{`{"bot_name": "x", "meeting_url": "http://zoom.us/j/85012345678"}`, "body/meeting_url must be a valid HTTPS URL"},
		{botBody(`"zoom_config": {"obf_url": "https://x.test/"}`), "body/zoom_config must NOT have additional properties"},
		{botBody(`"zoom_config": {"obf_token_url": "/relative"}`), `body/zoom_config/obf_token_url must match format "uri"`},
		{botBody(`"zoom_config": {"zak_token_url": 5}`), "body/zoom_config/zak_token_url must be string"},
		{botBody(`"zoom_config": {"credential_id": "cred_1"}`), `body/zoom_config/credential_id must match format "uuid"`},
		{botBody(`"zoom_config": "x"`), "body/zoom_config must be object"},
		{botBody(`"extra": "bot_1"`), "body/extra must be object"},
		{botBody(`"callback_enabled": true`), "body/callback_config is required when callback_enabled is true"},
		{botBody(`"callback_enabled": "yes"`), "body/callback_enabled must be boolean"},
		{botBody(`"callback_enabled": true, "callback_config": {"method": "POST"}`), "body/callback_config must have required property 'url'"},
		{botBody(`"callback_enabled": true, "callback_config": {"url": "https://x.test/", "method": "GET"}`), "body/callback_config/method must be equal to one of the allowed values"},
		{botBody(`"timeout_config": {"waiting_room_timeout": 119}`), "body/timeout_config/waiting_room_timeout must be an integer from 120 to 1800"},
		{botBody(`"timeout_config": {"waiting_room_timeout": 600.5}`), "body/timeout_config/waiting_room_timeout must be an integer from 120 to 1800"},
	} {
		status, out := create(t, f, key, "application/json", tc.body)
		if status != 400 || out["code"] != "FST_ERR_VALIDATION" || out["message"] != tc.msg || out["success"] != false {
			t.Errorf("%s: %d %v, want 400 %q", tc.body, status, out, tc.msg)
		}
	}
	if n := len(f.Bots()); n != 0 {
		t.Errorf("%d bots created", n)
	}

	http := newFake(t, meetingbaasdemo.Options{AllowHTTP: true})
	if status, out := create(t, http, key, "application/json", `{"bot_name": "x", "meeting_url": "http://zoom.us/j/85012345678"}`); status != 201 {
		t.Errorf("AllowHTTP: %d %v", status, out)
	}

	f.FailCreate(507, `{"success":false,"error":"x","code":"Y","statusCode":507}`)
	if status, out := create(t, f, key, "application/json", botBody("")); status != 507 || out["code"] != "Y" {
		t.Errorf("FailCreate: %d %v", status, out)
	}
	if status, _ := create(t, f, key, "application/json", botBody("")); status != 201 {
		t.Errorf("after FailCreate: %d, want the failure used once", status)
	}
}

func TestNewOptions(t *testing.T) {
	if _, err := meetingbaasdemo.New(meetingbaasdemo.Options{BotIDParam: "id"}); err == nil {
		t.Error("BotIDParam id accepted")
	}
	if _, err := meetingbaasdemo.New(meetingbaasdemo.Options{WebhookSecret: "plain"}); err == nil {
		t.Error("a WebhookSecret that is not whsec_ accepted")
	}
}

// launch creates a bot with the given extra fields and returns its ID.
func launch(t *testing.T, f *meetingbaasdemo.Fake, fields string) string {
	t.Helper()
	status, out := create(t, f, key, "application/json", "{"+`"bot_name": "Notes", "meeting_url": "https://zoom.us/j/85012345678"`+fields+"}")
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, out)
	}
	return out["data"].(map[string]any)["bot_id"].(string)
}

// ctx is the context of the fetches.
var ctx = context.Background()
