package tokenserve_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/tokenserve"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
)

// jsonPlatform is a minimal platform: one GET route serving every kind,
// the meeting claimed in ?meeting_number, JSON replies.
type jsonPlatform struct{ onbehalf.Platform }

func (jsonPlatform) Name() string { return "json" }
func (jsonPlatform) AuthenticateToken(*http.Request, []byte) (func(bool), error) {
	return nil, nil
}
func (jsonPlatform) ReadTokenClaims(r *http.Request, _ []byte) (onbehalf.TokenClaims, error) {
	return onbehalf.TokenClaims{MeetingID: r.URL.Query().Get("meeting_number")}, nil
}
func (jsonPlatform) WriteTokens(w http.ResponseWriter, _ *http.Request, toks []onbehalf.MintedToken) {
	m := map[string]string{}
	for _, t := range toks {
		m[string(t.Kind)] = t.Token
	}
	_ = json.NewEncoder(w).Encode(m)
}
func (jsonPlatform) WriteTokenError(w http.ResponseWriter, _ *http.Request, status int, msg string) {
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg))
}

var route = onbehalf.TokenRoute{Methods: []string{http.MethodGet}, Path: "/json/token", Kinds: onbehalf.Kinds}

// minter mints "<kind>-token", and fails the kinds in fail.
type minter struct {
	fail  map[onbehalf.TokenKind]error
	mu    sync.Mutex
	calls int
}

func (m *minter) Mint(_ context.Context, _ string, k onbehalf.TokenKind, _ string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if err := m.fail[k]; err != nil {
		return "", err
	}
	return string(k) + "-token", nil
}

// recorder keeps what it was given.
type recorder struct {
	mu  sync.Mutex
	got []onbehalf.TokenFetch
}

func (r *recorder) Record(f onbehalf.TokenFetch) {
	r.mu.Lock()
	r.got = append(r.got, f)
	r.mu.Unlock()
}

func serve(t *testing.T, m *minter, rec *recorder, target, method string) *httptest.ResponseRecorder {
	t.Helper()
	s := tokenserve.New(tokenserve.Options{Signer: signer, Minter: m, Recorder: rec, BaseURL: "https://x.example"})
	w := httptest.NewRecorder()
	s.Serve(w, httptest.NewRequest(method, target, nil), jsonPlatform{}, route, "203.0.113.1")
	return w
}

var signer = &tokenurl.Signer{Key: []byte("0123456789abcdef0123456789abcdef"), TTL: time.Hour}

func signedURL(kinds ...onbehalf.TokenKind) string {
	return signer.URL("", route.Path, tokenurl.Params{Platform: "json", Kinds: kinds, ConnID: "c1", MeetingID: "85012345678", BotID: "bot_1"})
}

// TestPartialFailureServesWhatWorked: a host token Zoom refuses to a guest
// must not cost the bot its OBF token; the failure is still recorded.
func TestPartialFailureServesWhatWorked(t *testing.T) {
	m := &minter{fail: map[onbehalf.TokenKind]error{onbehalf.KindJoin: onbehalf.Errorf(onbehalf.EUPSTREAM, "Zoom error 3000: not the host.")}}
	rec := &recorder{}
	w := serve(t, m, rec, signedURL(onbehalf.KindOBF, onbehalf.KindJoin), http.MethodGet)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"obf":"obf-token"`) || strings.Contains(w.Body.String(), "join") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if len(rec.got) != 2 || rec.got[1].HTTPStatus != 502 || rec.got[1].BotID != "bot_1" || !strings.Contains(rec.got[1].Message, "not the host") {
		t.Fatalf("recorded %+v", rec.got)
	}
	// Every kind failing: the first kind's error is the answer.
	m.fail[onbehalf.KindOBF] = onbehalf.Errorf(onbehalf.EDISCONNECTED, "invalid_grant")
	if w := serve(t, m, &recorder{}, signedURL(onbehalf.KindOBF, onbehalf.KindJoin), http.MethodGet); w.Code != 409 || !strings.Contains(w.Body.String(), "reconnect at https://x.example/zoom/oauth") {
		t.Fatalf("all failed: %d %s", w.Code, w.Body)
	}
}

// TestClaimsAndHead: a platform claiming another meeting is refused before
// minting; HEAD never mints; refusals before authorization record nothing.
func TestClaimsAndHead(t *testing.T) {
	m := &minter{}
	rec := &recorder{}
	if w := serve(t, m, rec, signedURL(onbehalf.KindOBF)+"&meeting_number=85099999999", http.MethodGet); w.Code != 401 {
		t.Fatalf("other meeting: %d %s", w.Code, w.Body)
	}
	if w := serve(t, m, rec, signedURL(onbehalf.KindOBF)+"&meeting_number=85012345678", http.MethodGet); w.Code != 200 {
		t.Fatalf("same meeting: %d %s", w.Code, w.Body)
	}
	if w := serve(t, m, rec, signedURL(onbehalf.KindOBF), http.MethodHead); w.Code != 200 || w.Body.Len() != 0 {
		t.Fatalf("HEAD: %d %q", w.Code, w.Body)
	}
	if w := serve(t, m, rec, strings.Replace(signedURL(onbehalf.KindOBF), "user_id=c1", "user_id=c2", 1), http.MethodGet); w.Code != 401 {
		t.Fatalf("changed URL: %d", w.Code)
	}
	if m.calls != 1 || len(rec.got) != 1 {
		t.Fatalf("minted %d times, recorded %d: only the one served request may", m.calls, len(rec.got))
	}
}
