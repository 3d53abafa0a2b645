package meetstream

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
)

const tokenQuery = "/meetstream/token?user_id=conn_1&meeting_id=85012345678&kinds=obf&exp=1900000000&sig=x"

// tokenRequest is a token request as MeetStream's bot sends it.
func tokenRequest(method, query, body string, header ...string) *http.Request {
	r := httptest.NewRequest(method, tokenQuery+query, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	return r
}

func adapter(t *testing.T, c Config) *Adapter {
	t.Helper()
	c.APIKey = testKey
	a, err := New(c, platform.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAuthenticateToken(t *testing.T) {
	a := adapter(t, Config{WebhookSecret: testSecret})
	for name, tc := range map[string]struct {
		r    *http.Request
		says string // "" when accepted
	}{
		"header":                   {tokenRequest("GET", "", "", HeaderWebhookSecret, testSecret), ""},
		"header on POST":           {tokenRequest("POST", "", `{"bot_id":"b"}`, HeaderWebhookSecret, testSecret), ""},
		"body on POST":             {tokenRequest("POST", "", `{"bot_id":"b","webhook_secret":"`+testSecret+`"}`), ""},
		"header wins over body":    {tokenRequest("POST", "", `{"webhook_secret":"wrong"}`, HeaderWebhookSecret, testSecret), ""},
		"missing":                  {tokenRequest("GET", "", ""), "is missing"},
		"empty header":             {tokenRequest("GET", "", "", HeaderWebhookSecret, ""), "is missing"},
		"wrong header":             {tokenRequest("GET", "", "", HeaderWebhookSecret, testSecret+"x"), "is wrong"},
		"prefix of the secret":     {tokenRequest("GET", "", "", HeaderWebhookSecret, testSecret[:5]), "is wrong"},
		"twice":                    {tokenRequest("GET", "", "", HeaderWebhookSecret, testSecret, HeaderWebhookSecret, "other"), "is wrong"},
		"wrong body":               {tokenRequest("POST", "", `{"webhook_secret":"wrong"}`), "is wrong"},
		"body on GET is not read":  {tokenRequest("GET", "", `{"webhook_secret":"`+testSecret+`"}`), "is missing"},
		"unreadable body":          {tokenRequest("POST", "", `{"webhook_secret":`), "is missing"},
		"secret in the query only": {tokenRequest("GET", "&webhook_secret="+testSecret, ""), "is missing"},
	} {
		t.Run(name, func(t *testing.T) {
			body, _ := io.ReadAll(tc.r.Body)
			finish, err := a.AuthenticateToken(tc.r, body)
			if finish != nil {
				t.Error("finish is not nil")
			}
			msg := onbehalf.ErrorMessage(err)
			if tc.says == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if onbehalf.ErrorCode(err) != onbehalf.EUNAUTHORIZED || !strings.Contains(msg, tc.says) ||
				!strings.Contains(msg, "X-Webhook-Secret") || !strings.Contains(msg, VarWebhookSecret) {
				t.Errorf("error %v: want EUNAUTHORIZED saying the header %s and naming %s", err, tc.says, VarWebhookSecret)
			}
			if strings.Contains(msg, testSecret) {
				t.Errorf("message leaks the secret: %q", msg)
			}
		})
	}
	// No secret configured: nothing to check.
	open := adapter(t, Config{})
	if _, err := open.AuthenticateToken(tokenRequest("GET", "", ""), nil); err != nil {
		t.Errorf("without a secret: %v", err)
	}
}

func TestReadTokenClaims(t *testing.T) {
	a := adapter(t, Config{})
	for name, tc := range map[string]struct {
		r             *http.Request
		bot, meeting  string
		code, message string
	}{
		"GET":                     {r: tokenRequest("GET", "&meeting_number=85012345678", "", HeaderBotID, "ms-bot-1"), bot: "ms-bot-1", meeting: "85012345678"},
		"GET with blanks":         {r: tokenRequest("GET", "&meeting_number=850+1234+5678", "", HeaderBotID, " ms-bot-1 "), bot: "ms-bot-1", meeting: "85012345678"},
		"GET ZAK":                 {r: tokenRequest("GET", "", "", HeaderBotID, "ms-bot-1"), bot: "ms-bot-1"},
		"GET appended twice":      {r: tokenRequest("GET", "&meeting_number=85012345678&meeting_number=85012345678", ""), meeting: "85012345678"},
		"GET two meetings":        {r: tokenRequest("GET", "&meeting_number=85012345678&meeting_number=85099999999", ""), code: onbehalf.EUNAUTHORIZED, message: "two meetings"},
		"GET not a number":        {r: tokenRequest("GET", "&meeting_number=abc", ""), code: onbehalf.EINVALID, message: "meeting_number"},
		"GET too short":           {r: tokenRequest("GET", "&meeting_number=1234", ""), code: onbehalf.EINVALID, message: "meeting_number"},
		"HEAD":                    {r: tokenRequest("HEAD", "&meeting_number=85012345678", ""), meeting: "85012345678"},
		"GET body ignored":        {r: tokenRequest("GET", "", `{"meeting_number": 85099999999}`)},
		"POST number":             {r: tokenRequest("POST", "", `{"bot_id": "ms-bot-2", "meeting_number": 85012345678}`), bot: "ms-bot-2", meeting: "85012345678"},
		"POST string":             {r: tokenRequest("POST", "", `{"bot_id": "ms-bot-2", "meeting_number": "85012345678"}`), bot: "ms-bot-2", meeting: "85012345678"},
		"POST header wins":        {r: tokenRequest("POST", "", `{"bot_id": "ms-bot-2"}`, HeaderBotID, "ms-bot-1"), bot: "ms-bot-1"},
		"POST ZAK":                {r: tokenRequest("POST", "", `{"bot_id": "ms-bot-2"}`), bot: "ms-bot-2"},
		"POST null meeting":       {r: tokenRequest("POST", "", `{"meeting_number": null}`)},
		"POST empty body":         {r: tokenRequest("POST", "", "", HeaderBotID, "ms-bot-1"), bot: "ms-bot-1"},
		"POST query and body":     {r: tokenRequest("POST", "&meeting_number=85012345678", `{"meeting_number": 85012345678}`), meeting: "85012345678"},
		"POST query vs body":      {r: tokenRequest("POST", "&meeting_number=85012345678", `{"meeting_number": 85099999999}`), code: onbehalf.EUNAUTHORIZED, message: "two meetings"},
		"POST float":              {r: tokenRequest("POST", "", `{"meeting_number": 8.5012345678e10}`), code: onbehalf.EINVALID, message: "meeting_number"},
		"POST not JSON":           {r: tokenRequest("POST", "", `bot_id=x`), code: onbehalf.EINVALID, message: "JSON"},
		"POST not an object":      {r: tokenRequest("POST", "", `[1]`), code: onbehalf.EINVALID, message: "JSON"},
		"POST meeting as object":  {r: tokenRequest("POST", "", `{"meeting_number": {}}`), code: onbehalf.EINVALID, message: "JSON"},
		"POST negative":           {r: tokenRequest("POST", "", `{"meeting_number": -85012345678}`), code: onbehalf.EINVALID, message: "meeting_number"},
		"POST numeric bot ID":     {r: tokenRequest("POST", "", `{"bot_id": 42}`), bot: "42"},
		"POST with secret only":   {r: tokenRequest("POST", "", `{"webhook_secret": "s"}`)},
		"POST bot_id null":        {r: tokenRequest("POST", "", `{"bot_id": null, "meeting_number": "85012345678"}`), meeting: "85012345678"},
		"POST unknown fields too": {r: tokenRequest("POST", "", `{"bot_id": "b", "extra": [1, 2]}`), bot: "b"},
	} {
		t.Run(name, func(t *testing.T) {
			body, _ := io.ReadAll(tc.r.Body)
			c, err := a.ReadTokenClaims(tc.r, body)
			if tc.code != "" {
				if onbehalf.ErrorCode(err) != tc.code || !strings.Contains(onbehalf.ErrorMessage(err), tc.message) {
					t.Errorf("error %v: want %s saying %q", err, tc.code, tc.message)
				}
				return
			}
			if err != nil || c.PlatformBotID != tc.bot || c.MeetingID != tc.meeting {
				t.Errorf("got %+v, %v; want bot %q, meeting %q", c, err, tc.bot, tc.meeting)
			}
		})
	}
}

func TestWriteTokens(t *testing.T) {
	a := adapter(t, Config{})
	w := httptest.NewRecorder()
	// Shorter than MeetStream's 50 characters for text/plain: JSON is read
	// whatever the length.
	a.WriteTokens(w, tokenRequest("GET", "", ""), []onbehalf.MintedToken{{Kind: onbehalf.KindOBF, Token: "tok&<short>"}})
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("status %d, headers %v", w.Code, w.Header())
	}
	var got map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || len(got) != 1 || got["token"] != "tok&<short>" {
		t.Errorf("body %q", w.Body.String())
	}
	if !strings.Contains(w.Body.String(), "tok&<short>") {
		t.Errorf("body %q: HTML-escaped", w.Body.String())
	}
}

func TestWriteTokenError(t *testing.T) {
	a := adapter(t, Config{})
	for _, status := range []int{400, 401, 404, 409, 429, 502, 504} {
		w := httptest.NewRecorder()
		a.WriteTokenError(w, tokenRequest("POST", "", ""), status, "Zoom said <no> & more")
		var got map[string]string
		if w.Code != status || w.Header().Get("Content-Type") != "application/json" ||
			json.Unmarshal(w.Body.Bytes(), &got) != nil || got["error"] != "Zoom said <no> & more" {
			t.Errorf("status %d: got %d %q", status, w.Code, w.Body.String())
		}
	}
}

func TestTokenRoutes(t *testing.T) {
	rts := adapter(t, Config{}).TokenRoutes()
	if len(rts) != 1 || rts[0].Path != "/meetstream/token" || rts[0].Default != "" ||
		strings.Join(rts[0].Methods, ",") != "GET,POST" || onbehalf.KindsString(rts[0].Kinds) != "obf,zak" {
		t.Errorf("routes %+v", rts)
	}
}
