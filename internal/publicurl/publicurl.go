// Package publicurl is the one rule for whether BASE_URL can be reached
// from the internet (bot platforms fetch tokens there, Zoom redirects
// browsers there): the launch page warns with it and `onbehalf doctor`
// checks with it.
package publicurl

import (
	"net/netip"
	"net/url"
	"strings"
)

// cgnat is the shared address space of carrier-grade NAT (RFC 6598), not
// reachable from the internet either.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// NonPublic says why an address cannot be reached from the internet, or
// "" when it can.
func NonPublic(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case a.IsLoopback():
		return "a loopback address"
	case a.IsPrivate(), cgnat.Contains(a):
		return "a private address"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "a link-local address"
	case a.IsUnspecified(), a.IsMulticast():
		return "not a host address"
	}
	return ""
}

// LocalName reports whether host (lower case) is a name that only
// resolves on this machine or inside a network: localhost, mDNS,
// single-label names and the suffixes reserved for private networks and
// examples.
func LocalName(host string) bool {
	if host == "localhost" || !strings.Contains(host, ".") {
		return true
	}
	for _, s := range []string{".localhost", ".local", ".internal", ".lan", ".home.arpa", ".test", ".invalid", ".example"} {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

// Problem says, without resolving anything, why base cannot be reached
// from the internet ("" when nothing shows that it cannot).
func Problem(base string) string {
	u, err := url.Parse(base)
	if err != nil || u.Hostname() == "" {
		return "it is not a URL with a host"
	}
	host := strings.ToLower(u.Hostname())
	if a, err := netip.ParseAddr(host); err == nil {
		return NonPublic(a)
	}
	if LocalName(host) {
		return "a name that only resolves on this machine or network"
	}
	return ""
}
