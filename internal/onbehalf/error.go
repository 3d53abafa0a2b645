package onbehalf

import (
	"errors"
	"fmt"
)

// Error codes: the one error vocabulary of the project. The web layer maps
// each to an HTTP status in one place.
const (
	ECONFLICT     = "conflict"     // connection dead: reconnect needed
	EINTERNAL     = "internal"     // a bug or an unexpected failure
	EINVALID      = "invalid"      // bad input from the caller
	ENOTFOUND     = "not_found"    // no such entity
	EUNAUTHORIZED = "unauthorized" // missing or wrong credentials
	EUNAVAILABLE  = "unavailable"  // not configured yet
	EUPSTREAM     = "upstream"     // Zoom or the bot platform said no
	ETIMEOUT      = "timeout"      // Zoom or the bot platform did not answer in time
	ETOOMANY      = "too_many"     // rate limited: try again later
)

// Error is an error with a code from the vocabulary above and a message that
// is safe to show to a user: it never holds a secret or a token. Err, when
// set, carries details for logs only.
type Error struct {
	Code    string
	Message string
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

// WrapError returns an *Error with the given code and message that keeps err
// for the logs.
func WrapError(err error, code, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
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
