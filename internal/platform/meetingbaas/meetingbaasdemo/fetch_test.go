package meetingbaasdemo_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/meetingbaas/meetingbaasdemo"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
)

// tokenServer answers token fetches with the given content type and body,
// and keeps the requests it got.
type tokenServer struct {
	*httptest.Server
	mu          sync.Mutex
	status      int
	contentType string
	body        string
	got         []*http.Request
}

func newTokenServer(t *testing.T) *tokenServer {
	ts := &tokenServer{status: 200, contentType: "text/plain; charset=utf-8", body: "eyJ.token\n"}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		ts.got = append(ts.got, r)
		status, ct, body := ts.status, ts.contentType, ts.body
		ts.mu.Unlock()
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(ts.Close)
	return ts
}

// last returns the last request.
func (ts *tokenServer) last() *http.Request {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.got[len(ts.got)-1]
}

func (ts *tokenServer) answer(status int, contentType, body string) {
	ts.mu.Lock()
	ts.status, ts.contentType, ts.body = status, contentType, body
	ts.mu.Unlock()
}

func TestFetchAppends(t *testing.T) {
	ts := newTokenServer(t)
	for _, param := range []string{meetingbaasdemo.ParamBotID, meetingbaasdemo.ParamBotUUID} {
		f := newFake(t, meetingbaasdemo.Options{BotIDParam: param})
		id := launch(t, f, `, "zoom_config": {"obf_token_url": "`+ts.URL+`/meetingbaas/token?user_id=c1&kinds=obf&sig=a%2Bb"}, "extra": {"onbehalf_bot_id": "bot 1&2"}`)
		got := f.Fetch(ctx, id, onbehalf.KindOBF, platformdemo.Tamper{NoCredentials: true, Meeting: "85099999999"})
		if got.Status != 200 || got.Tokens[onbehalf.KindOBF] != "eyJ.token" {
			t.Errorf("%s: %+v", param, got)
		}
		r := ts.last()
		wantQuery := "user_id=c1&kinds=obf&sig=a%2Bb&" + param + "=" + id + "&extra=%7B%22onbehalf_bot_id%22%3A%22bot%201%262%22%7D"
		if r.Method != "GET" || r.URL.Path != "/meetingbaas/token" || r.URL.RawQuery != wantQuery {
			t.Errorf("%s: %s %s?%s\nwant GET /meetingbaas/token?%s", param, r.Method, r.URL.Path, r.URL.RawQuery, wantQuery)
		}
		if r.URL.Query().Get("extra") != `{"onbehalf_bot_id":"bot 1&2"}` {
			t.Errorf("extra %q", r.URL.Query().Get("extra"))
		}
	}

	f := newFake(t, meetingbaasdemo.Options{})
	id := launch(t, f, `, "zoom_config": {"zak_token_url": "`+ts.URL+`/zak"}`)
	if got := f.Fetch(ctx, id, onbehalf.KindZAK, platformdemo.Tamper{}); got.Tokens[onbehalf.KindZAK] != "eyJ.token" {
		t.Errorf("zak: %+v", got)
	}
	if q := ts.last().URL.RawQuery; q != "bot_id="+id {
		t.Errorf("no extra: query %q, want only bot_id", q)
	}
	if got := f.Fetch(ctx, id, onbehalf.KindOBF, platformdemo.Tamper{}); got.Status != 0 || got.Tokens != nil {
		t.Errorf("no obf URL: %+v", got)
	}
	if got := f.Fetch(ctx, "nobody", onbehalf.KindZAK, platformdemo.Tamper{}); got.Status != 0 || got.Tokens != nil {
		t.Errorf("no bot: %+v", got)
	}
	tampered := f.Fetch(ctx, id, onbehalf.KindZAK, platformdemo.Tamper{URL: func(u string) string { return u + "?x=1" }})
	if q := ts.last().URL.RawQuery; tampered.Status != 200 || q != "x=1&bot_id="+id {
		t.Errorf("tampered: %+v, query %q", tampered, q)
	}
}

func TestFetchUsable(t *testing.T) {
	ts := newTokenServer(t)
	f := newFake(t, meetingbaasdemo.Options{})
	id := launch(t, f, `, "zoom_config": {"obf_token_url": "`+ts.URL+`/t"}`)
	for _, tc := range []struct {
		status      int
		contentType string
		body        string
		token       string
	}{
		{200, "text/plain", "  tok.en \r\n", "tok.en"},
		{200, "TEXT/PLAIN; charset=us-ascii", "tok", "tok"},
		{200, "application/json", `{"token":"tok"}`, ""},
		{200, "text/html", "tok", ""},
		{200, "text/plain", "", ""},
		{200, "text/plain", "tök", ""},
		{200, "text/plain", "two tokens", ""},
		{201, "text/plain", "tok", "tok"},
		{404, "text/plain", "Unknown user_id", ""},
		{502, "text/plain", "tok", ""},
	} {
		ts.answer(tc.status, tc.contentType, tc.body)
		got := f.Fetch(ctx, id, onbehalf.KindOBF, platformdemo.Tamper{})
		if got.Status != tc.status || got.Tokens[onbehalf.KindOBF] != tc.token || got.Body != tc.body {
			t.Errorf("%d %s %q: %+v, want token %q", tc.status, tc.contentType, tc.body, got, tc.token)
		}
	}
}

func TestFetchGivesUp(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	f := newFake(t, meetingbaasdemo.Options{FetchTimeout: 50 * time.Millisecond})
	id := launch(t, f, `, "zoom_config": {"obf_token_url": "`+slow.URL+`/t"}`)
	got := f.Fetch(ctx, id, onbehalf.KindOBF, platformdemo.Tamper{})
	if got.Status != 0 || got.Tokens != nil || !strings.Contains(got.Body, "did not answer within 50ms") {
		t.Errorf("%+v, want the bot to give up", got)
	}
}
