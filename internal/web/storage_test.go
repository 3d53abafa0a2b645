package web_test

import (
	"net/http"
	"strings"
	"syscall"
	"testing"
)

// TestFullDiskSaysSo: while the store cannot write, connecting answers 507
// with the reason (not 500 "Internal error."), /healthz answers 503 with
// it, and the home page tells the operator; once space is back, all is
// well again.
func TestFullDiskSaysSo(t *testing.T) {
	e := newEnv(t, envOpts{})
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		req, _ := http.NewRequest(m, e.srv.URL+"/healthz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s /healthz before: %d", m, resp.StatusCode)
		}
	}
	e.store.FailWrites(syscall.ENOSPC)
	b := browser(t)
	resp := get(t, b, e.srv.URL+"/zoom/oauth")
	page := body(resp)
	if resp.StatusCode != http.StatusInsufficientStorage || !strings.Contains(page, "is full") || strings.Contains(page, "Internal error") {
		t.Fatalf("connect with a full disk: %d\n%s", resp.StatusCode, page)
	}
	resp = get(t, http.DefaultClient, e.srv.URL+"/healthz")
	if got := body(resp); resp.StatusCode != 503 || !strings.Contains(got, "is full") {
		t.Fatalf("/healthz with a full disk: %d %q", resp.StatusCode, got)
	}
	if home := body(get(t, http.DefaultClient, e.srv.URL+"/")); !strings.Contains(home, "cannot save anything") || !strings.Contains(home, "is full") {
		t.Fatalf("home page does not say the disk is full:\n%s", home)
	}
	e.store.FailWrites(nil)
	e.connect(t, browser(t)) // a successful write clears the failure
	if resp := get(t, http.DefaultClient, e.srv.URL+"/healthz"); resp.StatusCode != 200 {
		t.Fatalf("/healthz after: %d", resp.StatusCode)
	}
}
