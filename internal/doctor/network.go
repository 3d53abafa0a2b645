package doctor

import (
	"context"
	"errors"
	"fmt"
	"github.com/onbehalf/onbehalf/internal/publicurl"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// resolveTimeout bounds the resolution of BASE_URL's host; healthTimeout
// the GET of /healthz.
const (
	resolveTimeout = 5 * time.Second
	healthTimeout  = 5 * time.Second
)

// checkServer checks BASE_URL (https, a public host that resolves, this
// server answering there) and that the server can listen on LISTEN_ADDR.
func (d *doctor) checkServer(ctx context.Context) {
	d.r.section("Public URL (BASE_URL) and this server")
	if len(d.problems["BASE_URL"]) > 0 {
		d.r.info("BASE_URL not checked: it has a problem (above).")
	} else {
		d.checkBaseURL(ctx)
	}
	d.checkListen()
	d.checkHealthz(ctx)
}

// checkBaseURL checks the scheme and the host of the public URL.
func (d *doctor) checkBaseURL(ctx context.Context) {
	base := d.baseURL()
	u, err := url.Parse(base)
	if err != nil {
		d.r.fail("BASE_URL %s cannot be parsed: %v", base, err)
		return
	}
	host := strings.ToLower(u.Hostname())
	if d.get("BASE_URL") == "" {
		d.r.warn("BASE_URL is not set, so the server uses %s: Zoom sends browsers there, which works on this machine only, and bot platforms cannot fetch tokens from it.\nRun `ngrok http %d` and set BASE_URL to the https URL it prints.", base, d.cfg.Port)
	} else if public := d.checkHost(ctx, host); public {
		if u.Scheme == "https" {
			d.r.ok("BASE_URL uses https.")
		} else {
			d.r.warn("BASE_URL uses http: Zoom's event notification endpoint and Attendee need https, and the session cookie is not Secure. Put a TLS-terminating proxy (or ngrok) in front and set BASE_URL to its https URL.")
		}
	}
	if d.cfg.ZoomRedirectURI != "" {
		r, err := url.Parse(d.cfg.ZoomRedirectURI)
		if err == nil && (!strings.EqualFold(r.Host, u.Host) || r.Path != "/zoom/oauth-callback") {
			d.r.info("ZOOM_REDIRECT_URI is not %s/zoom/oauth-callback: it must still lead to this server's /zoom/oauth-callback (or to your backend, which then calls POST /api/v1/connections).", base)
		}
	}
}

// checkHost reports whether bot platforms can reach host from the
// internet, resolving names unless offline. It reports whether the host
// looks public.
func (d *doctor) checkHost(ctx context.Context, host string) bool {
	const fix = "Run `ngrok http <port>` (or put the server behind a public proxy) and set BASE_URL to that https URL."
	if addr, err := netip.ParseAddr(host); err == nil {
		if why := publicurl.NonPublic(addr); why != "" {
			d.r.warn("BASE_URL's host %s is %s: bot platforms cannot fetch tokens from it. %s", host, why, fix)
			return false
		}
		d.r.ok("BASE_URL's host %s is a public IP address.", host)
		return true
	}
	if publicurl.LocalName(host) {
		d.r.warn("BASE_URL's host %s is a local name, reachable only from this machine or network: bot platforms cannot fetch tokens from it. %s", host, fix)
		return false
	}
	if d.o.Offline {
		d.r.info("BASE_URL's host %s was not resolved (--offline).", host)
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	ips, err := d.o.LookupIP(ctx, host)
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		d.r.fail("BASE_URL's host %s does not resolve (no such host): nobody can reach the server there. Check the name (a free ngrok URL changes at every restart).", host)
		return false
	case err != nil:
		d.r.warn("Could not resolve BASE_URL's host %s: %v (run with --offline to skip the network checks).", host, err)
		return true
	}
	var public, private []string
	for _, ip := range ips {
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			continue
		}
		if publicurl.NonPublic(a.Unmap()) != "" {
			private = append(private, a.Unmap().String())
		} else {
			public = append(public, a.Unmap().String())
		}
	}
	if len(public) == 0 {
		d.r.warn("BASE_URL's host %s resolves only to addresses that are not public (%s): bot platforms cannot fetch tokens from it. %s", host, strings.Join(private, ", "), fix)
		return false
	}
	d.r.ok("BASE_URL's host %s resolves to public address(es) %s.", host, strings.Join(public, ", "))
	return true
}

// checkListen checks that the server could listen on LISTEN_ADDR, by
// listening there for an instant.
func (d *doctor) checkListen() {
	addr := d.cfg.ListenAddr
	if len(d.problems["PORT"])+len(d.problems["LISTEN_ADDR"]) > 0 || addr == "" {
		return
	}
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "0" {
		return
	}
	ln, err := net.Listen("tcp", addr)
	switch {
	case err == nil:
		ln.Close()
		d.r.ok("The server can listen on %s (LISTEN_ADDR).", addr)
	case errors.Is(err, syscall.EADDRINUSE):
		d.r.warn("%s (LISTEN_ADDR) is in use: by a running onbehalf (see the health check) or another program. A second server could not listen there.", addr)
	default:
		d.r.fail("The server could not listen on %s (LISTEN_ADDR): %v", addr, err)
	}
}

// checkHealthz GETs BASE_URL/healthz to see whether this server answers
// there (only while it runs).
func (d *doctor) checkHealthz(ctx context.Context) {
	u := d.baseURL() + "/healthz"
	if d.o.Offline {
		d.r.info("%s was not called (--offline).", u)
		return
	}
	if len(d.problems["BASE_URL"]) > 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		d.r.fail("Cannot build the request for %s: %v", u, err)
		return
	}
	resp, err := d.o.HTTP.Do(req)
	if err != nil {
		d.r.warn("No answer at %s (%v).\nFine if the server is not running now: this check only works while it runs.", u, unwrapURLError(err))
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	text := clip(strings.TrimSpace(string(body)), 200)
	switch {
	case resp.StatusCode == http.StatusOK && text == "ok":
		d.r.ok("%s answers 200 ok: the server runs and this machine reaches it at BASE_URL.", u)
	case resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(text, "database"):
		d.r.fail("%s answers 503: %s", u, text)
	default:
		d.r.warn("%s answers HTTP %d (%s): not this server's health check. Is BASE_URL right, and is the tunnel or proxy running?", u, resp.StatusCode, text)
	}
}

// unwrapURLError drops the method and URL that *url.Error repeats.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// clip shortens s to n bytes for a report line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// plural formats a count and a noun.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
