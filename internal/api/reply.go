package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/ratelimit"
)

// maxBody bounds a request body: a batch of 100 participants with long
// identifiers fits many times.
const maxBody = 128 << 10

// errorReply is the body of every error: {"error": {...}}.
type errorReply struct {
	Error errorJSON `json:"error"`
}

// errorJSON is an error in a reply: the code of the onbehalf vocabulary,
// a message safe to show, and the input field it is about when known.
type errorJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// errorOf renders err.
func errorOf(err error) errorJSON {
	return errorJSON{Code: onbehalf.ErrorCode(err), Message: onbehalf.ErrorMessage(err), Field: onbehalf.ErrorField(err)}
}

// marshal encodes v as JSON without escaping <, > and & (replies are not
// HTML).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// writeJSON writes v as the JSON reply.
func writeJSON(c *gin.Context, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		writeError(c, onbehalf.WrapError(err, onbehalf.EINTERNAL, "Internal error."))
		return
	}
	c.Data(status, "application/json; charset=utf-8", b)
}

// writeError writes err with the status its code maps to, and
// Retry-After when it is a rate limit.
func writeError(c *gin.Context, err error) {
	writeErrorStatus(c, onbehalf.HTTPStatus(err), err)
}

// writeErrorStatus writes err with the given status.
func writeErrorStatus(c *gin.Context, status int, err error) {
	if secs := ratelimit.RetryAfterOf(err); secs > 0 {
		c.Header("Retry-After", strconv.Itoa(secs))
	}
	if status == http.StatusUnauthorized && c.Writer.Header().Get("WWW-Authenticate") == "" {
		c.Header("WWW-Authenticate", authChallenge)
	}
	b, _ := marshal(errorReply{Error: errorOf(err)})
	c.Data(status, "application/json; charset=utf-8", b)
}

// fail answers err and logs it: bugs at error, failures of Zoom, a
// platform or the store at warn, the caller's mistakes at debug (an
// integration's bugs must not fill the log).
func (s *server) fail(c *gin.Context, err error) {
	s.logError(c.Request.Context(), "api request failed", err, "method", c.Request.Method, "path", c.FullPath())
	writeError(c, err)
}

// logError logs err at the level it deserves, with its details (never a
// token: errors carry none).
func (s *server) logError(ctx context.Context, msg string, err error, args ...any) {
	status := onbehalf.HTTPStatus(err)
	level := slog.LevelDebug
	switch {
	case onbehalf.ErrorCode(err) == onbehalf.EINTERNAL:
		level = slog.LevelError
	case status >= 500:
		level = slog.LevelWarn
	}
	if !s.log.Enabled(ctx, level) {
		return
	}
	s.log.Log(ctx, level, msg, append(args, "status", status, "code", onbehalf.ErrorCode(err), "err", err)...)
}

// decode reads the request's JSON object into dst: unknown fields,
// values of the wrong type, trailing data and oversized bodies are
// EINVALID errors that name the field.
func decode(c *gin.Context, dst any) error {
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, maxBody+1))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok || len(body) > maxBody {
		return onbehalf.Errorf(onbehalf.EINVALID, "The request body is too large (more than %d KiB).", maxBody>>10)
	} else if err != nil {
		return onbehalf.WrapError(err, onbehalf.EINVALID, "The request body could not be read.")
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return onbehalf.Errorf(onbehalf.EINVALID, "Missing JSON body: this call takes a JSON object (see GET /api/v1/openapi.json).")
	}
	return decodeObject(body, dst, "")
}

// decodeObject decodes a JSON object strictly into dst; field names the
// object in errors ("" for the body, "participants[3]" for an item).
func decodeObject(raw []byte, dst any, field string) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		if field == "" {
			return onbehalf.Errorf(onbehalf.EINVALID, "The request body must be a JSON object.")
		}
		return onbehalf.FieldError(field, "Bad %s: expected an object.", field)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err, field, reflect.TypeOf(dst))
	}
	if _, err := dec.Token(); err != io.EOF {
		return onbehalf.Errorf(onbehalf.EINVALID, "The request body has data after its JSON object.")
	}
	return nil
}

// jsonError turns a decoding error into an EINVALID error naming the
// field, inside the object named prefix; t is the type decoded into.
func jsonError(err error, prefix string, t reflect.Type) error {
	if _, ok := errors.AsType[*onbehalf.Error](err); ok {
		return err // a field's own check
	}
	if e, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		field := join(prefix, fieldPath(dropEmbedded(e.Field, t)))
		return onbehalf.FieldError(field, "Bad %s: expected %s, got a JSON %s.", field, jsonType(e.Type), e.Value)
	}
	if e, ok := errors.AsType[*json.SyntaxError](err); ok {
		return onbehalf.Errorf(onbehalf.EINVALID, "The request body is not valid JSON (at byte %d): %s.", e.Offset, e.Error())
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if u, err := strconv.Unquote(name); err == nil {
			name = u
		}
		field := join(prefix, name)
		return onbehalf.FieldError(field, "Unknown field %q: see GET /api/v1/openapi.json for the fields this call takes.", onbehalf.Clip(field, 60))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return onbehalf.Errorf(onbehalf.EINVALID, "The request body is cut off: it is not a whole JSON object.")
	}
	return onbehalf.WrapError(err, onbehalf.EINVALID, "The request body could not be read as JSON.")
}

// join names field inside the object prefix.
func join(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix
	}
	return prefix + "." + field
}

// dropEmbedded removes from encoding/json's path the Go names of the
// structs embedded in t ("who.connection_id" is connection_id of the
// body): a client never sees them.
func dropEmbedded(path string, t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return path
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Tag.Get("json") == "" {
			if rest, ok := strings.CutPrefix(path, f.Name+"."); ok {
				return dropEmbedded(rest, f.Type)
			}
		}
	}
	return path
}

// fieldPath writes encoding/json's path ("participants.3.email") the way
// messages name fields ("participants[3].email").
func fieldPath(p string) string {
	parts := strings.Split(p, ".")
	var b strings.Builder
	for i, part := range parts {
		if _, err := strconv.Atoi(part); err == nil && i > 0 {
			b.WriteString("[" + part + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(part)
	}
	return b.String()
}

// jsonType names the JSON type a Go type decodes from.
func jsonType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Name() == "RawMessage" {
			return "a JSON value"
		}
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Pointer:
		return jsonType(t.Elem())
	}
	return "another type"
}
