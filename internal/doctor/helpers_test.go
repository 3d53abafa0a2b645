package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/attendee"
	"github.com/onbehalf/onbehalf/internal/platform/meetingbaas"
	"github.com/onbehalf/onbehalf/internal/platform/meetstream"
	"github.com/onbehalf/onbehalf/internal/platform/recall"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// specs are the platforms, as app.Platforms lists them (the app package
// cannot be imported here: it will import this one).
var specs = []platform.Spec{recall.Spec, meetstream.Spec, attendee.Spec, meetingbaas.Spec}

// Credentials of the fakes.
const (
	clientID     = "doctorClientID"
	clientSecret = "zoom-secret-9f8e7d6c5b4a"
	accountID    = "acct_1"
	s2sID        = "doctorS2SClientID"
	s2sSecret    = "s2s-secret-1a2b3c4d5e6f"
	recallKey    = "rk_live_recall_key_0123456789"
	publicHost   = "onbehalf.example.com"
)

// env is a fake environment.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// with returns a copy of e with the given pairs set.
func (e env) with(kv ...string) env {
	out := env{}
	for k, v := range e {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// world is a set of fakes a run talks to: Zoom, Recall.ai, and this
// server's health check at https://onbehalf.example.com.
type world struct {
	zoom      *zoomdemo.Server
	recall    *httptest.Server
	health    *httptest.Server
	healthSay atomic.Value // status and body of /healthz
	created   atomic.Int64 // POSTs to the platform fake: must stay 0
	requests  atomic.Int64 // every request that left through the client
	env       env
	client    *http.Client
}

// newWorld starts the fakes and returns a healthy environment that uses
// them, with a bbolt database that does not exist yet in a temporary
// folder.
func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{zoom: zoomdemo.New(clientID, clientSecret)}
	w.zoom.EnableAccount(accountID, s2sID, s2sSecret)
	t.Cleanup(w.zoom.Close)
	w.recall = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.created.Add(1)
			http.Error(rw, "doctor must never create anything", http.StatusTeapot)
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Token "+recallKey {
			rw.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(rw).Encode(map[string]string{"detail": "Invalid token."})
			return
		}
		rw.WriteHeader(http.StatusNotFound)
		json.NewEncoder(rw).Encode(map[string]string{"detail": "Not found."})
	}))
	t.Cleanup(w.recall.Close)
	w.healthSay.Store([2]string{"200", "ok"})
	w.health = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		say := w.healthSay.Load().([2]string)
		if r.URL.Path != "/healthz" {
			http.NotFound(rw, r)
			return
		}
		code := map[string]int{"200": 200, "503": 503, "404": 404}[say[0]]
		rw.WriteHeader(code)
		rw.Write([]byte(say[1]))
	}))
	t.Cleanup(w.health.Close)
	w.client = &http.Client{Timeout: 5 * time.Second, Transport: router{w: w}}
	w.env = env{
		"BASE_URL":               "https://" + publicHost,
		"LISTEN_ADDR":            "127.0.0.1:0",
		"ZOOM_CLIENT_ID":         clientID,
		"ZOOM_CLIENT_SECRET":     clientSecret,
		"ZOOM_OAUTH_URL":         w.zoom.URL,
		"ZOOM_API_URL":           w.zoom.APIURL(),
		"ZOOM_ACCOUNT_ID":        accountID,
		"ZOOM_S2S_CLIENT_ID":     s2sID,
		"ZOOM_S2S_CLIENT_SECRET": s2sSecret,
		"RECALL_API_KEY":         recallKey,
		"ALLOWED_ZOOM_ACCOUNTS":  accountID, // the pages are not open to any Zoom user
		"RECALL_API_URL":         w.recall.URL,
		"DB_PATH":                filepath.Join(t.TempDir(), "data", "onbehalf.db"),
	}
	return w
}

// router sends requests for https://onbehalf.example.com to the health
// fake and those addressed to the other fakes to them; anything else fails
// as an unreachable host would: tests never touch the real network.
type router struct{ w *world }

func (rt router) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.w.requests.Add(1)
	switch r.URL.Host {
	case publicHost:
		u, _ := url.Parse(rt.w.health.URL)
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host = u.Scheme, u.Host
	case host(rt.w.zoom.URL), host(rt.w.recall.URL), host(rt.w.health.URL):
	default:
		return nil, fmt.Errorf("dial tcp %s: connect: connection refused (tests make no real requests)", r.URL.Host)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// host returns the host:port of a URL.
func host(raw string) string {
	u, _ := url.Parse(raw)
	return u.Host
}

// publicLookup resolves every name to a documentation address that counts
// as public.
func publicLookup(ctx context.Context, host string) ([]net.IP, error) {
	return []net.IP{net.ParseIP("203.0.113.7")}, nil
}

// run runs the doctor on e with the world's client, online unless
// offline, and returns the report and the exit status.
func (w *world) run(t *testing.T, e env, offline bool) (string, int) {
	t.Helper()
	return runWith(t, Options{Getenv: e.get, Offline: offline, HTTP: w.client, LookupIP: publicLookup})
}

// runWith runs the doctor with o (Stdout and defaults filled in).
func runWith(t *testing.T, o Options) (string, int) {
	t.Helper()
	var out bytes.Buffer
	o.Stdout = &out
	if o.Specs == nil {
		o.Specs = specs
	}
	if o.Now == nil {
		o.Now = func() time.Time { return time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC) }
	}
	code := Run(context.Background(), o)
	return out.String(), code
}

// mustContain fails the test unless out holds every want.
func mustContain(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("the report lacks %q:\n%s", w, out)
		}
	}
}

// mustNotContain fails the test if out holds any of the values.
func mustNotContain(t *testing.T, out string, values ...string) {
	t.Helper()
	for _, v := range values {
		if v != "" && strings.Contains(out, v) {
			t.Errorf("the report holds %q:\n%s", v, out)
		}
	}
}

// lines returns the report's lines marked with mark.
func lines(out, mark string) []string {
	var got []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), mark+" ") {
			got = append(got, strings.TrimSpace(l))
		}
	}
	return got
}
