package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Request size limits, checked for every route before any handler runs.
const (
	// maxQueryBytes bounds the raw query string. Token URLs need a few
	// hundred bytes (plus what platforms append); Zoom's OAuth redirect,
	// less than 2 KiB.
	maxQueryBytes = 8 << 10
	// maxBodyBytes bounds any request body; handlers may set less.
	maxBodyBytes = 1 << 20
)

// limitRequest refuses oversized query strings and caps request bodies.
func (s *Server) limitRequest(c *gin.Context) {
	if len(c.Request.URL.RawQuery) > maxQueryBytes {
		c.Abort()
		err := onbehalf.Errorf(onbehalf.EINVALID, "The query string is too long (more than %d bytes).", maxQueryBytes)
		plain(c, onbehalf.HTTPStatus(err), onbehalf.ErrorMessage(err))
		return
	}
	if c.Request.ContentLength > maxBodyBytes {
		c.Abort()
		err := onbehalf.Errorf(onbehalf.EINVALID, "The request body is too large (more than %d bytes).", maxBodyBytes)
		plain(c, http.StatusRequestEntityTooLarge, onbehalf.ErrorMessage(err))
		return
	}
	if c.Request.Body != nil && c.Request.Body != http.NoBody {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes)
	}
	c.Next()
}
