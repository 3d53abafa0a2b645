package recall_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/platformtest"
	"github.com/onbehalf/onbehalf/internal/platform/recall"
	"github.com/onbehalf/onbehalf/internal/platform/recall/recallfake"
	"github.com/onbehalf/onbehalf/internal/platform/swh"
	"github.com/onbehalf/onbehalf/internal/tokenserve"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
)

func TestTokenRoutes(t *testing.T) {
	a, _ := setup(t, recallfake.Options{}, recall.Config{})
	type route struct {
		def, kind onbehalf.TokenKind
	}
	want := map[string]route{
		"/obf-callback":         {onbehalf.KindOBF, onbehalf.KindOBF},
		"/recall/obf-callback":  {onbehalf.KindOBF, onbehalf.KindOBF},
		"/zak-callback":         {onbehalf.KindZAK, onbehalf.KindZAK},
		"/recall/zak-callback":  {onbehalf.KindZAK, onbehalf.KindZAK},
		"/recall/join-callback": {"", onbehalf.KindJoin},
	}
	routes := a.TokenRoutes()
	for _, rt := range routes {
		w, ok := want[rt.Path]
		if !ok || rt.Default != w.def || len(rt.Kinds) != 1 || rt.Kinds[0] != w.kind ||
			len(rt.Methods) != 1 || rt.Methods[0] != http.MethodGet {
			t.Errorf("route %+v", rt)
		}
		delete(want, rt.Path)
	}
	if len(want) > 0 {
		t.Errorf("routes missing: %v", want)
	}
}

// signedGet is a token request signed the way Recall signs it.
func signedGet(t *testing.T, target, id string, at time.Time, secret string) *http.Request {
	t.Helper()
	key, err := onbehalf.ParseWebhookSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Header.Set("webhook-id", id)
	r.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	r.Header.Set("webhook-signature", swh.Sign(key, id, at, nil))
	return r
}

func TestAuthenticateToken(t *testing.T) {
	open, _ := setup(t, recallfake.Options{}, recall.Config{})
	if finish, err := open.AuthenticateToken(httptest.NewRequest(http.MethodGet, "/recall/obf-callback?user_id=c1", nil), nil); finish != nil || err != nil {
		t.Fatalf("no secret: %v, %v; want nothing checked", finish != nil, err)
	}

	now := time.Unix(1_900_000_000, 0)
	a, err := recall.New(recall.Config{APIKey: apiKey, VerificationSecret: verificationSecret}, platform.Deps{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	const target = "/recall/obf-callback?user_id=c1&meeting_id=85012345678&kinds=obf&exp=1&sig=s"
	refused := func(name string, r *http.Request, want string) {
		t.Helper()
		_, err := a.AuthenticateToken(r, nil)
		if onbehalf.ErrorCode(err) != onbehalf.EUNAUTHORIZED || !strings.Contains(onbehalf.ErrorMessage(err), want) {
			t.Errorf("%s: %v, want EUNAUTHORIZED with %q", name, err, want)
		}
	}
	refused("unsigned", httptest.NewRequest(http.MethodGet, target, nil), "RECALL_VERIFICATION_SECRET")
	refused("other secret", signedGet(t, target, "msg_a", now, webhookSecret), "Bad Recall.ai signature")
	refused("stale", signedGet(t, target, "msg_b", now.Add(-6*time.Minute), verificationSecret), "Stale")
	refused("from the future", signedGet(t, target, "msg_c", now.Add(6*time.Minute), verificationSecret), "Stale")
	if _, err := a.AuthenticateToken(signedGet(t, target, "msg_d", now, verificationSecret), []byte("x")); err == nil {
		t.Error("a body the signature does not cover was accepted")
	}

	finish, err := a.AuthenticateToken(signedGet(t, target, "msg_1", now, verificationSecret), nil)
	if err != nil || finish == nil {
		t.Fatalf("signed: %v", err)
	}
	// Failed: Recall may retry the same message, for the same URL only.
	finish(false)
	refused("released ID on another URL", signedGet(t, "/recall/zak-callback?user_id=c1", "msg_1", now, verificationSecret), "Replayed")
	finish, err = a.AuthenticateToken(signedGet(t, target, "msg_1", now, verificationSecret), nil)
	if err != nil {
		t.Fatalf("retry of a failed request: %v", err)
	}
	finish(true)
	refused("replay of a served request", signedGet(t, target, "msg_1", now, verificationSecret), "Replayed")

	if claims, err := a.ReadTokenClaims(httptest.NewRequest(http.MethodGet, target+"&meeting_number=1&bot_id=x", nil), nil); err != nil || claims != (onbehalf.TokenClaims{}) {
		t.Errorf("claims %+v, %v: Recall appends nothing", claims, err)
	}
}

func TestWriteTokens(t *testing.T) {
	a, _ := setup(t, recallfake.Options{}, recall.Config{})
	r := httptest.NewRequest(http.MethodGet, "/recall/obf-callback", nil)
	w := httptest.NewRecorder()
	a.WriteTokens(w, r, []onbehalf.MintedToken{{Kind: onbehalf.KindOBF, Token: "eyJhbGciOi.obf"}})
	if w.Code != 200 || w.Body.String() != "eyJhbGciOi.obf" || w.Header().Get("Content-Type") != "text/plain; charset=utf-8" ||
		w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("token: %d %q %v", w.Code, w.Body, w.Header())
	}
	w = httptest.NewRecorder()
	a.WriteTokenError(w, r, http.StatusConflict, "This Zoom connection no longer works.")
	if w.Code != 409 || w.Body.String() != "This Zoom connection no longer works." || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Errorf("error: %d %q %v", w.Code, w.Body, w.Header())
	}
	w = httptest.NewRecorder()
	a.WriteTokens(w, r, []onbehalf.MintedToken{{Kind: onbehalf.KindOBF, Token: "a"}, {Kind: onbehalf.KindJoin, Token: "b"}})
	if w.Code != 500 {
		t.Errorf("two tokens on one Recall route: %d %q", w.Code, w.Body)
	}
}

// Today's token URLs, built as the code before platforms built them.
const (
	legacySecret = "today-obf-callback-secret-0123456789"
	legacyConn   = "conn_today_0001"
	legacyMeet   = "85012345678"
)

// referenceSig is a version 1 signature from the written specification
// (internal/tokenurl's tests): HMAC-SHA256 under the key derived from
// OBF_CALLBACK_SECRET over the length-prefixed fields.
func referenceSig(secret, kind, connID, meetingID, exp string) string {
	key := hmac.New(sha256.New, []byte(secret))
	key.Write([]byte("onbehalf token url v1"))
	m := hmac.New(sha256.New, key.Sum(nil))
	msg := []byte("onbehalf-token-url\x00v1\x00")
	for _, f := range []string{kind, connID, meetingID, exp} {
		msg = binary.BigEndian.AppendUint32(msg, uint32(len(f)))
		msg = append(msg, f...)
	}
	m.Write(msg)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// todayURL builds a signed URL the way /launch built them: path, user_id,
// meeting_id (OBF only), exp, sig.
func todayURL(base, path, kind, meetingID string) string {
	exp := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	u := base + path + "?user_id=" + url.QueryEscape(legacyConn)
	if meetingID != "" {
		u += "&meeting_id=" + meetingID
	}
	return u + "&exp=" + exp + "&sig=" + referenceSig(legacySecret, kind, legacyConn, meetingID, exp)
}

// serveTokens serves a's token routes with a tokenserve.Server of o (and
// HEAD for GET routes, as the web layer does).
func serveTokens(t *testing.T, a onbehalf.Platform, o tokenserve.Options) *httptest.Server {
	t.Helper()
	ts := tokenserve.New(o)
	mux := http.NewServeMux()
	for _, rt := range a.TokenRoutes() {
		for _, m := range append([]string{http.MethodHead}, rt.Methods...) {
			mux.HandleFunc(m+" "+rt.Path, func(w http.ResponseWriter, r *http.Request) { ts.Serve(w, r, a, rt, "127.0.0.1") })
		}
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestTodaysURLsKeepWorking fetches URLs handed out before platforms had
// their own paths, as Recall's bot fetches them, with and without the
// workspace's verification secret.
func TestTodaysURLsKeepWorking(t *testing.T) {
	for _, on := range []bool{false, true} {
		o, c := secured(on)
		a, fake := setup(t, o, c)
		minter := &platformtest.Minter{}
		signer := &tokenurl.Signer{Key: tokenurl.NewKey(), LegacyKeys: [][]byte{tokenurl.DeriveKey(legacySecret)}}
		srv := serveTokens(t, a, tokenserve.Options{Signer: signer, Minter: minter, Secret: legacySecret,
			PlainKinds: []onbehalf.TokenKind{onbehalf.KindOBF}, BaseURL: "http://onbehalf.test"})

		plain := srv.URL + "/obf-callback?" + url.Values{"user_id": {legacyConn}, "meeting_id": {legacyMeet}, "auth_token": {legacySecret}}.Encode()
		cases := []struct {
			name string
			kind onbehalf.TokenKind
			url  string
			ok   bool
		}{
			{"signed obf", onbehalf.KindOBF, todayURL(srv.URL, "/obf-callback", "obf", legacyMeet), true},
			{"signed obf alias", onbehalf.KindOBF, todayURL(srv.URL, "/recall/obf-callback", "obf", legacyMeet), true},
			{"signed zak", onbehalf.KindZAK, todayURL(srv.URL, "/zak-callback", "zak", ""), true},
			{"signed zak alias", onbehalf.KindZAK, todayURL(srv.URL, "/recall/zak-callback", "zak", ""), true},
			{"plain auth_token obf", onbehalf.KindOBF, plain, true},
			{"obf URL moved to zak", onbehalf.KindZAK, strings.Replace(todayURL(srv.URL, "/obf-callback", "obf", legacyMeet), "/obf-callback", "/zak-callback", 1), false},
			{"obf URL moved to join", onbehalf.KindJoin, strings.Replace(todayURL(srv.URL, "/obf-callback", "obf", legacyMeet), "/obf-callback", "/recall/join-callback", 1), false},
			{"plain auth_token zak", onbehalf.KindZAK, strings.Replace(plain, "/obf-callback", "/zak-callback", 1), false},
			{"signed by another secret", onbehalf.KindOBF, strings.Replace(todayURL(srv.URL, "/obf-callback", "obf", legacyMeet), "sig=", "sig=A", 1), false},
		}
		for _, tc := range cases {
			created, err := a.CreateBot(context.Background(), onbehalf.BotRequest{
				Meeting:   onbehalf.Meeting{ID: legacyMeet, URL: "https://zoom.us/j/" + legacyMeet},
				TokenURLs: []onbehalf.TokenURL{{Kinds: []onbehalf.TokenKind{tc.kind}, URL: tc.url}},
			})
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			before := len(minter.Calls())
			got := fake.Fetch(context.Background(), created.PlatformBotID, tc.kind, platformtest.Tamper{})
			calls := minter.Calls()[before:]
			if !tc.ok {
				if got.Status/100 == 2 || len(got.Tokens) > 0 || len(calls) > 0 {
					t.Errorf("secured=%v %s: served (%d %q)", on, tc.name, got.Status, got.Body)
				}
				continue
			}
			if got.Status != 200 || len(calls) != 1 || got.Tokens[tc.kind] != calls[0].Token ||
				calls[0].ConnID != legacyConn || calls[0].Kind != tc.kind || (tc.kind == onbehalf.KindOBF && calls[0].MeetingID != legacyMeet) {
				t.Errorf("secured=%v %s: %d %q, minted %+v", on, tc.name, got.Status, got.Body, calls)
			}
		}
	}
}
