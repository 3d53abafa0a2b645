package doctor

import (
	"context"
	"net"
	"testing"
)

// lookupTable resolves names from a table; a missing name does not exist.
func lookupTable(m map[string][]string) func(context.Context, string) ([]net.IP, error) {
	return func(ctx context.Context, host string) ([]net.IP, error) {
		addrs, ok := m[host]
		if !ok {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		var ips []net.IP
		for _, a := range addrs {
			ips = append(ips, net.ParseIP(a))
		}
		return ips, nil
	}
}

func TestBaseURLHosts(t *testing.T) {
	w := newWorld(t)
	dns := lookupTable(map[string][]string{
		"public.example.org":   {"203.0.113.9", "2001:db8::1"},
		"intranet.example.org": {"192.168.1.5", "10.0.0.7"},
		"mixed.example.org":    {"10.0.0.8", "198.51.100.4"},
	})
	cases := []struct {
		base string
		code int
		want string
	}{
		{"https://public.example.org", 0, "✓ BASE_URL's host public.example.org resolves to public address(es) 203.0.113.9, 2001:db8::1."},
		{"http://public.example.org", 0, "⚠ BASE_URL uses http: Zoom's event notification endpoint and Attendee need https"},
		{"https://mixed.example.org", 0, "resolves to public address(es) 198.51.100.4."},
		{"https://localhost:8443", 0, "⚠ BASE_URL's host localhost is a local name"},
		{"https://onbehalf.internal", 0, "⚠ BASE_URL's host onbehalf.internal is a local name"},
		{"https://myhost", 0, "⚠ BASE_URL's host myhost is a local name"},
		{"http://127.0.0.1:8080", 0, "⚠ BASE_URL's host 127.0.0.1 is a loopback address"},
		{"https://10.1.2.3", 0, "⚠ BASE_URL's host 10.1.2.3 is a private address"},
		{"https://100.72.0.1", 0, "⚠ BASE_URL's host 100.72.0.1 is a private address"},
		{"https://[::1]:8443", 0, "⚠ BASE_URL's host ::1 is a loopback address"},
		{"https://[fe80::1]", 0, "⚠ BASE_URL's host fe80::1 is a link-local address"},
		{"https://198.51.100.20", 0, "✓ BASE_URL's host 198.51.100.20 is a public IP address."},
		{"https://intranet.example.org", 0, "⚠ BASE_URL's host intranet.example.org resolves only to addresses that are not public (192.168.1.5, 10.0.0.7)"},
		{"https://gone-1234.ngrok-free.app", 1, "✗ BASE_URL's host gone-1234.ngrok-free.app does not resolve (no such host)"},
		{"ftp://files.example.org", 1, `✗ BASE_URL="ftp://files.example.org": must be an absolute http(s) URL`},
	}
	for _, c := range cases {
		t.Run(c.base, func(t *testing.T) {
			// The health check is not what this test is about: it finds
			// nothing at these hosts.
			out, code := runWith(t, Options{Getenv: w.env.with("BASE_URL", c.base).get, HTTP: w.client, LookupIP: dns})
			if code != c.code {
				t.Errorf("exit %d, want %d:\n%s", code, c.code, out)
			}
			mustContain(t, out, c.want)
		})
	}

	// Unset: the default is named, with the way out.
	out, _ := runWith(t, Options{Getenv: w.env.with("BASE_URL", "", "PORT", "9191", "LISTEN_ADDR", "").get, Offline: true})
	mustContain(t, out, "⚠ BASE_URL is not set, so the server uses http://localhost:9191", "Run `ngrok http 9191`",
		"OAuth redirect URL:            http://localhost:9191/zoom/oauth-callback")
}

func TestHealthz(t *testing.T) {
	w := newWorld(t)
	cases := []struct {
		status, body string
		code         int
		want         string
	}{
		{"200", "ok", 0, "✓ https://" + publicHost + "/healthz answers 200 ok: the server runs"},
		{"503", "database cannot write: The disk is full.", 1, "✗ https://" + publicHost + "/healthz answers 503: database cannot write: The disk is full."},
		{"404", "Tunnel onbehalf.example.com not found ERR_NGROK_3200", 0, "⚠ https://" + publicHost + "/healthz answers HTTP 404 (Tunnel onbehalf.example.com not found ERR_NGROK_3200): not this server's health check."},
	}
	for _, c := range cases {
		w.healthSay.Store([2]string{c.status, c.body})
		out, code := w.run(t, w.env, false)
		if code != c.code {
			t.Errorf("%s: exit %d, want %d:\n%s", c.status, code, c.code, out)
		}
		mustContain(t, out, c.want)
	}
	w.health.Close()
	out, code := w.run(t, w.env, false)
	if code != 0 {
		t.Errorf("no server: exit %d, want 0", code)
	}
	mustContain(t, out, "⚠ No answer at https://"+publicHost+"/healthz (", "this check only works while it runs.")
}

func TestListenAddr(t *testing.T) {
	w := newWorld(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().String()
	out, code := w.run(t, w.env.with("LISTEN_ADDR", busy), true)
	if code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
	mustContain(t, out, "⚠ "+busy+" (LISTEN_ADDR) is in use")

	ln.Close()
	out, _ = w.run(t, w.env.with("LISTEN_ADDR", busy), true)
	mustContain(t, out, "✓ The server can listen on "+busy+" (LISTEN_ADDR).")
}
