package attendeedemo

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// post sends a create-bot request to the fake.
func post(t *testing.T, f *Fake, auth, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.URL()+"/api/v1/bots", strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const okBody = `{"meeting_url": "https://zoom.us/j/85012345678?pwd=x", "bot_name": "Notes",
	"callback_settings": {"zoom_tokens_url": "https://t.example/attendee/zoom-tokens?kinds=obf%2Czak"},
	"metadata": {"onbehalf_bot_id": "b1"}}`

func TestFakeAuthentication(t *testing.T) {
	f := New(Options{APIKey: "k1"})
	defer f.Close()
	for auth, want := range map[string]string{
		"":              "Missing Authorization header",
		"Bearer k1":     "Invalid Authorization header. Should have this format: Token <api_key>",
		"Token k1 more": "Invalid Authorization header. Should have this format: Token <api_key>",
		"Token k2":      "Invalid or disabled API key",
	} {
		status, body := post(t, f, auth, okBody)
		if status != http.StatusUnauthorized || !strings.Contains(body, `"detail":"`+want+`"`) {
			t.Errorf("%q: %d %s", auth, status, body)
		}
	}
	status, body := post(t, f, "token k1", okBody) // the keyword is case-insensitive
	var bot map[string]any
	if status != http.StatusCreated || json.Unmarshal([]byte(body), &bot) != nil || !strings.HasPrefix(bot["id"].(string), "bot_") ||
		bot["state"] != "joining" {
		t.Fatalf("created: %d %s", status, body)
	}
	b := f.Bots()[0]
	if len(b.TokenURLs) != 2 || b.TokenURLs["obf"] == "" || b.TokenURLs["zak"] == "" || b.TokenURLs["join"] != "" {
		t.Errorf("token URLs by kind: %v", b.TokenURLs)
	}
}

func TestFakeValidation(t *testing.T) {
	f := New(Options{APIKey: "k1"})
	defer f.Close()
	for body, want := range map[string]string{
		`{"bot_name": "x"}`: `{"meeting_url":["This field is required."]}`,
		`{"meeting_url": "https://meet.google.com/abc", "bot_name": "x"}`:                                                                                                                                 `{"meeting_url":["Invalid meeting URL"]}`,
		`{"meeting_url": "https://zoom.us/j/85012345678", "bot_name": ""}`:                                                                                                                                `{"bot_name":["This field may not be blank."]}`,
		`{"meeting_url": "https://zoom.us/j/85012345678", "bot_name": "🎉"}`:                                                                                                                               `Bot name cannot contain emojis`,
		`{"meeting_url": "https://zoom.us/j/85012345678", "bot_name": "x", "metadata": {}}`:                                                                                                               `Metadata must have at least one key`,
		`{"meeting_url": "https://zoom.us/j/85012345678", "bot_name": "x", "metadata": {"n": 1}}`:                                                                                                         `Value for key 'n' must be a string`,
		`{"meeting_url": "https://zoom.us/j/85012345678", "bot_name": "x", "metadata": {"n": "` + strings.Repeat("é", 200) + `"}}`:                                                                        `less than 1000 characters`,
		`{"meeting_url": "https://zoom.us/j/85012345678", "bot_name": "x", "callback_settings": {"zoom_tokens_url": "http://localhost/t"}}`:                                                               `'http://localhost/t' does not match '^https://.*'`,
		`{"meeting_url": "https://zoom.us/j/85012345678", "bot_name": "x", "callback_settings": {"zoom_tokens_url": "https://t", "zak_url": "https://z"}}`:                                                `Additional properties are not allowed ('zak_url' was unexpected)`,
		`{"meeting_url": "https://zoom.us/j/85012345678", "bot_name": "x", "callback_settings": {"zoom_tokens_url": 5}}`:                                                                                  `5 is not of type 'string'`,
		`{"meeting_url": "https://zoom.us/j/85012345678", "bot_name": "x", "webhooks": [{"url": "http://h", "triggers": ["bot.state_change"]}]}`:                                                          `'http://h' does not match`,
		`{"meeting_url": "https://zoom.us/j/85012345678", "bot_name": "x", "webhooks": [{"url": "https://h", "triggers": ["bot.nope"]}]}`:                                                                 `'bot.nope' is not one of`,
		`{"meeting_url": "https://zoom.us/j/85012345678", "bot_name": "x", "webhooks": [{"url": "https://h", "triggers": ["bot.state_change"]}, {"url": "https://h", "triggers": ["bot.state_change"]}]}`: `{"error":"URL already subscribed for this bot"}`,
		`[1]`: `JSON parse error`,
	} {
		status, got := post(t, f, "Token k1", body)
		if status != http.StatusBadRequest || !strings.Contains(got, want) {
			t.Errorf("%.80s: %d %s, want %s", body, status, got, want)
		}
	}
	if n := len(f.Bots()); n != 0 {
		t.Errorf("%d bots created", n)
	}
}
