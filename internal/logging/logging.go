// Package logging builds the process logger: text or JSON lines (LOG_FORMAT),
// a level (LOG_LEVEL), and the request ID of the request being served on
// every line logged with its context.
package logging

import (
	"bytes"
	"context"
	"io"
	"log"
	"log/slog"
	"strings"
)

// New returns a logger writing to w in format ("text" or "json") at level
// ("debug", "info", "warn", "error"). Lines logged with a context that
// carries a request ID (WithRequestID) get a request_id attribute.
func New(w io.Writer, format, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: l}
	var h slog.Handler
	if strings.EqualFold(format, "json") {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(ctxHandler{h})
}

// requestIDKey is the context key of the request ID.
type requestIDKey struct{}

// WithRequestID returns ctx carrying a request ID.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request ID ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// ctxHandler adds the context's request ID to every record.
type ctxHandler struct{ slog.Handler }

// Handle implements slog.Handler.
func (h ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h ctxHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return ctxHandler{h.Handler.WithAttrs(as)}
}

// WithGroup implements slog.Handler.
func (h ctxHandler) WithGroup(name string) slog.Handler { return ctxHandler{h.Handler.WithGroup(name)} }

// CaptureStdlog sends what libraries print with the standard log package
// (gin-contrib/sessions reports unreadable cookies that way) to logger at
// debug level, so that junk cookies never reach stderr outside the logger.
func CaptureStdlog(logger *slog.Logger) {
	log.SetFlags(0)
	log.SetOutput(debugWriter{logger})
}

// debugWriter writes each line at debug level.
type debugWriter struct{ l *slog.Logger }

func (w debugWriter) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimRight(p, "\n"), []byte("\n")) {
		w.l.Debug(string(line), "source", "stdlog")
	}
	return len(p), nil
}
