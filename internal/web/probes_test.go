package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"github.com/onbehalf/onbehalf/internal/buildinfo"
)

// probe asks path with method (and Accept when set) and returns the status,
// the body and the version header.
func probe(t *testing.T, e *testEnv, method, path, accept string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body(resp), resp.Header.Get("X-Onbehalf-Version")
}

// wantProbes checks each probe's status, by GET and HEAD, and the body of
// the GET.
func wantProbes(t *testing.T, e *testEnv, want map[string]int, bodyHas map[string]string) {
	t.Helper()
	for path, status := range want {
		for _, m := range []string{http.MethodGet, http.MethodHead} {
			got, text, version := probe(t, e, m, path, "")
			if got != status || version != buildinfo.Get().String() {
				t.Errorf("%s %s: %d (version %q), want %d", m, path, got, version, status)
			}
			if m == http.MethodGet && !strings.Contains(text, bodyHas[path]) {
				t.Errorf("GET %s: %q, want it to say %q", path, text, bodyHas[path])
			}
		}
	}
}

// TestProbes: /livez never looks at the store; /readyz and /healthz say
// whether it can read and write, with the reason; from Drain on, /readyz
// answers 503 and the others keep their meaning.
func TestProbes(t *testing.T) {
	e := newEnv(t, envOpts{})
	if resp := get(t, http.DefaultClient, e.srv.URL+"/"); resp.Close {
		t.Fatal("Connection: close before draining")
	}
	wantProbes(t, e, map[string]int{"/livez": 200, "/readyz": 200, "/healthz": 200},
		map[string]string{"/livez": "ok", "/readyz": "ok", "/healthz": "ok"})

	e.store.FailWrites(syscall.ENOSPC)
	// A failed write is what the store's health reports: make one.
	get(t, browser(t), e.srv.URL+"/zoom/oauth")
	wantProbes(t, e, map[string]int{"/livez": 200, "/readyz": 503, "/healthz": 503},
		map[string]string{"/livez": "ok", "/readyz": "is full", "/healthz": "is full"})
	e.store.FailWrites(nil)
	e.connect(t, browser(t)) // a successful write clears the failure

	e.web.Drain()
	wantProbes(t, e, map[string]int{"/livez": 200, "/readyz": 503, "/healthz": 200},
		map[string]string{"/livez": "ok", "/readyz": "shutting down", "/healthz": "ok"})
	// Draining refuses no work: the pages still answer, and ask the
	// client to reconnect for the next request.
	if resp := get(t, http.DefaultClient, e.srv.URL+"/"); resp.StatusCode != 200 || !resp.Close {
		t.Fatalf("home while draining: %d, Connection: close %v", resp.StatusCode, resp.Close)
	}
}

// TestProbeJSON: asked for JSON, a probe says its status and the build.
func TestProbeJSON(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.web.Drain()
	bi := buildinfo.Get()
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "unavailable"} {
		_, text, _ := probe(t, e, http.MethodGet, path, "application/json")
		var got struct{ Status, Reason, Version, Commit, Go string }
		if err := json.Unmarshal([]byte(text), &got); err != nil {
			t.Fatalf("%s: %v: %q", path, err, text)
		}
		if got.Status != want || got.Version != bi.Version || got.Commit != bi.Commit || got.Go != bi.GoVersion {
			t.Errorf("%s: %+v, want status %s and %+v", path, got, want, bi)
		}
		if want != "ok" && !strings.Contains(got.Reason, "shutting down") {
			t.Errorf("%s: reason %q", path, got.Reason)
		}
	}
}
