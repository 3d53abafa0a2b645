package webtest_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// browser is a cookie jar that signs in at the fake Zoom as one user and
// stops when it would leave for the product's origin (last).
type browser struct {
	c    *http.Client
	last *url.URL
}

// newBrowser returns a browser that approves at Zoom as zoomUser (""
// for the fake's default user).
func newBrowser(t *testing.T, zoomUser string) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{}
	b.c = &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(r.URL.String(), appURL) {
			b.last = r.URL
			return http.ErrUseLastResponse
		}
		if zoomUser != "" && strings.HasSuffix(r.URL.Path, "/oauth/authorize") {
			q := r.URL.Query()
			q.Set("fake_user", zoomUser)
			r.URL.RawQuery = q.Encode()
		}
		return nil
	}}
	return b
}

// open GETs u as a browser's navigation (navigate) or as a link preview,
// and returns the status and page.
func (b *browser) open(t *testing.T, u string, navigate bool) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if navigate {
		req.Header.Set("Sec-Fetch-Mode", "navigate")
		req.Header.Set("Sec-Fetch-Site", "none")
	}
	return b.do(t, req)
}

// cont clicks the consent page's Continue: a same-origin form POST to the
// link.
func (b *browser) cont(t *testing.T, link string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, link, strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(t, req)
}

// get GETs u (following redirects) and returns the status and page.
func (b *browser) get(t *testing.T, u string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(t, req)
}

func (b *browser) do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(page)
}
