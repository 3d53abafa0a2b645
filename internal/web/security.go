package web

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
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

// security holds the reply headers, built once in the form http.Header
// stores, so that setting them costs no allocation per reply.
type security struct {
	headers http.Header
	// states are the OAuth states already used (burnt before the code
	// exchange).
	states *usedStates
}

// newSecurity builds the reply headers.
func newSecurity(o Options) (*security, error) {
	csp, err := contentSecurityPolicy()
	if err != nil {
		return nil, err
	}
	// No reply of this server may be cached: pages show token URLs and
	// callbacks return single-use tokens.
	sec := &security{states: newUsedStates(maxUsedStates), headers: http.Header{
		"Cache-Control":           {"no-store"},
		"Content-Security-Policy": {csp},
		"X-Frame-Options":         {"DENY"},
		"Referrer-Policy":         {"no-referrer"},
		"X-Content-Type-Options":  {"nosniff"},
	}}
	if strings.HasPrefix(o.BaseURL, "https://") {
		sec.headers["Strict-Transport-Security"] = []string{hstsValue}
	}
	return sec, nil
}

// inlineElement matches the inline <style> and <script> elements of the
// templates.
var inlineElement = regexp.MustCompile(`(?s)<(style|script)>(.*?)</(?:style|script)>`)

// contentSecurityPolicy is the strict policy of every reply: nothing may
// load except the inline <style> and <script> elements of the templates,
// allowed by their hashes, computed here from the embedded files so that
// editing them cannot break the policy; scripts may only connect to this
// server (the live status stream). Forms only post to this server, no page
// may frame ours, and <base> is refused.
func contentSecurityPolicy() (string, error) {
	hashes := map[string][]string{}
	names, err := fs.Glob(templates.FS, "*.html")
	if err != nil {
		return "", err
	}
	for _, name := range names {
		b, err := templates.FS.ReadFile(name)
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", name, err)
		}
		for _, m := range inlineElement.FindAllSubmatch(b, -1) {
			if strings.Contains(string(m[2]), "{{") {
				return "", fmt.Errorf("%s: an inline <%s> element must be static for its CSP hash to hold", name, m[1])
			}
			sum := sha256.Sum256(m[2])
			hashes[string(m[1])] = append(hashes[string(m[1])], "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
		}
	}
	src := func(kind string) string {
		if len(hashes[kind]) == 0 {
			return "'none'"
		}
		return strings.Join(hashes[kind], " ")
	}
	return "default-src 'none'; style-src " + src("style") + "; script-src " + src("script") +
		"; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'", nil
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

// maxUsedStates bounds the burnt-state memory; past it the oldest go (a
// state also expires after stateTTL, and the code it came with after 5
// minutes at Zoom).
const maxUsedStates = 100_000

// usedStates remembers used OAuth states until they would have expired.
// It is per process: a replay sent to another instance is stopped by
// Zoom's one-time code instead.
type usedStates struct {
	mu    sync.Mutex
	max   int
	until map[string]time.Time
	order []string
}

func newUsedStates(max int) *usedStates {
	return &usedStates{max: max, until: make(map[string]time.Time)}
}

// claim marks state used at now; false when it was used already.
func (u *usedStates) claim(state string, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	for len(u.order) > 0 && (len(u.order) >= u.max || !u.until[u.order[0]].After(now)) {
		delete(u.until, u.order[0])
		u.order = u.order[1:]
	}
	if t, ok := u.until[state]; ok && t.After(now) {
		return false
	}
	u.until[state] = now.Add(stateTTL)
	u.order = append(u.order, state)
	return true
}
