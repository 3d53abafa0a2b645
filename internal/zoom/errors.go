package zoom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/ratelimit"
)

// Zoom's REST error codes that this client treats apart.
const (
	// zoomInvalidToken (HTTP 401) is an access token Zoom rejects.
	zoomInvalidToken = 124
	// zoomMissingScope is an access token whose grant lacks the scope the
	// endpoint needs: a new access token from the same grant would not
	// have it either, so it is never EUNAUTHORIZED.
	zoomMissingScope = 4711
	// zoomUserNotFound (HTTP 404) is a user the caller cannot see.
	zoomUserNotFound = 1001
)

// zoomError is the JSON body of a failed REST call.
type zoomError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// apiError turns Zoom's {"code":124,"message":"..."} into an *onbehalf.Error
// whose message carries Zoom's code and message. A 401 is EUNAUTHORIZED
// (the access token was rejected), unless Zoom says a scope is missing;
// anything else is EUPSTREAM.
func apiError(status int, body []byte, what string) error {
	var z zoomError
	msg := fmt.Sprintf("Zoom error while %s: HTTP %d", what, status)
	if json.Unmarshal(body, &z) == nil && (z.Code != 0 || z.Message != "") {
		msg = fmt.Sprintf("Zoom error %d while %s: %s (HTTP %d)", z.Code, what, clip(z.Message), status)
	}
	code := onbehalf.EUPSTREAM
	if status == http.StatusUnauthorized && z.Code != zoomMissingScope {
		code = onbehalf.EUNAUTHORIZED
	}
	return &onbehalf.Error{Code: code, Message: msg, Err: zoomCodeError{status: status, code: z.Code}}
}

// zoomCodeError keeps Zoom's HTTP status and error code for callers that
// tell answers apart (APIErrorCode).
type zoomCodeError struct{ status, code int }

func (e zoomCodeError) Error() string { return fmt.Sprintf("zoom: HTTP %d, code %d", e.status, e.code) }

// APIErrorCode returns Zoom's error code (e.g. 124, 3000, 4711) and HTTP
// status of a REST error returned by this package, or false when err did
// not come from a Zoom error answer.
func APIErrorCode(err error) (code, status int, ok bool) {
	var z zoomCodeError
	if errors.As(err, &z) {
		return z.code, z.status, true
	}
	return 0, 0, false
}

// oauthError classifies an x/oauth2 error. An invalid_grant (the refresh
// token or code is dead) gets grantCode; invalid_client and every other
// refusal are EUPSTREAM. Messages never hold a token: Zoom's reason is
// dropped when it echoes a code.
func oauthError(err error, what, grantCode string) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		var ue *url.Error
		var ne net.Error
		if errors.As(err, &ue) || errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return transportError(err, what)
		}
		if msg := err.Error(); strings.HasPrefix(msg, "oauth2: cannot fetch token:") {
			// Reading the body failed; x/oauth2 keeps only the text.
			if strings.Contains(msg, "deadline exceeded") || strings.Contains(msg, "timeout") {
				return onbehalf.WrapError(err, onbehalf.ETIMEOUT, "Zoom did not answer in time while "+what+".")
			}
			return onbehalf.WrapError(err, onbehalf.EUPSTREAM, "Zoom's answer was cut off while "+what+".")
		}
		// x/oauth2 read a 200 it could not use (truncated JSON, no
		// access token): its error holds no body.
		return onbehalf.WrapError(err, onbehalf.EUPSTREAM, "Zoom answered "+what+" with a response that could not be read.")
	}
	var z struct {
		Reason string `json:"reason"`
		Error  string `json:"error"`
	}
	_ = json.Unmarshal(re.Body, &z)
	code := re.ErrorCode
	if code == "" {
		code = z.Error
	}
	reason := z.Reason
	if reason == "" {
		reason = re.ErrorDescription
	}
	msg := fmt.Sprintf("Zoom refused %s: %s", what, clip(code))
	if code == "" {
		msg = fmt.Sprintf("Zoom refused %s (HTTP %d)", what, re.Response.StatusCode)
	}
	if reason != "" && !strings.Contains(reason, "code ") {
		msg += " (" + clip(reason) + ")"
	}
	out := &onbehalf.Error{Code: onbehalf.EUPSTREAM, Message: msg + ".", Err: fmt.Errorf("oauth2: HTTP %d", re.Response.StatusCode)}
	if code == "invalid_grant" {
		out.Code = grantCode
	}
	if wait, ok := RetryAfter(re.Response, time.Now()); ok {
		// Zoom said how long to wait (a 429): callers read it with
		// ratelimit.RetryAfterOf, the one carrier of "try again in".
		out.Message += fmt.Sprintf(" Zoom asks to wait %d s.", ratelimit.RetryAfter(wait))
		out.Err = errors.Join(out.Err, ratelimit.TooMany(wait, "Zoom asked to wait."))
	}
	return out
}

// RetryAfter returns how long a 429 or 503 answer asks to wait: its
// Retry-After header, in seconds or as an HTTP date (then from now), and
// false when the answer has none or it cannot be read.
func RetryAfter(resp *http.Response, now time.Time) (time.Duration, bool) {
	if resp == nil || (resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable) {
		return 0, false
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}

// transportError classifies a failure to reach Zoom.
func transportError(err error, what string) error {
	err = scrubURL(err)
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return onbehalf.WrapError(err, onbehalf.ETIMEOUT, "Zoom did not answer in time while "+what+".")
	}
	if errors.Is(err, context.Canceled) {
		return onbehalf.WrapError(err, onbehalf.ETIMEOUT, "The request was cancelled while "+what+".")
	}
	return onbehalf.WrapError(err, onbehalf.EUPSTREAM, "Could not reach Zoom while "+what+".")
}

// scrubURL drops the query of a *url.Error so logs never hold one.
func scrubURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if i := strings.IndexByte(ue.URL, '?'); i >= 0 {
			return &url.Error{Op: ue.Op, URL: ue.URL[:i], Err: ue.Err}
		}
	}
	return err
}

// clip shortens what Zoom said for a message (onbehalf.Clip's rule).
func clip(s string) string { return onbehalf.Clip(strings.TrimSpace(s), 200) }
