package api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Idempotency keys: every POST honours the header Idempotency-Key. The
// first request with a key runs and its answer is kept IdempotencyTTL;
// a retry with the same key and the same request (method, path, body,
// under the same API key) gets that answer again, with
// Idempotent-Replayed: true, and acts no second time; the same key with
// another request is a 422 (idempotency_mismatch); a retry while the
// first still runs is a 409. The store keeps the keys, so this holds
// across instances and restarts.
const (
	// IdempotencyHeader is the request header that carries the key.
	IdempotencyHeader = "Idempotency-Key"
	// ReplayedHeader marks an answer replayed from an earlier request.
	ReplayedHeader = "Idempotent-Replayed"
	// IdempotencyTTL is how long an answer is replayed.
	IdempotencyTTL = 24 * time.Hour
	// MaxIdempotencyKey bounds the header (a UUID fits many times).
	MaxIdempotencyKey = 255
	// idemLock bounds a run: longer than any request takes (the Zoom and
	// platform timeouts); past it a run never finished (its instance
	// died) no longer holds its key and a retry runs again.
	idemLock = 5 * time.Minute
	// idemWriteTimeout bounds the store write after the run, which is
	// detached from the request (a client gone is the very case a retry
	// follows).
	idemWriteTimeout = 10 * time.Second
)

// replayedHeaders are the headers of an answer kept besides its body.
var replayedHeaders = []string{"Location", "Content-Type"}

// idempotent runs the handler chain under the request's Idempotency-Key,
// if any. A route whose reply carries a secret (a token, a signed URL,
// a connect link: secret) never has its reply stored: there the key only
// refuses a concurrent or mismatched retry, and a retry after the first
// ends runs again (these calls change nothing lasting that a second run
// would double).
func (s *server) idempotent(secret bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		header := c.GetHeader(IdempotencyHeader)
		if header == "" {
			c.Next()
			return
		}
		body, err := s.idemBody(c, header)
		if err != nil {
			c.Abort()
			s.fail(c, err)
			return
		}
		ctx := c.Request.Context()
		key, hash := idemKeys(c.GetString(ctxKeyID), header, c.Request.Method, c.Request.URL.RequestURI(), body)
		now := s.o.Now()
		rec, err := s.o.Store.BeginIdempotent(ctx, key, hash, now.Add(idemLock), now.Add(IdempotencyTTL))
		if err == nil && rec != nil {
			err = replay(c, rec, hash)
		}
		if err != nil || rec != nil {
			c.Abort()
			if err != nil {
				s.fail(c, err)
			}
			return
		}
		w := &captureWriter{ResponseWriter: c.Writer}
		c.Writer = w
		done := false
		defer func() {
			// A panic or a reply not worth keeping frees the key.
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), idemWriteTimeout)
			defer cancel()
			if done {
				if err := s.o.Store.FinishIdempotent(dctx, key, w.response()); err != nil {
					s.logError(dctx, "api: storing an idempotent answer failed: a retry gets 409 until the run's lock passes, then runs again", err)
				}
				return
			}
			if err := s.o.Store.ReleaseIdempotent(dctx, key); err != nil {
				s.logError(dctx, "api: releasing an idempotency key failed: a retry gets 409 until the run's lock passes", err)
			}
		}()
		c.Next()
		done = !secret && keepable(w.Status())
	}
}

// idemBody checks the header and reads the body, which the handler then
// reads again.
func (s *server) idemBody(c *gin.Context, header string) ([]byte, error) {
	if len(header) > MaxIdempotencyKey || !printable(header) {
		return nil, onbehalf.Errorf(onbehalf.EINVALID, "The %s header must have 1 to %d printable ASCII characters.", IdempotencyHeader, MaxIdempotencyKey)
	}
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, maxBody+1))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok || len(body) > maxBody {
		return nil, onbehalf.Errorf(onbehalf.EINVALID, "The request body is too large (more than %d KiB).", maxBody>>10)
	} else if err != nil {
		return nil, onbehalf.WrapError(err, onbehalf.EINVALID, "The request body could not be read.")
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

// idemKeys derives the store key (the API key's ID and the header: one
// caller's keys never meet another's) and the request's fingerprint.
func idemKeys(keyID, header, method, uri string, body []byte) (key string, hash []byte) {
	k := sha256.Sum256([]byte("onbehalf idempotency key\x00" + keyID + "\x00" + header))
	h := sha256.New()
	for _, part := range []string{"onbehalf idempotent request", keyID, method, uri} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(body)
	return "idem_" + hex.EncodeToString(k[:]), h.Sum(nil)
}

// replay answers a request whose key a record holds: its kept answer, or
// why not.
func replay(c *gin.Context, rec *onbehalf.IdempotentRecord, hash []byte) error {
	switch {
	case !hmac.Equal(rec.Hash, hash):
		return onbehalf.Errorf(onbehalf.EMISMATCH, "This %s was used with another request (method, path or body): use a new key for a new request.", IdempotencyHeader)
	case !rec.Done:
		return onbehalf.Errorf(onbehalf.ECONFLICT, "A request with this %s is still running: retry in a moment.", IdempotencyHeader)
	}
	r := rec.Response
	for _, h := range replayedHeaders {
		if v := r.Header[h]; v != "" {
			c.Header(h, v)
		}
	}
	c.Header(ReplayedHeader, "true")
	c.Status(r.Status)
	_, _ = c.Writer.Write(r.Body)
	return nil
}

// keepable reports whether an answer is replayed to retries: every final
// answer, not a failure a retry may get past (5xx, rate limits).
func keepable(status int) bool {
	return status < http.StatusInternalServerError && status != http.StatusTooManyRequests
}

// printable reports whether s is printable ASCII.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// captureWriter keeps a copy of the reply it writes.
type captureWriter struct {
	gin.ResponseWriter
	body bytes.Buffer
}

// Write implements io.Writer.
func (w *captureWriter) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

// WriteString implements io.StringWriter.
func (w *captureWriter) WriteString(s string) (int, error) {
	w.body.WriteString(s)
	return w.ResponseWriter.WriteString(s)
}

// response is the reply written, as kept.
func (w *captureWriter) response() onbehalf.IdempotentResponse {
	r := onbehalf.IdempotentResponse{Status: w.Status(), Header: map[string]string{}, Body: w.body.Bytes()}
	for _, h := range replayedHeaders {
		if v := w.Header().Get(h); v != "" {
			r.Header[h] = v
		}
	}
	return r
}
