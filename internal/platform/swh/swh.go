// Package swh verifies Standard Webhooks signatures
// (https://www.standardwebhooks.com), which Recall.ai puts on its token
// requests and status webhooks and Svix (Meeting BaaS, legacy Recall
// workspaces) on its webhooks: headers webhook-id, webhook-timestamp and
// webhook-signature (or their svix- twins), the signature a space-separated
// list of "v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>"
// where key is the base64 part of the whsec_ secret.
//
// It is a small verifier of our own rather than the reference library
// (github.com/standard-webhooks/standard-webhooks/libraries, v0.0.1): that
// library reads time.Now directly and fixes its tolerance in an unexported
// variable, so neither a fake clock nor the timestamp edges can be tested,
// and it has no replay protection. The tests check this verifier against
// the library's reference vectors; outgoing webhooks are signed with the
// library itself.
package swh

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

const (
	// Window is how far a signed request's timestamp may be from our
	// clock, either way.
	Window = 5 * time.Minute
	// maxID bounds webhook-id (and so the replay cache's memory).
	maxID = 256
	// maxReplayIDs bounds the replay cache.
	maxReplayIDs = 100_000
)

// Verifier checks Standard Webhooks signatures made with one of its keys
// and refuses replays.
type Verifier struct {
	title, variable string
	keys            [][]byte
	seen            *replayCache
}

// New returns a verifier for whsec_ secrets; title names the platform and
// variable its setting, for messages.
func New(title, variable string, secrets ...string) (*Verifier, error) {
	v := &Verifier{title: title, variable: variable, seen: newReplayCache(maxReplayIDs)}
	for _, s := range secrets {
		k, err := onbehalf.ParseWebhookSecret(s)
		if err != nil {
			return nil, errors.New(variable + ": " + err.Error())
		}
		v.keys = append(v.keys, k)
	}
	if len(v.keys) == 0 {
		return nil, errors.New(variable + ": no secret given")
	}
	return v, nil
}

// Header returns a Standard Webhooks header, or its svix- twin.
func Header(h http.Header, name string) string {
	if v := h.Get("webhook-" + name); v != "" {
		return v
	}
	return h.Get("svix-" + name)
}

// Verify checks the signature of a request with the given headers and
// body (empty for GET) at time now, and claims its webhook-id. bind names
// what the request asks for (its path and query): an ID is only ever
// served for one of them. finish must be called when the request is over,
// with whether it was served: an ID whose request failed may be retried by
// the platform, but only for the same bind. Errors are EUNAUTHORIZED and
// name the problem, never the key.
func (v *Verifier) Verify(h http.Header, body []byte, now time.Time, bind string) (finish func(served bool), err error) {
	id, ts, sigs := Header(h, "id"), Header(h, "timestamp"), Header(h, "signature")
	if id == "" || ts == "" || sigs == "" {
		return nil, onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Missing %s signature: this server requires signed requests (%s is set), but the webhook-id, webhook-timestamp or webhook-signature header is missing.", v.title, v.variable)
	}
	if len(id) > maxID {
		return nil, onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Bad webhook-id: longer than %d bytes.", maxID)
	}
	at, err := SignedAt(ts, now)
	if errors.Is(err, ErrBadTimestamp) {
		return nil, onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Bad webhook-timestamp: it must be a Unix time in seconds.")
	} else if err != nil {
		return nil, onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Stale %s signature: webhook-timestamp is more than 5 minutes from this server's clock (a replayed request, or a clock out of sync).", v.title)
	}
	if !v.match(id, ts, body, sigs) {
		return nil, onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Bad %s signature: no v1 signature in webhook-signature matches (check %s, or the request was changed).", v.title, v.variable)
	}
	// Until the timestamp is stale, the same signed request could be sent
	// again: remember the ID until then.
	if !v.seen.claim(id, at.Add(Window), now, bind) {
		return nil, onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Replayed %s request: this webhook-id was already used.", v.title)
	}
	return func(served bool) {
		if !served {
			v.seen.release(id, bind)
		}
	}, nil
}

// match reports whether any "v1,<base64>" entry of sigs is the signature
// of (id, ts, body) under one of the keys. Entries of other versions are
// skipped.
func (v *Verifier) match(id, ts string, body []byte, sigs string) bool {
	ok := false
	for _, key := range v.keys {
		want := mac(key, id, ts, body)
		// 44 base64 characters decode to at most 33 bytes: room for a
		// malformed one that must not overflow.
		var got [sha256.Size + 1]byte
		for _, entry := range strings.Split(sigs, " ") {
			version, b64, found := strings.Cut(entry, ",")
			if !found || version != "v1" || len(b64) != base64.StdEncoding.EncodedLen(sha256.Size) {
				continue
			}
			n, err := base64.StdEncoding.Decode(got[:], []byte(b64))
			if err == nil && n == sha256.Size && hmac.Equal(got[:n], want) {
				ok = true
			}
		}
	}
	return ok
}

// mac is HMAC-SHA256(key, id + "." + ts + "." + body).
func mac(key []byte, id, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Sign returns the webhook-signature value of (id, ts, body) under key,
// as the platforms send it: fakes and tests sign with it.
func Sign(key []byte, id string, ts time.Time, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, strconv.FormatInt(ts.Unix(), 10), body))
}

// Errors of SignedAt.
var (
	ErrBadTimestamp   = errors.New("not a Unix time in seconds")
	ErrStaleTimestamp = errors.New("more than 5 minutes from this server's clock")
)

// SignedAt parses a signed request's timestamp (canonical Unix seconds: no
// sign, no leading zeros) and checks it is within Window of now.
func SignedAt(ts string, now time.Time) (time.Time, error) {
	sec, ok := parseUnixSeconds(ts)
	if !ok {
		return time.Time{}, ErrBadTimestamp
	}
	at := time.Unix(sec, 0)
	if d := now.Sub(at); d > Window || d < -Window {
		return time.Time{}, ErrStaleTimestamp
	}
	return at, nil
}

// parseUnixSeconds parses canonical non-negative decimal seconds (at most
// 19 digits).
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
