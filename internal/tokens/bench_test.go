package tokens_test

// Benchmarks of Manager.Mint with a warm access token (no refresh): the
// token manager's share of every token callback.
//
//	go test -run='^$' -bench=. -benchmem ./internal/tokens
//
// Variants:
//   - zoomtest: real store, real Zoom client, fake Zoom over loopback HTTP
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
	"github.com/onbehalf/onbehalf/internal/store"
	"github.com/onbehalf/onbehalf/internal/tokens"
	"github.com/onbehalf/onbehalf/internal/zoom"
	"github.com/onbehalf/onbehalf/internal/zoomtest"
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

// benchMemStore is an onbehalf.ConnectionStore over a map that returns a
// copy of the connection, as a real store would.
type benchMemStore struct {
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

func (m *benchMemStore) UpsertConnection(_ context.Context, u onbehalf.ZoomUser, tok onbehalf.Token) (*onbehalf.Connection, error) {
	c := onbehalf.Connection{ID: "conn_" + u.ID, ZoomUserID: u.ID, State: onbehalf.StateConnected, Token: tok}
	m.mu.Lock()
	m.conns[c.ID] = c
	m.mu.Unlock()
	return &c, nil
}

func (m *benchMemStore) SaveToken(_ context.Context, id string, tok onbehalf.Token) (*onbehalf.Connection, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.conns[id]
	c.Token = tok
	m.conns[id] = c
	return &c, nil
}

func (m *benchMemStore) MarkDisconnected(_ context.Context, id, reason string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.conns[id]
	c.State, c.Token, c.DisconnectedReason = onbehalf.StateDisconnected, onbehalf.Token{}, reason
	m.conns[id] = c
	return nil
}

// benchManager returns a manager with one connected connection whose
// access token is valid for an hour.
func benchManager(b *testing.B, variant string) (*tokens.Manager, string) {
	b.Helper()
	var st onbehalf.ConnectionStore
	if variant == "stubzoom+memstore" {
		st = &benchMemStore{conns: map[string]onbehalf.Connection{}}
	} else {
		s, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		st = s
	}
	var z onbehalf.Zoom = benchZoom{}
	at, rt := "zat_bench", "zrt_bench"
	if variant == "zoomtest" {
		fake := zoomtest.New("cid", "csecret")
		b.Cleanup(fake.Close)
		zc := zoom.New(zoom.Options{ClientID: "cid", ClientSecret: "csecret", OAuthURL: fake.URL, APIURL: fake.APIURL(), Timeout: 10 * time.Second})
		z = zc
		at, rt = fake.IssueGrant(zoomtest.DefaultUserID)
	}
	c, err := st.UpsertConnection(context.Background(), onbehalf.ZoomUser{ID: zoomtest.DefaultUserID, Email: "d@example.com"},
		onbehalf.Token{AccessToken: at, RefreshToken: rt, Expiry: time.Now().Add(time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	return &tokens.Manager{Store: st, Zoom: z}, c.ID
}

// BenchmarkMintWarm mints with a warm access token, sequentially and from
// parallel goroutines.
func BenchmarkMintWarm(b *testing.B) {
	for _, variant := range []string{"zoomtest", "stubzoom", "stubzoom+memstore"} {
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
