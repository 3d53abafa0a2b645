package attendee

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// How Attendee's requests are authenticated: the project's webhook secret
// signs them (X-Webhook-Signature over the canonical JSON), and nothing
// else, not even a timestamp, so served token requests are remembered.

// SignatureHeader carries Attendee's signature on token callbacks and
// webhooks: base64(HMAC-SHA256(project webhook secret, canonical JSON)).
const SignatureHeader = "X-Webhook-Signature"

// SecretSize is the size of an Attendee project's webhook secret
// (secrets.token_bytes(32), shown base64-encoded on Settings → Webhooks).
const SecretSize = 32

// ParseSecret decodes an ATTENDEE_WEBHOOK_SECRET value: the base64 of 32
// bytes (padded or not), as Attendee's dashboard shows it. The error never
// holds the value.
func ParseSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil || len(key) != SecretSize {
		return nil, errors.New("must be the webhook secret of the Attendee project as Settings → Webhooks shows it: base64 of " + strconv.Itoa(SecretSize) + " bytes")
	}
	return key, nil
}

// signCanonical returns the signature of canonical JSON under key.
func signCanonical(key, canonical []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(canonical)
	return m.Sum(nil)
}

// verifySigned checks the X-Webhook-Signature of a body under key and
// returns the parsed body and its signature (as computed: text decoding
// to the same bytes is the same signature). what names the request for messages ("token
// request", "status webhook"). Nothing of the body is read before the
// signature matched; every error is EUNAUTHORIZED and never holds the key
// or the signature.
func verifySigned(key []byte, header string, body []byte, what string) (any, []byte, error) {
	header = strings.TrimSpace(header)
	if header == "" {
		return nil, nil, onbehalf.Errorf(onbehalf.EUNAUTHORIZED,
			"Missing Attendee signature: %s is set, so every %s must carry Attendee's %s header, and this one has none.", VarWebhookSecret, what, SignatureHeader)
	}
	got, err := base64.StdEncoding.DecodeString(header)
	if err != nil || len(got) != sha256.Size {
		return nil, nil, onbehalf.Errorf(onbehalf.EUNAUTHORIZED,
			"Bad Attendee signature: %s is not the base64 of an HMAC-SHA256.", SignatureHeader)
	}
	v, err := parseJSON(body)
	var canonical []byte
	if err == nil {
		canonical, err = canonicalOf(v)
	}
	if err != nil {
		return nil, nil, &onbehalf.Error{Code: onbehalf.EUNAUTHORIZED, Err: err,
			Message: "Cannot verify the Attendee signature: the body is not JSON that Attendee signs (" + err.Error() + ")."}
	}
	want := signCanonical(key, canonical)
	if !hmac.Equal(got, want) {
		return nil, nil, onbehalf.Errorf(onbehalf.EUNAUTHORIZED,
			"Bad Attendee signature: %s does not match. Check that %s is the webhook secret of the Attendee project that sends this %s (Settings → Webhooks), or the request was changed on the way.",
			SignatureHeader, VarWebhookSecret, what)
	}
	return v, want, nil
}

// Attendee's token callback carries no timestamp and no nonce: its body
// (bot_id, bot_metadata, callback_type, meeting_url) and so its signature
// are the same every time for one bot. Whoever captured one request (URL,
// body and X-Webhook-Signature) could send it again. What bounds that:
//
//   - the signed token URL: its expiry (exp, TOKEN_URL_TTL), its
//     connection, meeting and kinds;
//   - the meeting: the body's meeting_url must name the URL's meeting, and
//     an OBF token only lets a bot in while its person is in that meeting;
//   - this ledger: the served (bot_id, signature) pairs, remembered until
//     the URL expires.
//
// Does Attendee ever send the same request twice? Not by retrying: one
// POST per bot process, no retry (bots/external_callback_utils.py). But a
// web bot blocked by Zoom repeatedly gets a new pod (bot_controller.py,
// BLOCKED_BY_PLATFORM_REPEATEDLY → tasks/restart_bot_pod_task.py, 60 s
// later, and only while the bot is less than 15 minutes old), and the new
// pod fetches its tokens again with the very same body and signature.
// Refusing every second request would leave such a bot without tokens. So
// an identical request is served again only within replayWindow of its
// first serve and at most maxServes times in all; after that, until the
// URL expires, it is refused. A request that was not served (Zoom failed,
// the URL was wrong) does not count.
//
// The ledger is in memory and per process: with several instances behind
// a load balancer, or after a restart, each instance serves a pair up to
// maxServes times. It holds at most maxLedger pairs (beyond that the
// oldest is forgotten early); only requests with a valid signature reach
// it, so nobody without the secret can fill it.
const (
	// replayWindow is how long after its first serve an identical request
	// is served again: Attendee restarts a bot's pod only within 15
	// minutes of the bot's start; the rest is room for scheduling.
	replayWindow = 30 * time.Minute
	// maxServes bounds the serves of one identical request: the first
	// fetch and a few pod restarts.
	maxServes = 5
	// maxLedger bounds the pairs remembered.
	maxLedger = 100_000
	// maxRemember caps how long a pair is remembered when the URL's exp is
	// absent (plain auth_token URLs) or absurdly far.
	maxRemember = 400 * 24 * time.Hour
)

// ledger remembers served token requests. Its methods are safe for
// concurrent use.
type ledger struct {
	mu    sync.Mutex
	m     map[[sha256.Size]byte]*serving
	queue []*serving // in creation order
}

// serving is what the ledger knows of one (bot_id, signature) pair.
type serving struct {
	key     [sha256.Size]byte
	first   time.Time // the first claim of the pair
	until   time.Time // when to forget it
	served  int
	pending int // claimed by requests still under way
	gone    bool
}

func newLedger() *ledger {
	return &ledger{m: make(map[[sha256.Size]byte]*serving)}
}

// ledgerKey is the fixed-size key of a (bot_id, signature) pair.
func ledgerKey(botID string, signature []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(strconv.Itoa(len(botID))))
	h.Write([]byte{0})
	h.Write([]byte(botID))
	h.Write(signature)
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// claim lets a request with the pair key be served at now, remembering it
// until the time given (the URL's expiry), or refuses it (EUNAUTHORIZED).
// finish must be called when the request is over, with whether it was
// served.
func (l *ledger) claim(key [sha256.Size]byte, now, until time.Time) (finish func(served bool), err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.expire(now)
	s := l.m[key]
	switch {
	case s == nil:
		if until.Before(now.Add(replayWindow)) {
			until = now.Add(replayWindow)
		}
		s = &serving{key: key, first: now, until: until}
		l.m[key] = s
		l.queue = append(l.queue, s)
	case s.served > 0 && now.Sub(s.first) > replayWindow:
		return nil, onbehalf.Errorf(onbehalf.EUNAUTHORIZED,
			"Replayed Attendee request: this bot's signed token request was first served %s ago. Attendee sends it again only when it restarts a bot soon after its start; a later copy is refused.",
			now.Sub(s.first).Truncate(time.Minute))
	case s.served+s.pending >= maxServes:
		return nil, onbehalf.Errorf(onbehalf.EUNAUTHORIZED,
			"Replayed Attendee request: this bot's signed token request was already served %d times, the most this server allows.", maxServes)
	}
	if until.After(s.until) {
		s.until = until
	}
	s.pending++
	var once sync.Once
	return func(served bool) {
		once.Do(func() { l.finish(s, served) })
	}, nil
}

// finish records the end of a request that claimed s.
func (l *ledger) finish(s *serving, served bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s.pending--
	if served {
		s.served++
	}
	if s.served == 0 && s.pending == 0 && !s.gone {
		s.gone = true
		delete(l.m, s.key)
	}
}

// expire forgets the pairs at the front of the queue whose time is over,
// and the oldest ones while the queue is full; pairs finish dropped (never
// served) leave the queue when they reach its front.
func (l *ledger) expire(now time.Time) {
	for len(l.queue) > 0 {
		s := l.queue[0]
		if !s.gone && s.until.After(now) && len(l.queue) < maxLedger {
			return
		}
		l.queue[0] = nil
		l.queue = l.queue[1:]
		if !s.gone {
			s.gone = true
			delete(l.m, s.key)
		}
	}
}

// len returns the number of pairs remembered.
func (l *ledger) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

// urlExpiry reads the exp parameter (Unix seconds) of a token URL: when to
// forget a pair served for it, capped at maxRemember from now.
func urlExpiry(exp string, now time.Time) time.Time {
	limit := now.Add(maxRemember)
	sec, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || sec <= 0 || sec > limit.Unix() {
		return limit
	}
	return time.Unix(sec, 0)
}
