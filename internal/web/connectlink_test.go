package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/web"
)

// Where a connect link stands is told on a page of the link's own (no
// way into this server's pages): revoked, used, unknown; and the result
// page of a connect needs a connected session.
func TestConnectLinkStatusPages(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	revoked := e.newLink(t, "")
	if _, err := e.store.RevokeConnectLink(ctx, revoked.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	used := e.newLink(t, "")
	if _, err := e.store.UseConnectLink(ctx, used.Secret, time.Now()); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		secret string
		status int
		want   string
	}{
		"revoked": {revoked.Secret, http.StatusConflict, "This connect link was revoked"},
		"used":    {used.Secret, http.StatusConflict, "was used already"},
		"unknown": {"no-such-link-0123456789abcdef", http.StatusNotFound, "does not exist"},
	} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			var resp *http.Response
			if method == http.MethodGet {
				resp = get(t, browser(t), e.srv.URL+"/connect/"+tc.secret)
			} else {
				resp = postForm(t, browser(t), e.srv.URL+"/connect/"+tc.secret)
			}
			page := body(resp)
			if resp.StatusCode != tc.status || !strings.Contains(page, tc.want) || strings.Contains(page, `id="continue"`) ||
				strings.Contains(page, `href="/"`) || strings.Contains(page, `href="/launch"`) || strings.Contains(page, `role="alert"`) {
				t.Errorf("%s %s: %d %.2000s", method, name, resp.StatusCode, page)
			}
		}
	}
	if resp := get(t, browser(t), e.srv.URL+web.PathConnected); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the result page without a connected session: %d", resp.StatusCode)
	}
}
