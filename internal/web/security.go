package web

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
	"github.com/onbehalf/onbehalf/templates"
)

// Server-side session lifetime. The cookie itself lasts 7 days in the
// browser, but a cookie is only a claim: the server also refuses a session
// older than sessionMaxAge, or unused for sessionIdle, whatever the cookie
// says.
const (
	sessionMaxAge = 7 * 24 * time.Hour
	sessionIdle   = 24 * time.Hour
	// sessionTouch is how stale "last seen" may get before the cookie is
	// rewritten; rewriting it on every request would be wasteful.
	sessionTouch = time.Minute
)

// Session keys of the lifetime check: Unix seconds.
const (
	sessCreated = "created"
	sessSeen    = "seen"
)

// hstsValue is sent when BASE_URL is https. No includeSubDomains: this
// server does not own its parent domain's subdomains (ngrok, shared hosts).
const hstsValue = "max-age=31536000"

// security is the state of the protections: token URL signer, Recall
// signature verifier, rate limits and the page headers.
type security struct {
	signer *tokenurl.Signer
	recall *recallVerifier // nil: Recall signatures not required
	limits *limits
	// headers are set on every reply, built once in the form http.Header
	// stores, so that setting them costs no allocation per reply.
	headers http.Header
}

// newSecurity builds the protections from the options.
func newSecurity(o Options, now func() time.Time) (*security, error) {
	key := tokenurl.DeriveKey(o.OBFSecret)
	if o.OBFSecret == "" {
		// Never sign with a key derived from an empty secret: anyone could.
		// A random key makes URLs valid for this process only.
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	sec := &security{
		signer: &tokenurl.Signer{Key: key, TTL: o.TokenURLTTL, Now: now},
		limits: newLimits(o.RateLimitPerIP, o.RateLimitPerConnection),
	}
	if o.RecallVerificationSecret != "" {
		v, err := newRecallVerifier(o.RecallVerificationSecret)
		if err != nil {
			return nil, err
		}
		sec.recall = v
	}
	csp, err := contentSecurityPolicy()
	if err != nil {
		return nil, err
	}
	// No reply of this server may be cached: pages show token URLs and
	// callbacks return single-use tokens.
	sec.headers = http.Header{
		"Cache-Control":           {"no-store"},
		"Content-Security-Policy": {csp},
		"X-Frame-Options":         {"DENY"},
		"Referrer-Policy":         {"no-referrer"},
		"X-Content-Type-Options":  {"nosniff"},
	}
	if strings.HasPrefix(o.BaseURL, "https://") {
		sec.headers["Strict-Transport-Security"] = []string{hstsValue}
	}
	return sec, nil
}

// styleElement matches the inline <style> elements of the templates.
var styleElement = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

// contentSecurityPolicy is the strict policy of every reply: nothing may
// load (no scripts, images, frames, fonts or connections) except the
// inline <style> of base.html, allowed by its hash, computed here from the
// embedded file so that editing the CSS cannot break the policy. Forms only
// post to this server, no page may frame ours, and <base> is refused.
func contentSecurityPolicy() (string, error) {
	base, err := templates.FS.ReadFile("base.html")
	if err != nil {
		return "", fmt.Errorf("reading base.html: %w", err)
	}
	style := "'none'"
	if m := styleElement.FindAllSubmatch(base, -1); len(m) > 0 {
		var hashes []string
		for _, s := range m {
			if strings.Contains(string(s[1]), "{{") {
				return "", fmt.Errorf("base.html: the <style> element must be static for its CSP hash to hold")
			}
			sum := sha256.Sum256(s[1])
			hashes = append(hashes, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
		}
		style = strings.Join(hashes, " ")
	}
	return "default-src 'none'; style-src " + style + "; form-action 'self'; frame-ancestors 'none'; base-uri 'none'", nil
}

// securityHeaders sets the security headers (and Cache-Control: no-store)
// on every reply: pages, token callbacks and errors alike. The value slices
// are shared; they have no spare capacity, so an Add appends to a copy.
func (s *Server) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	for k, v := range s.sec.headers {
		h[k] = v
	}
	c.Next()
}

// sessionLifetime ends connected sessions that are too old or were idle
// too long, on the server side. A session gets its "created" time on its
// first request after it was connected (connecting starts a new session,
// see handleOAuthCallback), and its "seen" time at most every minute.
func (s *Server) sessionLifetime(c *gin.Context) {
	sess := sessions.Default(c)
	conn, _ := sess.Get(sessConn).(string)
	if conn == "" {
		c.Next()
		return
	}
	now := s.now()
	created, _ := sess.Get(sessCreated).(int64)
	seen, _ := sess.Get(sessSeen).(int64)
	save := func() {
		if err := sess.Save(); err != nil {
			s.log.Warn("saving session", "err", err)
		}
	}
	switch {
	case created == 0:
		sess.Set(sessCreated, now.Unix())
		sess.Set(sessSeen, now.Unix())
		save()
	case now.Sub(time.Unix(created, 0)) > sessionMaxAge || now.Sub(time.Unix(seen, 0)) > sessionIdle:
		s.log.Info("session expired", "conn", conn, "created", time.Unix(created, 0).UTC(), "seen", time.Unix(seen, 0).UTC())
		sess.Clear()
		save()
	case now.Sub(time.Unix(seen, 0)) >= sessionTouch:
		sess.Set(sessSeen, now.Unix())
		save()
	}
	c.Next()
}
