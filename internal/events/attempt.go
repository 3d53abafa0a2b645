package events

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// maxResponseBody is how much of a receiver's answer is read (and
// dropped): enough to reuse the connection after the usual short reply,
// never so much that a receiver can hold a delivery slot with an endless
// body.
const maxResponseBody = 64 << 10

// userAgent names the sender to the receiver's logs.
const userAgent = "onbehalf-webhooks/1"

// attempt posts ev to the receiver once, signed at at, and returns ""
// when the receiver answered 2xx, else a short reason for the store and
// the logs ("HTTP 500", "timeout", "connection refused"): never the URL,
// the secret or the receiver's body.
func (d *Deliverer) attempt(ctx context.Context, ev onbehalf.Event, at time.Time) string {
	payload, err := Body(ev)
	if err != nil {
		return "bad event data"
	}
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(payload))
	if err != nil {
		return "bad webhook URL"
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if err := d.signer.sign(req.Header, ev.ID, at, payload); err != nil {
		return "could not sign"
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return failureReason(err)
	}
	// The status decides; the body is read only so that the connection
	// can be reused, and a failure to read it changes nothing.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Sprintf("HTTP %d", resp.StatusCode)
	}
	return ""
}

// failureReason names a request error in a few words. The error itself
// is not kept: a *url.Error quotes the URL, which may carry a credential
// of the receiver.
func failureReason(err error) string {
	var (
		ne   net.Error
		dns  *net.DNSError
		cert *tls.CertificateVerificationError
		unk  x509.UnknownAuthorityError
		host x509.HostnameError
		inv  x509.CertificateInvalidError
		rec  tls.RecordHeaderError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	case errors.As(err, &dns):
		return "DNS lookup failed"
	case errors.As(err, &cert), errors.As(err, &unk), errors.As(err, &host), errors.As(err, &inv), errors.As(err, &rec):
		return "TLS error"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "host unreachable"
	}
	return "request failed"
}

// backoffSteps are the waits after the first failures; after them the
// wait doubles from a minute, up to maxBackoff.
var backoffSteps = []time.Duration{time.Second, 5 * time.Second, 30 * time.Second}

// maxBackoff caps the wait between attempts.
const maxBackoff = time.Hour

// backoff returns the wait after an event's failures-th failed attempt
// (1-based): 1 s, 5 s, 30 s, 1 min, 2 min, 4 min, … 1 h, 1 h, ….
func backoff(failures int) time.Duration {
	if failures < 1 {
		failures = 1
	}
	if failures <= len(backoffSteps) {
		return backoffSteps[failures-1]
	}
	d := time.Minute
	for i := len(backoffSteps) + 1; i < failures && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// nextAttempt returns when to try again after the failures-th failure,
// which ended at end, for an event first tried at first: the backoff, but
// never later than first+retryFor, so the last attempt happens at the end
// of the window. ok is false once the window is over: give up.
func nextAttempt(failures int, first, end time.Time, retryFor time.Duration) (next time.Time, ok bool) {
	deadline := first.Add(retryFor)
	if !end.Before(deadline) {
		return time.Time{}, false
	}
	next = end.Add(backoff(failures))
	if next.After(deadline) {
		next = deadline
	}
	return next, true
}
