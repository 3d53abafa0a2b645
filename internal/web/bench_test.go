package web_test

// Benchmarks of the token callback through the full Gin engine (access
// log, recover, security headers, limits, authorization, validation), with
// a Minter stub that returns a constant: the HTTP layer's cost per callback,
// without the network.
//
//	go test -run='^$' -bench=Callback -benchmem ./internal/web
//
// Variants:
//   - secret/ok, secret/wrong: plain auth_token URLs (200; 401, then 429
//     once the client IP's failure budget is spent);
//   - signed/ok: the signed URL that /launch hands out (exp and sig);
//   - signed/stack: the real token manager and store behind the engine,
//     only Zoom stubbed: everything a callback costs except the two
//     loopback HTTP hops;
//   - signed/loopback: a real keep-alive client over 127.0.0.1 (client and
//     server CPU both counted, in one process).

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/recall"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
	"github.com/onbehalf/onbehalf/internal/tokens"
	"github.com/onbehalf/onbehalf/internal/tokenserve"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
	"github.com/onbehalf/onbehalf/internal/web"
)

const (
	benchSecret    = "bench-obf-secret-0123456789abcdef"
	benchMeetingID = "85012345678"
	benchToken     = "obf_constant_benchmark_token"
	benchBase      = "http://127.0.0.1:8080"
)

// benchMinter mints a constant token.
type benchMinter struct{}

func (benchMinter) Mint(context.Context, string, onbehalf.TokenKind, string) (string, error) {
	return benchToken, nil
}

// benchZoomStub is an onbehalf.Zoom that mints a constant and never
// refreshes.
type benchZoomStub struct{}

func (benchZoomStub) Refresh(context.Context, string) (onbehalf.Token, error) {
	return onbehalf.Token{}, onbehalf.Errorf(onbehalf.EUPSTREAM, "no refresh in benchmarks")
}

func (benchZoomStub) MintToken(context.Context, string, onbehalf.TokenKind, string) (string, error) {
	return benchToken, nil
}

// benchWriter is a reusable http.ResponseWriter that discards the body.
type benchWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *benchWriter) Header() http.Header { return w.h }
func (w *benchWriter) WriteHeader(s int)   { w.status = s }
func (w *benchWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}
func (w *benchWriter) reset() { clear(w.h); w.status, w.n = 0, 0 }

// benchSigner signs the benchmarks' URLs.
var benchSigner = &tokenurl.Signer{Key: []byte("bench-url-signing-key-0123456789"), LegacyKeys: [][]byte{tokenurl.DeriveKey(benchSecret)}}

// benchEngine returns the whole web handler over a real store holding one
// connected connection, and that connection's ID. stack selects the real
// token manager (with Zoom stubbed) instead of the constant Minter.
func benchEngine(b *testing.B, stack bool) (http.Handler, string) {
	b.Helper()
	return benchEngineFor(b, stack, func(deps platform.Deps) (onbehalf.Platform, error) {
		return recall.New(recall.Config{APIKey: "rkey", BaseURL: "http://127.0.0.1:9", Timeout: time.Second}, deps)
	})
}

// benchEngineFor is benchEngine with the platform that newPlatform makes.
func benchEngineFor(b *testing.B, stack bool, newPlatform func(platform.Deps) (onbehalf.Platform, error)) (http.Handler, string) {
	b.Helper()
	st, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), bolt.Options{ReserveBytes: bolt.NoReserve})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	c, _, err := st.Connect(context.Background(), onbehalf.Authorization{
		User: onbehalf.ZoomUser{ID: "zu_bench", AccountID: "acct_bench", Email: "bench@example.com", DisplayName: "Bench User"},
		Token: onbehalf.Token{AccessToken: "zat_ABCDEFGHIJKLMNOPQRSTUVWXYZ", RefreshToken: "zrt_ABCDEFGHIJKLMNOPQRSTUVWXYZ",
			Expiry: time.Now().Add(time.Hour).UTC(), Scope: "user:read:user user:read:token"}})
	if err != nil {
		b.Fatal(err)
	}
	var minter onbehalf.TokenMinter = benchMinter{}
	if stack {
		m := &tokens.Manager{Store: st, Zoom: benchZoomStub{}}
		b.Cleanup(m.Close)
		minter = m
	}
	// Info, as in production: successful callbacks are not logged.
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	p, err := newPlatform(platform.Deps{HTTP: http.DefaultClient, Now: time.Now, Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	w, err := web.New(web.Options{
		BaseURL:       benchBase,
		RedirectURI:   benchBase + "/zoom/oauth-callback",
		SessionSecret: "bench-session-secret-0123456789-0123456789",
		Store:         st,
		Tokens: tokenserve.New(tokenserve.Options{Signer: benchSigner, Minter: minter, Secret: benchSecret,
			PlainKinds: []onbehalf.TokenKind{onbehalf.KindOBF}, BaseURL: benchBase, Logger: log}),
		Platforms: []onbehalf.Platform{p},
		Signer:    benchSigner,
		Logger:    log,
	})
	if err != nil {
		b.Fatal(err)
	}
	return w.Engine(), c.ID
}

// benchSignedURL returns the path and query of a signed OBF token URL, as
// the launch service builds it.
func benchSignedURL(connID string) string {
	return benchSigner.URL("", recall.PathOBF, tokenurl.Params{Platform: recall.Name, Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}, ConnID: connID, MeetingID: benchMeetingID})
}

// benchSecretURL returns the path and query of a plain auth_token URL.
func benchSecretURL(connID, secret string) string {
	return "/obf-callback?" + url.Values{"user_id": {connID}, "meeting_id": {benchMeetingID}, "auth_token": {secret}}.Encode()
}

// benchServe runs one request path through h in a loop and checks status
// (a wrong secret may answer 429 instead of 401 once the failure budget of
// the client IP is spent: that is the steady state of a bad client).
func benchServe(b *testing.B, h http.Handler, target string, want int) {
	b.Helper()
	req := httptest.NewRequest(http.MethodGet, benchBase+target, nil)
	req.RemoteAddr = "127.0.0.1:40000"
	w := &benchWriter{h: http.Header{}}
	ok := func(status int) bool {
		return status == want || want == http.StatusUnauthorized && status == http.StatusTooManyRequests
	}
	h.ServeHTTP(w, req)
	if !ok(w.status) {
		b.Fatalf("%s: status %d, want %d", target, w.status, want)
	}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, req)
		if !ok(w.status) {
			b.Fatalf("status %d, want %d", w.status, want)
		}
	}
}

// BenchmarkCallback is a token callback through the whole Gin engine.
func BenchmarkCallback(b *testing.B) {
	b.Run("secret/ok", func(b *testing.B) {
		h, id := benchEngine(b, false)
		benchServe(b, h, benchSecretURL(id, benchSecret), http.StatusOK)
	})
	b.Run("secret/wrong", func(b *testing.B) {
		h, id := benchEngine(b, false)
		benchServe(b, h, benchSecretURL(id, "wrong-secret-0123456789abcdef!!!"), http.StatusUnauthorized)
	})
	b.Run("signed/ok", func(b *testing.B) {
		h, id := benchEngine(b, false)
		benchServe(b, h, benchSignedURL(id), http.StatusOK)
	})
	b.Run("signed/ok/parallel", func(b *testing.B) {
		h, id := benchEngine(b, false)
		target := benchBase + benchSignedURL(id)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			req := httptest.NewRequest(http.MethodGet, target, nil)
			req.RemoteAddr = "127.0.0.1:40000"
			w := &benchWriter{h: http.Header{}}
			for pb.Next() {
				w.reset()
				h.ServeHTTP(w, req)
				if w.status != http.StatusOK {
					b.Errorf("status %d", w.status)
					return
				}
			}
		})
	})
	b.Run("signed/stack", func(b *testing.B) {
		h, id := benchEngine(b, true)
		benchServe(b, h, benchSignedURL(id), http.StatusOK)
	})
	b.Run("signed/loopback", func(b *testing.B) {
		h, id := benchEngine(b, false)
		srv := httptest.NewServer(h)
		defer srv.Close()
		tr := &http.Transport{MaxIdleConnsPerHost: 8, DisableCompression: true}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		req, err := http.NewRequest(http.MethodGet, srv.URL+benchSignedURL(id), nil)
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 512)
		b.ReportAllocs()
		for b.Loop() {
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			n, _ := io.ReadFull(resp.Body, buf)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || string(buf[:n]) != benchToken {
				b.Fatalf("status %d %q", resp.StatusCode, buf[:n])
			}
		}
	})
}
