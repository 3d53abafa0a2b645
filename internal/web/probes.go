package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/onbehalf/onbehalf/internal/buildinfo"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// The probes an orchestrator (Kubernetes, a load balancer, systemd) asks:
//
//	GET /livez   200 while the process serves; never looks at the store,
//	             so a store outage never gets the process restarted.
//	GET /readyz  200 when the store can read and write; 503 with the
//	             reason otherwise, and 503 from the moment shutdown began
//	             (Drain), so the load balancer stops sending requests
//	             while those in flight finish.
//	GET /healthz 200 when the store can read and write, 503 with the
//	             reason otherwise (it keeps answering 200 while draining:
//	             it says whether the install is healthy, not whether this
//	             process takes new work).
//
// HEAD answers like GET. Every probe says which build runs in the
// X-Onbehalf-Version header, and answers JSON when asked for it (Accept:
// application/json): {"status", "reason", "version", "commit", "date",
// "go"}. The text answer stays "ok" or the reason, as monitors match it.

// Probe paths.
const (
	PathLivez   = "/livez"
	PathReadyz  = "/readyz"
	PathHealthz = "/healthz"
)

// headerVersion names the build in every probe's answer.
const headerVersion = "X-Onbehalf-Version"

// reasonDraining is /readyz's answer while shutting down.
const reasonDraining = "shutting down: this instance takes no new requests"

// probeRoutes mounts /livez and /readyz (GET and HEAD).
func (s *Server) probeRoutes(r *gin.Engine) {
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		r.Handle(m, PathLivez, s.handleLivez)
		r.Handle(m, PathReadyz, s.handleReadyz)
	}
}

// Drain marks the server as shutting down: /readyz answers 503 from now
// on, while every route keeps serving, and every answer closes its
// connection, so that clients reconnect (through the load balancer, to an
// instance still ready). The app calls it on SIGTERM, waits for load
// balancers to notice, then stops accepting connections.
func (s *Server) Drain() { s.draining.Store(true) }

// closeWhenDraining asks the client to close the connection after this
// answer while draining. Closing idle connections from outside instead
// (http.Server.SetKeepAlivesEnabled) races with a request just read: its
// handler would run and its answer be lost.
func (s *Server) closeWhenDraining(c *gin.Context) {
	if s.draining.Load() {
		c.Header("Connection", "close")
	}
}

// Draining reports whether Drain was called.
func (s *Server) Draining() bool { return s.draining.Load() }

// handleLivez handles /livez: the process is up and serving HTTP.
func (s *Server) handleLivez(c *gin.Context) { probeReply(c, http.StatusOK, "") }

// handleReadyz handles /readyz: the store works and shutdown has not
// begun.
func (s *Server) handleReadyz(c *gin.Context) {
	if s.Draining() {
		probeReply(c, http.StatusServiceUnavailable, reasonDraining)
		return
	}
	status, reason := s.storeStatus(c.Request.Context())
	probeReply(c, status, reason)
}

// handleHealthz handles /healthz: 200 when the store can be read and
// written, else 503 with the reason.
func (s *Server) handleHealthz(c *gin.Context) {
	status, reason := s.storeStatus(c.Request.Context())
	probeReply(c, status, reason)
}

// storeStatus checks that the store can read and write: 200 and no
// reason, or 503 and the reason to show (never a secret).
func (s *Server) storeStatus(ctx context.Context) (int, string) {
	if err := s.opts.Store.Ping(ctx); err != nil {
		s.log.ErrorContext(ctx, "health check: the store cannot be read", "err", err)
		return http.StatusServiceUnavailable, "database unavailable: the store cannot be read"
	}
	if err := s.opts.Store.Health(ctx); err != nil {
		return http.StatusServiceUnavailable, "database cannot write: " + onbehalf.ErrorMessage(err)
	}
	return http.StatusOK, ""
}

// probeJSON is a probe's answer in JSON.
type probeJSON struct {
	Status    string `json:"status"`
	Reason    string `json:"reason,omitempty"`
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	Date      string `json:"date,omitempty"`
	GoVersion string `json:"go"`
}

// probeReply answers a probe: "ok" or the reason, as text or JSON, with
// the build in a header. Probes are never cached.
func probeReply(c *gin.Context, status int, reason string) {
	bi := buildinfo.Get()
	c.Header(headerVersion, bi.String())
	c.Header("Cache-Control", "no-store")
	if strings.Contains(c.GetHeader("Accept"), "application/json") {
		j := probeJSON{Status: "ok", Reason: reason, Version: bi.Version, Commit: bi.Commit, Date: bi.Date, GoVersion: bi.GoVersion}
		if status != http.StatusOK {
			j.Status = "unavailable"
		}
		c.JSON(status, j)
		return
	}
	if reason == "" {
		reason = "ok"
	}
	plain(c, status, reason)
}

// isProbe reports whether path is a probe's, which the access log keeps at
// debug level (they are asked every few seconds).
func isProbe(path string) bool {
	return path == PathLivez || path == PathReadyz || path == PathHealthz
}
