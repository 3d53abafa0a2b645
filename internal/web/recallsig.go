package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Recall signs its requests with the Standard Webhooks scheme
// (https://www.standardwebhooks.com, contract §4): headers webhook-id,
// webhook-timestamp and webhook-signature, the latter a space-separated
// list of "v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>"
// where key is the base64 part of the whsec_ secret.
//
// This is a small verifier of our own rather than the reference library
// (github.com/standard-webhooks/standard-webhooks/libraries/go, v0.0.1, its
// only tag): that library reads time.Now directly and fixes the tolerance
// in an unexported variable, so neither a fake clock nor the timestamp
// edges can be tested, and it has no replay protection. The tests check
// this verifier against the reference vectors.
const (
	// signatureWindow is how far a signed request's timestamp (Recall's
	// webhook-timestamp, Zoom's x-zm-request-timestamp) may be from our
	// clock, either way.
	signatureWindow = 5 * time.Minute
	// maxWebhookID bounds webhook-id (and so the replay cache's memory).
	maxWebhookID = 256
	// maxReplayIDs bounds the replay cache.
	maxReplayIDs = 100_000
)

// recallVerifier checks Recall's request signatures and refuses replays.
type recallVerifier struct {
	key  []byte
	seen *replayCache
}

// newRecallVerifier returns a verifier for a whsec_ secret.
func newRecallVerifier(secret string) (*recallVerifier, error) {
	b64 := strings.TrimPrefix(secret, "whsec_")
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(b64)
	}
	if err != nil || len(key) == 0 {
		return nil, errors.New("RECALL_VERIFICATION_SECRET: the part after whsec_ is not base64 (copy the secret from the Recall.ai dashboard → API keys → verification secret)")
	}
	return &recallVerifier{key: key, seen: newReplayCache(maxReplayIDs)}, nil
}

// header returns a Standard Webhooks header, or its svix- twin (Recall's
// own verification code accepts both).
func header(h http.Header, name string) string {
	if v := h.Get("webhook-" + name); v != "" {
		return v
	}
	return h.Get("svix-" + name)
}

// verify checks the signature of a request with the given headers and
// body (empty for GET) at time now, and claims its webhook-id. On success
// it returns a release func that forgets the ID again: call it when the
// request then fails, so that Recall's retry of the same message passes.
// Errors are EUNAUTHORIZED and name the problem, never the key.
func (v *recallVerifier) verify(h http.Header, body []byte, now time.Time) (release func(), err error) {
	id, ts, sigs := header(h, "id"), header(h, "timestamp"), header(h, "signature")
	if id == "" || ts == "" || sigs == "" {
		return nil, onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Missing Recall signature: this server requires requests signed by Recall.ai (RECALL_VERIFICATION_SECRET is set), but the webhook-id, webhook-timestamp or webhook-signature header is missing.")
	}
	if len(id) > maxWebhookID {
		return nil, onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Bad webhook-id: longer than %d bytes.", maxWebhookID)
	}
	at, err := signedAt(ts, now)
	if err == errBadTimestamp {
		return nil, onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Bad webhook-timestamp: it must be a Unix time in seconds.")
	} else if err != nil {
		return nil, onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Stale Recall signature: webhook-timestamp is more than 5 minutes from this server's clock (a replayed request, or a clock out of sync).")
	}
	m := hmac.New(sha256.New, v.key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	want := m.Sum(nil)
	if !anyMatch(sigs, want) {
		return nil, onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Bad Recall signature: no v1 signature in webhook-signature matches (check RECALL_VERIFICATION_SECRET, or the request was changed).")
	}
	// Until the timestamp is stale, the same signed request could be sent
	// again: remember the ID until then.
	if !v.seen.claim(id, at.Add(signatureWindow), now) {
		return nil, onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Replayed Recall request: this webhook-id was already used.")
	}
	return func() { v.seen.release(id) }, nil
}

// anyMatch reports whether any "v1,<base64>" entry of a webhook-signature
// header is want. Entries of other versions are skipped.
func anyMatch(sigs string, want []byte) bool {
	// 44 base64 characters decode to at most 33 bytes: room for a
	// malformed one that must not overflow.
	var got [sha256.Size + 1]byte
	for _, entry := range strings.Split(sigs, " ") {
		version, b64, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" || len(b64) != base64.StdEncoding.EncodedLen(sha256.Size) {
			continue
		}
		n, err := base64.StdEncoding.Decode(got[:], []byte(b64))
		if err == nil && n == sha256.Size && hmac.Equal(got[:n], want) {
			return true
		}
	}
	return false
}

// Errors of signedAt.
var (
	errBadTimestamp   = errors.New("not a Unix time in seconds")
	errStaleTimestamp = errors.New("more than 5 minutes from this server's clock")
)

// signedAt parses a signed request's timestamp (Unix seconds) and checks
// it is within signatureWindow of now.
func signedAt(ts string, now time.Time) (time.Time, error) {
	sec, ok := parseUnixSeconds(ts)
	if !ok {
		return time.Time{}, errBadTimestamp
	}
	at := time.Unix(sec, 0)
	if d := now.Sub(at); d > signatureWindow || d < -signatureWindow {
		return time.Time{}, errStaleTimestamp
	}
	return at, nil
}

// parseUnixSeconds parses canonical non-negative decimal seconds (no sign, no
// leading zeros, at most 19 digits).
func parseUnixSeconds(s string) (int64, bool) {
	if s == "" || len(s) > 19 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' || n > (1<<63-1-int64(c-'0'))/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// replayCache remembers webhook-ids until their timestamps go stale. It is
// in memory and per process: with several instances behind a load
// balancer, or after a restart, a replay within the 5-minute window can
// reach an instance that has not seen the ID. It holds at most max claims;
// beyond that the oldest is forgotten early. Only requests with a valid
// signature are claimed, so nobody without the secret can fill it.
type replayCache struct {
	mu    sync.Mutex
	max   int
	until map[string]time.Time
	queue []claimed // in claim order
}

// claimed is an ID and the time until which it is remembered.
type claimed struct {
	id    string
	until time.Time
}

func newReplayCache(max int) *replayCache {
	return &replayCache{max: max, until: make(map[string]time.Time)}
}

// claim remembers id until the given time and reports whether it was new
// (or no longer remembered) at now.
func (r *replayCache) claim(id string, until, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.queue) > 0 && (!r.queue[0].until.After(now) || len(r.queue) >= r.max) {
		r.pop()
	}
	if u, ok := r.until[id]; ok && u.After(now) {
		return false
	}
	r.until[id] = until
	r.queue = append(r.queue, claimed{id, until})
	return true
}

// pop forgets the oldest claim, unless its ID was claimed again since.
func (r *replayCache) pop() {
	c := r.queue[0]
	r.queue = r.queue[1:]
	if u, ok := r.until[c.id]; ok && u.Equal(c.until) {
		delete(r.until, c.id)
	}
}

// release forgets id.
func (r *replayCache) release(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.until, id)
}

// len returns the number of IDs remembered.
func (r *replayCache) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.until)
}
