package web

import (
	"github.com/gin-gonic/gin"

	"github.com/onbehalf/onbehalf/internal/tracing"
)

// nameSpan names the request's trace span after its route template, never
// its path (a connect link's path holds its ID). Mounted only when tracing
// is on (Options.Traced).
func (s *Server) nameSpan(c *gin.Context) {
	tracing.NameSpan(c.Request.Context(), c.Request.Method, c.FullPath())
}
