package recall

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/recalltest"
)

const (
	apiKey   = "rk_live_0123456789abcdef"
	secret   = "s3cr3t-auth-token-value"
	obfURL   = "https://onbehalf.test/obf-callback?user_id=conn1&meeting_id=85012345678&auth_token=" + secret
	zakURL   = "https://onbehalf.test/zak-callback?user_id=conn1&auth_token=" + secret
	meetURL  = "https://zoom.us/j/85012345678?pwd=abc"
	botName  = "Notetaker"
	wantAuth = "Token " + apiKey
)

func request() onbehalf.BotRequest {
	return onbehalf.BotRequest{MeetingURL: meetURL, BotName: botName, OBFTokenURL: obfURL}
}

// checkErr asserts err is an *onbehalf.Error with the code and message, and
// that nothing secret leaks through Message.
func checkErr(t *testing.T, err error, code, message string) {
	t.Helper()
	var e *onbehalf.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *onbehalf.Error", err, err)
	}
	if e.Code != code || (message != "" && e.Message != message) {
		t.Fatalf("got %s %q, want %s %q", e.Code, e.Message, code, message)
	}
	for _, s := range []string{apiKey, secret, obfURL, zakURL} {
		if strings.Contains(e.Message, s) {
			t.Fatalf("message %q leaks %q", e.Message, s)
		}
	}
}

func TestBaseURL(t *testing.T) {
	for _, r := range Regions() {
		got, err := BaseURL(r)
		if err != nil || got != "https://"+r+".recall.ai" {
			t.Errorf("BaseURL(%q) = %q, %v", r, got, err)
		}
	}
	if got, _ := BaseURL(" EU-Central-1 "); got != "https://eu-central-1.recall.ai" {
		t.Errorf("lenient region: %q", got)
	}
	_, err := BaseURL("us-east-9")
	checkErr(t, err, onbehalf.EINVALID, "")
	if !strings.Contains(onbehalf.ErrorMessage(err), "ap-northeast-1") {
		t.Errorf("message does not list regions: %v", err)
	}
}

func TestCreateBot(t *testing.T) {
	fake := recalltest.New(apiKey)
	defer fake.Close()
	c := &Client{BaseURL: fake.URL + "/", APIKey: apiKey}
	req := request()
	req.ZAKURL = zakURL
	bot, err := c.CreateBot(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	bots := fake.Bots()
	if len(bots) != 1 || bot.ID != bots[0].ID {
		t.Fatalf("bot %+v, fake saw %+v", bot, bots)
	}
	b := bots[0]
	if b.MeetingURL != meetURL || b.BotName != botName || b.Zoom.OBFTokenURL != obfURL || b.Zoom.ZAKURL != zakURL {
		t.Fatalf("fake received %+v", b)
	}
	if h := b.Header; h.Get("Authorization") != wantAuth || h.Get("Content-Type") != "application/json" {
		t.Fatalf("headers: %v", h)
	}

	// Empty fields are omitted.
	if _, err := c.CreateBot(context.Background(), onbehalf.BotRequest{MeetingURL: meetURL}); err != nil {
		t.Fatal(err)
	}
	if raw := string(fake.Bots()[1].Raw); raw != `{"meeting_url":"`+meetURL+`"}`+"\n" {
		t.Fatalf("minimal body %s", raw)
	}
}

func TestUpstreamErrors(t *testing.T) {
	fake := recalltest.New(apiKey)
	defer fake.Close()
	ctx := context.Background()

	_, err := (&Client{BaseURL: fake.URL, APIKey: "rk_wrong_key_000"}).CreateBot(ctx, request())
	checkErr(t, err, onbehalf.EUPSTREAM, "Recall.ai answered 401: Invalid token. (check RECALL_API_KEY and RECALL_REGION)")

	c := &Client{BaseURL: fake.URL, APIKey: apiKey}
	_, err = c.CreateBot(ctx, onbehalf.BotRequest{OBFTokenURL: obfURL})
	checkErr(t, err, onbehalf.EUPSTREAM, "Recall.ai answered 400: meeting_url: This field may not be blank.")

	cases := []struct {
		status     int
		body, want string
	}{
		{400, `{"meeting_url":["This field is required."]}`, "Recall.ai answered 400: meeting_url: This field is required."},
		{400, `{"zoom":{"obf_token_url":["Enter a valid URL."]},"bot_name":["Too long.","Really."],"non_field_errors":["Bad."]}`,
			"Recall.ai answered 400: Bad.; bot_name: Too long. Really.; zoom.obf_token_url: Enter a valid URL."},
		// Secrets echoed back by the platform are removed.
		{400, `{"zoom":{"obf_token_url":["` + obfURL + ` is not reachable"]}}`,
			"Recall.ai answered 400: zoom.obf_token_url: [redacted] is not reachable"},
		{400, `{"detail":"bad key ` + apiKey + ` and ` + secret + `"}`, "Recall.ai answered 400: bad key [redacted] and [redacted]"},
		{429, `{"detail":"Request was throttled."}`, "Recall.ai answered 429: Request was throttled."},
		{500, "plain\ntext " + strings.Repeat("x", 300), "Recall.ai answered 500: plain text " + strings.Repeat("x", 189) + "…"},
		{502, "<html><body>Bad gateway</body></html>", "Recall.ai answered 502: Bad Gateway"},
		{503, "", "Recall.ai answered 503: Service Unavailable"},
	}
	for _, tc := range cases {
		fake.FailNext(tc.status, tc.body)
		_, err := c.CreateBot(ctx, request())
		checkErr(t, err, onbehalf.EUPSTREAM, tc.want)
	}

	fake.FailNext(201, `{"status":"ok"}`)
	_, err = c.CreateBot(ctx, request())
	checkErr(t, err, onbehalf.EUPSTREAM, "Recall.ai answered 201 without a bot ID.")

	_, err = (&Client{BaseURL: fake.URL}).CreateBot(ctx, request())
	checkErr(t, err, onbehalf.EUNAVAILABLE, "")
}

func TestTimeout(t *testing.T) {
	fake := recalltest.New(apiKey)
	defer fake.Close()
	fake.SetDelay(time.Minute)

	c := &Client{BaseURL: fake.URL, APIKey: apiKey, HTTP: &http.Client{Timeout: 50 * time.Millisecond}}
	_, err := c.CreateBot(context.Background(), request())
	checkErr(t, err, onbehalf.ETIMEOUT, "Recall.ai did not answer in time.")

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	c.HTTP = nil
	_, err = c.CreateBot(ctx, request())
	checkErr(t, err, onbehalf.ETIMEOUT, "Recall.ai did not answer in time.")
}

func TestUnreachable(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	base := dead.URL
	dead.Close()
	_, err := (&Client{BaseURL: base, APIKey: apiKey}).CreateBot(context.Background(), request())
	checkErr(t, err, onbehalf.EUPSTREAM, "")
	msg := onbehalf.ErrorMessage(err)
	if !strings.HasPrefix(msg, "Could not reach Recall.ai: ") || strings.Contains(msg, "/api/v1/bot") {
		t.Fatalf("message %q", msg)
	}
}
