package publicurl

import (
	"net/netip"
	"strings"
	"testing"
)

func TestProblem(t *testing.T) {
	for base, public := range map[string]bool{
		"https://abc.ngrok-free.app":   true,
		"https://onbehalf.example.com": true,
		"http://203.0.113.7:8080":      true,
		"http://localhost:8080":        false,
		"http://127.0.0.1:8080":        false,
		"http://[::1]:8080":            false,
		"http://10.1.2.3":              false,
		"http://192.168.1.20":          false,
		"http://100.64.0.9":            false,
		"http://[fe80::1]":             false,
		"http://myhost":                false,
		"http://box.local":             false,
		"http://svc.internal":          false,
		"http://router.home.arpa":      false,
		"not a url":                    false,
	} {
		if got := Problem(base) == ""; got != public {
			t.Errorf("Problem(%q) = %q, want public=%v", base, Problem(base), public)
		}
	}
}

func TestNonPublic(t *testing.T) {
	for a, want := range map[string]bool{
		"8.8.8.8": false, "203.0.113.1": false, "2606:4700::1": false,
		"127.0.0.1": true, "10.0.0.1": true, "172.16.5.4": true, "192.168.0.1": true, "100.64.0.1": true,
		"169.254.1.1": true, "0.0.0.0": true, "::1": true, "fd00::1": true, "::ffff:10.0.0.1": true,
	} {
		if got := NonPublic(netip.MustParseAddr(a)) != ""; got != want {
			t.Errorf("NonPublic(%s) = %v, want %v", a, got, want)
		}
	}
	for h, want := range map[string]bool{"localhost": true, "a.localhost": true, "box.local": true, "db": true, "x.home.arpa": true, "abc.ngrok-free.app": false, "example.com": false} {
		if LocalName(strings.ToLower(h)) != want {
			t.Errorf("LocalName(%s) != %v", h, want)
		}
	}
}
