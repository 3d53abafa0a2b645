package tokens_test

// Benchmarks of Manager.Mint with a warm access token (no refresh): the
// token manager's share of every token callback.
//
//	go test -run='^$' -bench=. -benchmem ./internal/tokens
//
// Variants:
//   - zoomdemo: real store, real Zoom client, fake Zoom over loopback HTTP
//     (what a callback pays between the web layer and the wire);
//   - stubzoom: real store, a Zoom stub that returns a constant (store read
//     plus manager overhead);
//   - stubzoom+memstore: a map for a store as well (manager overhead alone).

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
	"github.com/onbehalf/onbehalf/internal/tokens"
	"github.com/onbehalf/onbehalf/internal/zoom"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// benchMeeting is the meeting every benchmark mints for.
const benchMeeting = "85012345678"

// benchZoom is an onbehalf.Zoom that mints a constant and never refreshes.
type benchZoom struct{}

func (benchZoom) Refresh(context.Context, string) (onbehalf.Token, error) {
	return onbehalf.Token{}, onbehalf.Errorf(onbehalf.EUPSTREAM, "benchZoom does not refresh")
}

func (benchZoom) MintToken(context.Context, string, onbehalf.TokenKind, string) (string, error) {
	return "obf_constant_benchmark_token", nil
}

// benchMemStore is a store over a map that returns a copy of the
// connection, as a real store would. It serves reads only: a warm mint
// writes nothing (the embedded nil Store panics if anything else is
// called).
type benchMemStore struct {
	tokens.Store
	mu    sync.RWMutex
	conns map[string]onbehalf.Connection
}

func (m *benchMemStore) Connection(_ context.Context, id string) (*onbehalf.Connection, error) {
	m.mu.RLock()
	c, ok := m.conns[id]
	m.mu.RUnlock()
	if !ok {
		return nil, onbehalf.Errorf(onbehalf.ENOTFOUND, "No such connection.")
	}
	return &c, nil
}

func (m *benchMemStore) Writable(context.Context) error { return nil }

// benchManager returns a manager with one connected connection whose
// access token is valid for an hour.
func benchManager(b *testing.B, variant string) (*tokens.Manager, string) {
	b.Helper()
	var st tokens.Store
	mem := &benchMemStore{conns: map[string]onbehalf.Connection{}}
	if variant == "stubzoom+memstore" {
		st = mem
	} else {
		s, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), bolt.Options{ReserveBytes: bolt.NoReserve})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		st = s
	}
	var z onbehalf.Zoom = benchZoom{}
	at, rt := "zat_bench", "zrt_bench"
	if variant == "zoomdemo" {
		fake := zoomdemo.New("cid", "csecret")
		b.Cleanup(fake.Close)
		zc := zoom.New(zoom.Options{ClientID: "cid", ClientSecret: "csecret", OAuthURL: fake.URL, APIURL: fake.APIURL(), Timeout: 10 * time.Second})
		z = zc
		at, rt = fake.IssueGrant(zoomdemo.DefaultUserID)
	}
	tok := onbehalf.Token{AccessToken: at, RefreshToken: rt, Expiry: time.Now().Add(time.Hour)}
	if st == mem {
		mem.conns["conn_bench"] = onbehalf.Connection{ID: "conn_bench", ZoomUserID: zoomdemo.DefaultUserID, State: onbehalf.StateConnected, Token: tok}
		return &tokens.Manager{Store: st, Zoom: z}, "conn_bench"
	}
	c, _, err := st.Connect(context.Background(), onbehalf.Authorization{User: onbehalf.ZoomUser{ID: zoomdemo.DefaultUserID, Email: "d@example.com"}, Token: tok})
	if err != nil {
		b.Fatal(err)
	}
	m := &tokens.Manager{Store: st, Zoom: z}
	b.Cleanup(m.Close)
	return m, c.ID
}

// BenchmarkMintWarm mints with a warm access token, sequentially and from
// parallel goroutines.
func BenchmarkMintWarm(b *testing.B) {
	for _, variant := range []string{"zoomdemo", "stubzoom", "stubzoom+memstore"} {
		b.Run(variant, func(b *testing.B) {
			m, id := benchManager(b, variant)
			bg := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				tok, err := m.Mint(bg, id, onbehalf.KindOBF, benchMeeting)
				if err != nil || tok == "" {
					b.Fatal(tok, err)
				}
			}
		})
		b.Run(variant+"/parallel", func(b *testing.B) {
			m, id := benchManager(b, variant)
			bg := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if tok, err := m.Mint(bg, id, onbehalf.KindOBF, benchMeeting); err != nil || tok == "" {
						b.Error(tok, err)
						return
					}
				}
			})
		})
	}
}
