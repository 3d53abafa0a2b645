package api_test

// Benchmarks of the API's share of a mint, and of a batch against a slow
// Zoom:
//
//	go test -run='^$' -bench=. -benchmem ./internal/api
//
// BenchmarkTokensAPI serves POST /api/v1/tokens through Gin with a stub
// minter that returns a constant: what remains is the server CPU the API
// adds to a mint (routing, the key check, the per-key and per-connection
// limits, decoding and checking the body, the reply). The stored-key
// variant looks the key up in the bbolt store.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/api"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/ratelimit"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
)

// stubMinter mints a constant.
type stubMinter struct{}

func (stubMinter) Mint(context.Context, string, onbehalf.TokenKind, string) (string, error) {
	return "obf_constant_benchmark_token", nil
}

// stubRecorder drops what it is given.
type stubRecorder struct{}

func (stubRecorder) Record(onbehalf.TokenFetch) {}

// benchEngine mounts the API on a bare Gin engine with a stub minter;
// store holds the stored keys.
func benchEngine(b *testing.B, store api.Store) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	api.Mount(r.Group("/api/v1"), api.Options{
		BaseURL: "https://onbehalf.example.com", Keys: []string{testKey}, Store: store,
		Minter: stubMinter{}, Recorder: stubRecorder{}, RateLimitPerKey: 1_000_000_000,
		PerConnection: ratelimit.PerMinute(1_000_000_000, 10_000),
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	return r
}

func benchMint(b *testing.B, h http.Handler, key string) {
	body := `{"connection_id":"conn_0123456789abcdefghij","kind":"obf","meeting_id":"85012345678"}`
	run := func() {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/tokens", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		run()
	}
}

func BenchmarkTokensAPI(b *testing.B) {
	st, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), bolt.Options{ReserveBytes: bolt.NoReserve})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	key, k := api.NewKey()
	if err := st.CreateAPIKey(context.Background(), k); err != nil {
		b.Fatal(err)
	}
	b.Run("env-key", func(b *testing.B) { benchMint(b, benchEngine(b, st), testKey) })
	b.Run("stored-key", func(b *testing.B) { benchMint(b, benchEngine(b, st), key) })
	b.Run("env-key-parallel", func(b *testing.B) {
		h := benchEngine(b, st)
		body := `{"connection_id":"conn_0123456789abcdefghij","kind":"obf","meeting_id":"85012345678"}`
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req := httptest.NewRequest(http.MethodPost, "/api/v1/tokens", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+testKey)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Errorf("%d %s", w.Code, w.Body)
					return
				}
			}
		})
	})
}

// BenchmarkBatch100 mints a batch of 100 participants against the fake
// Zoom answering each mint after 100 ms, end to end over HTTP with the
// real store and token manager.
func BenchmarkBatch100(b *testing.B) {
	e := newEnv(b)
	ids := e.participants(b, 100, time.Now().Add(24*time.Hour))
	var ps strings.Builder
	for i, id := range ids {
		if i > 0 {
			ps.WriteByte(',')
		}
		fmt.Fprintf(&ps, `{"connection_id":%q}`, id)
	}
	body := `{"meeting_id":"` + meeting + `","participants":[` + ps.String() + `]}`
	e.zoom.SetMintDelay(100 * time.Millisecond)
	for b.Loop() {
		r := e.call(b, http.MethodPost, "/api/v1/tokens/batch", body)
		if r.status != 200 || strings.Contains(string(r.body), `"error"`) {
			b.Fatalf("%d %s", r.status, r.body)
		}
	}
}

// BenchmarkBareGin is the harness alone: the same request through a Gin
// engine whose handler reads the body and answers a constant. Subtract it
// from BenchmarkTokensAPI for the API's own share.
func BenchmarkBareGin(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.POST("/api/v1/tokens", func(c *gin.Context) {
		_, _ = io.ReadAll(c.Request.Body)
		c.Data(200, "application/json; charset=utf-8", []byte(`{"token":"obf_constant_benchmark_token","kind":"obf"}`))
	})
	benchMint(b, r, testKey)
}
