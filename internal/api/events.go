package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Stream serves the event stream (Server-Sent Events, Last-Event-ID) of
// one API key; connID "" streams every connection's events. A non-nil
// error means nothing was written: the API answers it as JSON (a bad
// Last-Event-ID, too many streams).
type Stream interface {
	Serve(w http.ResponseWriter, r *http.Request, key, connID string) error
}

// StreamFunc adapts a function to Stream.
type StreamFunc func(w http.ResponseWriter, r *http.Request, key, connID string) error

// Serve calls f.
func (f StreamFunc) Serve(w http.ResponseWriter, r *http.Request, key, connID string) error {
	return f(w, r, key, connID)
}

// streamEvents handles GET /events: the outbox's events as Server-Sent
// Events, resumed after Last-Event-ID (header, or the last_event_id
// parameter), optionally for one connection (?connection_id=). The
// connection is not looked up: a deleted connection's events
// (connection.deleted) are still worth hearing.
func (s *server) streamEvents(c *gin.Context) error {
	q, err := query(c, "connection_id", "last_event_id")
	if err != nil {
		return err
	}
	connID := q.Get("connection_id")
	if err := checkID("connection_id", connID, maxID); err != nil {
		return err
	}
	if s.o.Stream == nil {
		return onbehalf.Errorf(onbehalf.EUNAVAILABLE, "The event stream is not available on this server.")
	}
	return s.o.Stream.Serve(c.Writer, c.Request, c.GetString(ctxKeyID), connID)
}
