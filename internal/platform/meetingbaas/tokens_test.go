package meetingbaas_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/meetingbaas"
)

func TestPlanTokenURLs(t *testing.T) {
	a := newAdapter(t, meetingbaas.Config{})
	obf, zak, join := onbehalf.KindOBF, onbehalf.KindZAK, onbehalf.KindJoin
	for _, tc := range []struct {
		kinds []onbehalf.TokenKind
		want  []onbehalf.TokenURLPlan
		err   string
	}{
		{kinds: []onbehalf.TokenKind{obf}, want: []onbehalf.TokenURLPlan{{Path: "/meetingbaas/token", Kinds: []onbehalf.TokenKind{obf}}}},
		{kinds: []onbehalf.TokenKind{zak}, want: []onbehalf.TokenURLPlan{{Path: "/meetingbaas/token", Kinds: []onbehalf.TokenKind{zak}}}},
		{kinds: []onbehalf.TokenKind{zak, obf}, want: []onbehalf.TokenURLPlan{
			{Path: "/meetingbaas/token", Kinds: []onbehalf.TokenKind{obf}},
			{Path: "/meetingbaas/token", Kinds: []onbehalf.TokenKind{zak}},
		}},
		{kinds: nil, err: "No token kind given"},
		{kinds: []onbehalf.TokenKind{join}, err: "Meeting BaaS takes no host join token"},
		{kinds: []onbehalf.TokenKind{obf, join}, err: "Meeting BaaS takes no host join token"},
		{kinds: []onbehalf.TokenKind{obf, obf}, err: "given twice"},
		{kinds: []onbehalf.TokenKind{"pat"}, err: `Unknown token kind "pat"`},
	} {
		got, err := a.PlanTokenURLs(tc.kinds)
		if tc.err != "" {
			if onbehalf.ErrorCode(err) != onbehalf.EINVALID || !strings.Contains(onbehalf.ErrorMessage(err), tc.err) {
				t.Errorf("%v: %v, want EINVALID %q", tc.kinds, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v: %v, %v; want %v", tc.kinds, got, err, tc.want)
		}
	}
}

func TestTokenRoutes(t *testing.T) {
	a := newAdapter(t, meetingbaas.Config{})
	want := []onbehalf.TokenRoute{{Methods: []string{"GET"}, Path: "/meetingbaas/token", Kinds: []onbehalf.TokenKind{"obf", "zak"}}}
	if got := a.TokenRoutes(); !reflect.DeepEqual(got, want) {
		t.Errorf("routes %+v, want %+v", got, want)
	}
	r := httptest.NewRequest("GET", "/meetingbaas/token?bot_id=x", nil)
	if finish, err := a.AuthenticateToken(r, nil); finish != nil || err != nil {
		t.Errorf("AuthenticateToken: %v: Meeting BaaS sends no credential to check", err)
	}
}

func TestReadTokenClaims(t *testing.T) {
	a := newAdapter(t, meetingbaas.Config{})
	const id = "123e4567-e89b-42d3-a456-426614174000"
	extra := url.QueryEscape(`{"onbehalf_bot_id":"bot_1"}`)
	for _, tc := range []struct {
		query, want, err string
	}{
		{query: "bot_id=" + id + "&extra=" + extra, want: id},
		{query: "bot_uuid=" + id + "&extra=" + extra, want: id},
		{query: "bot_id=" + id + "&bot_uuid=" + id, want: id},
		{query: "bot_id=&bot_uuid=" + id, want: id},
		{query: "", want: ""},
		// extra is Meeting BaaS's echo, never read: junk in it fails no join.
		{query: "bot_id=" + id + `&extra={"user_id":"raw_json_v1_style"}`, want: id},
		{query: "bot_id=" + id + "&extra=%7Bnot+json", want: id},
		{query: "bot_id=" + id + "&extra=" + strings.Repeat("x", 20000), want: id},
		{query: "bot_id=" + id + "&bot_uuid=123e4567-e89b-42d3-a456-426614174999", err: "names two Meeting BaaS bots (bot_id and bot_uuid differ)"},
		{query: "bot_id=" + id + "&bot_id=other", err: "names two Meeting BaaS bots (bot_id and bot_id differ)"},
		{query: "bot_id=" + strings.Repeat("a", 129), err: "Bad bot_id"},
		{query: "bot_uuid=a%20b", err: "Bad bot_uuid"},
		{query: "bot_id=%C3%A9t%C3%A9", err: "Bad bot_id"},
	} {
		r := httptest.NewRequest("GET", "/meetingbaas/token?user_id=c&meeting_id=85012345678&kinds=obf&exp=1&sig=x&"+tc.query, nil)
		got, err := a.ReadTokenClaims(r, nil)
		if tc.err != "" {
			if onbehalf.ErrorCode(err) != onbehalf.EINVALID || !strings.Contains(onbehalf.ErrorMessage(err), tc.err) {
				t.Errorf("%s: %v, want EINVALID %q", tc.query, err, tc.err)
			}
			continue
		}
		if err != nil || got != (onbehalf.TokenClaims{PlatformBotID: tc.want}) {
			t.Errorf("%s: %+v, %v; want bot %q and no meeting", tc.query, got, err, tc.want)
		}
	}
}

func TestWriteTokens(t *testing.T) {
	a := newAdapter(t, meetingbaas.Config{})
	r := httptest.NewRequest("GET", "/meetingbaas/token", nil)

	w := httptest.NewRecorder()
	a.WriteTokens(w, r, []onbehalf.MintedToken{{Kind: onbehalf.KindOBF, Token: "eyJ.obf.token"}, {Kind: onbehalf.KindZAK, Token: "zak"}})
	checkText(t, w, http.StatusOK, "eyJ.obf.token")

	w = httptest.NewRecorder()
	a.WriteTokens(w, r, nil)
	if w.Code != http.StatusInternalServerError {
		t.Errorf("no token: %d, want 500 (never a 200 without a token)", w.Code)
	}

	w = httptest.NewRecorder()
	a.WriteTokenError(w, r, http.StatusConflict, "This Zoom connection no longer works.")
	checkText(t, w, http.StatusConflict, "This Zoom connection no longer works.")
}

// checkText checks a text/plain answer that no cache keeps.
func checkText(t *testing.T, w *httptest.ResponseRecorder, status int, body string) {
	t.Helper()
	if w.Code != status || w.Body.String() != body {
		t.Errorf("answer %d %q, want %d %q", w.Code, w.Body.String(), status, body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q, want text/plain", ct)
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", w.Header().Get("Cache-Control"))
	}
}
