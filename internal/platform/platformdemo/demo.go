package platformdemo

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/onbehalf/onbehalf/internal/events"
)

// Server is the demo's server as a platform's fake meets it: where the
// fake sends its status webhooks, how its bots reach the server, and the
// server's settings that point the adapter at the fake.
type Server struct {
	// URL is the server's base URL (http on loopback); HTTPSURL is the
	// same server through the demo's TLS front (ServeTLS), which Client
	// trusts.
	URL, HTTPSURL string
	// Client is what an https-only fake's bots and webhooks reach
	// HTTPSURL with.
	Client *http.Client
	// Set sets one of the server's variables: the platform's API key, API
	// URL and secrets, as the fake takes them.
	Set func(name, value string)
}

// Platform is a platform's fake as the demo runs it, with the platform's
// reason codes the demo's bots report.
type Platform struct {
	// Fake is the running fake; the demo stops it.
	Fake Running
	// Left is the platform's reason code for a bot that left because
	// everyone else left, Absent the one for a bot whose person never
	// came, and Refused the one for a bot that got no token ("" for the
	// fake's default).
	Left, Absent, Refused string
	// UserLeft is the platform's reason code for a bot Zoom removed
	// because the user whose On-Behalf-Of token let it in left, which the
	// server relays; "" when the platform does not tell that apart (the
	// demo's bots then report Left).
	UserLeft string
	// HTTPSOnly says the platform takes only https URLs of the server
	// (token URLs, status webhooks): the demo hands them out through its
	// TLS front, as a deployment does through its public https URL.
	HTTPSOnly bool
}

// Secret returns n random bytes, base64url-encoded: an API key or a
// signing secret of a fake.
func Secret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// WebhookSecret returns a new Standard Webhooks secret (whsec_ + base64 of
// 32 bytes), the server's own kind: the fakes that sign that way take it.
func WebhookSecret() string { return events.NewSecret() }

// loopback is a self-signed certificate for 127.0.0.1, ::1 and localhost,
// made once per process, and a pool that trusts it.
var loopback = sync.OnceValues(func() (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic("platformdemo: " + err.Error())
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "onbehalf demo"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(30 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:    []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic("platformdemo: " + err.Error())
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		panic("platformdemo: " + err.Error())
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
})

// ServeTLS serves h over https on 127.0.0.1 with the process's loopback
// certificate, which TLSClient trusts: an https-only platform's fake
// reaches a server there as the real platform reaches one behind a public
// https URL. Close stops it.
func ServeTLS(h http.Handler) *httptest.Server {
	cert, _ := loopback()
	s := httptest.NewUnstartedServer(h)
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	s.StartTLS()
	return s
}

// TLSClient returns a client that trusts the loopback certificate of
// ServeTLS, and only it.
func TLSClient() *http.Client {
	_, pool := loopback()
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
}
