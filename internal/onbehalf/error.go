package onbehalf

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes: the one error vocabulary of the project. HTTPStatus maps
// each to an HTTP status, the one place where that happens.
const (
	ECONFLICT     = "conflict"     // the state changed under the caller (a stale write); nothing was changed
	EDISCONNECTED = "disconnected" // the Zoom grant is dead: the person must reconnect
	EINTERNAL     = "internal"     // a bug or an unexpected failure
	EINVALID      = "invalid"      // bad input from the caller
	ENOTFOUND     = "not_found"    // no such entity
	ESTORAGE      = "storage"      // the store cannot write (disk full, read-only): nothing was lost, try later
	EUNAUTHORIZED = "unauthorized" // missing or wrong credentials
	EUNAVAILABLE  = "unavailable"  // not configured, or shutting down
	EUPSTREAM     = "upstream"     // Zoom or the bot platform said no
	ETIMEOUT      = "timeout"      // Zoom or the bot platform did not answer in time
	ETOOMANY      = "too_many"     // rate limited: try again later
	EFORBIDDEN    = "forbidden"    // known caller, but this server's rules refuse it
	// EMISMATCH: an Idempotency-Key reused with another request; nothing was done.
	EMISMATCH = "idempotency_mismatch"
	// EMETHOD: a known path asked with a method it does not serve.
	EMETHOD = "method_not_allowed"
)

// Error is an error with a code from the vocabulary above and a message that
// is safe to show to a user: it never holds a secret or a token. Err, when
// set, carries details for logs only. Field, when set, names the input
// field a EINVALID error is about (the JSON API reports it).
type Error struct {
	Code    string
	Message string
	Field   string
	Err     error
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EINVALID *Error about one input field.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns an *Error with the given code and message that keeps err
// for the logs.
func WrapError(err error, code, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// Recode returns err with another code and the same message and field: a
// caller that knows better what an error means for its own caller (a code
// Zoom rejected is the upstream's answer, not a dead connection).
func Recode(err error, code string) *Error {
	return &Error{Code: code, Message: ErrorMessage(err), Field: ErrorField(err), Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	} else if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of the first *Error in err's
// chain, or a generic message for any other error.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	} else if e, ok := errors.AsType[*Error](err); ok {
		return e.Message
	}
	return "Internal error."
}

// ErrorField returns the input field the first *Error in err's chain is
// about, or "".
func ErrorField(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Field
	}
	return ""
}

// HTTPStatus maps the error vocabulary to HTTP statuses: the one place
// where that happens, for pages, token callbacks and the JSON API alike.
func HTTPStatus(err error) int {
	switch ErrorCode(err) {
	case "":
		return http.StatusOK
	case EINVALID:
		return http.StatusBadRequest
	case EUNAUTHORIZED:
		return http.StatusUnauthorized
	case EFORBIDDEN:
		return http.StatusForbidden
	case ENOTFOUND:
		return http.StatusNotFound
	case ECONFLICT, EDISCONNECTED:
		return http.StatusConflict
	case ESTORAGE:
		return http.StatusInsufficientStorage
	case EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case EUPSTREAM:
		return http.StatusBadGateway
	case ETIMEOUT:
		return http.StatusGatewayTimeout
	case ETOOMANY:
		return http.StatusTooManyRequests
	case EMISMATCH:
		return http.StatusUnprocessableEntity
	case EMETHOD:
		return http.StatusMethodNotAllowed
	}
	return http.StatusInternalServerError
}
