package api

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/ratelimit"
)

// KeyPrefix starts every key NewKey makes, so that a leaked key is easy
// to recognize (secret scanners, logs).
const KeyPrefix = "obk_"

// PrefixLen is how many characters of a key its stored Prefix keeps.
const PrefixLen = 12

// Failed key checks per client IP, as for the token callbacks: a burst of
// failBurst, refilled at failRate per second.
const (
	failBurst = 30
	failRate  = 1
	// maxLimiterKeys bounds each rate-limit table.
	maxLimiterKeys = 10_000
	// maxKeyLen bounds a presented key (hashing stays cheap).
	maxKeyLen = 256
)

// ctxKeyID is where auth leaves the caller's key ID on the Gin context.
const ctxKeyID = "onbehalf.api_key_id"

// offMessage is the answer of every route while no key is configured.
const offMessage = "The integration API is off: create a key with `onbehalf apikey create --name NAME` or set API_KEYS, then restart."

// NewKey makes a new API key: "obk_" and 32 random bytes in base64url.
// It returns the key, to show once, and its record to store (a random ID,
// the key's SHA-256 and its first PrefixLen characters); the caller sets
// Name.
func NewKey() (key string, k onbehalf.APIKey) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics on failure)
	key = KeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	return key, onbehalf.APIKey{
		ID:     "key_" + strings.ToLower(rand.Text()[:20]),
		Hash:   HashKey(key),
		Prefix: key[:PrefixLen],
	}
}

// HashKey returns the SHA-256 of a key: what the store keeps and looks
// keys up by.
func HashKey(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// Stored keys found are remembered for keyCacheTTL, so that a busy caller
// costs at most one store read per key every keyCacheTTL. The bound on
// revocation follows: a key revoked in the store (onbehalf apikey revoke,
// or any other instance) is refused by every instance at most keyCacheTTL
// (2 s) after the revocation commits; a revocation made through this
// process's keyring (revoke) is refused here at once. At most
// maxCachedKeys are remembered.
const (
	keyCacheTTL   = 2 * time.Second
	maxCachedKeys = 1024
)

// keyring checks presented keys against API_KEYS and the stored keys.
type keyring struct {
	env   []envKey
	store Store
	now   func() time.Time

	mu    sync.Mutex
	cache map[[sha256.Size]byte]cachedKey
	// noted is when each stored key's use was last written.
	noted map[string]time.Time
}

// keyUseEvery bounds how often a key's last use is written: once a
// minute per key, whatever the traffic.
const keyUseEvery = time.Minute

// noteUse records that a stored key was accepted, at most once every
// keyUseEvery per key; a failed write is retried a minute later (the
// figure is for people, not for security).
func (k *keyring) noteUse(ctx context.Context, id string) {
	if strings.HasPrefix(id, "env_") {
		return
	}
	now := k.now()
	k.mu.Lock()
	if len(k.noted) >= maxCachedKeys {
		clear(k.noted)
	}
	last, ok := k.noted[id]
	if ok && now.Sub(last) < keyUseEvery {
		k.mu.Unlock()
		return
	}
	k.noted[id] = now
	k.mu.Unlock()
	_ = k.store.NoteAPIKeyUsed(ctx, id, now)
}

// cachedKey is a stored key found recently: its hash and ID, and until
// when it may be trusted without reading the store.
type cachedKey struct {
	hash  []byte
	id    string
	until time.Time
}

// envKey is a key of API_KEYS: its hash, and an ID for rate limits and
// streams that reveals nothing about it.
type envKey struct {
	hash []byte
	id   string
}

func newKeyring(keys []string, st Store, now func() time.Time) *keyring {
	k := &keyring{store: st, now: now, cache: make(map[[sha256.Size]byte]cachedKey), noted: make(map[string]time.Time)}
	for _, key := range keys {
		id := sha256.Sum256([]byte("onbehalf api key id\x00" + key))
		k.env = append(k.env, envKey{hash: HashKey(key), id: "env_" + hex.EncodeToString(id[:6])})
	}
	return k
}

// check returns the ID of the key presented, or EUNAUTHORIZED. Hashes are
// compared in constant time: every key of API_KEYS is compared, and a
// stored key found by its hash is compared again.
func (k *keyring) check(ctx context.Context, presented string) (string, error) {
	if presented == "" || len(presented) > maxKeyLen {
		return "", errWrongKey()
	}
	sum := HashKey(presented)
	found := ""
	for _, e := range k.env {
		if hmac.Equal(e.hash, sum) {
			found = e.id
		}
	}
	if found != "" {
		return found, nil
	}
	if id, ok := k.cached(sum); ok {
		return id, nil
	}
	sk, err := k.store.APIKeyByHash(ctx, sum)
	switch {
	case onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND:
		return "", errWrongKey()
	case err != nil:
		return "", err
	case !hmac.Equal(sk.Hash, sum):
		return "", errWrongKey()
	}
	k.remember(sum, sk.ID)
	return sk.ID, nil
}

// cached returns the ID of a stored key found less than keyCacheTTL ago.
func (k *keyring) cached(sum []byte) (string, bool) {
	k.mu.Lock()
	e, ok := k.cache[[sha256.Size]byte(sum)]
	k.mu.Unlock()
	if !ok || !k.now().Before(e.until) || !hmac.Equal(e.hash, sum) {
		return "", false
	}
	return e.id, true
}

// remember caches a stored key found now.
func (k *keyring) remember(sum []byte, id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.cache) >= maxCachedKeys {
		clear(k.cache)
	}
	k.cache[[sha256.Size]byte(sum)] = cachedKey{hash: sum, id: id, until: k.now().Add(keyCacheTTL)}
}

// keyRevoker deletes stored keys (the store).
type keyRevoker interface {
	RevokeAPIKey(ctx context.Context, id string) error
}

// revoke deletes a stored key and forgets it at once, so that this
// process refuses it from the next request on; other processes refuse it
// within keyCacheTTL.
func (k *keyring) revoke(ctx context.Context, st keyRevoker, id string) error {
	if err := st.RevokeAPIKey(ctx, id); err != nil {
		return err
	}
	k.forget(id)
	return nil
}

// forget drops every cached entry of the key with the given ID.
func (k *keyring) forget(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for sum, e := range k.cache {
		if e.id == id {
			delete(k.cache, sum)
		}
	}
}

// configured reports whether any key exists: API_KEYS, or a stored key.
// Stored keys are read each time, so that a key created while the server
// runs (with a store several processes share) turns the API on at once,
// and revoking the last one turns it off (within keyCacheTTL for a key
// used just before).
func (k *keyring) configured(ctx context.Context) (bool, error) {
	if len(k.env) > 0 {
		return true, nil
	}
	keys, err := k.store.APIKeys(ctx)
	return len(keys) > 0, err
}

func errWrongKey() error {
	return onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Wrong API key: it is neither in API_KEYS nor a key made with `onbehalf apikey create` (revoked keys stop working).")
}

// auth lets through requests that carry a valid API key within its rate
// limit, and leaves the key's ID on the context. While no key exists the
// API is off (404). Failed checks take from the client IP's budget; past
// it they are answered 429.
func (s *server) auth(c *gin.Context) {
	ctx := c.Request.Context()
	presented, ok := bearer(c.GetHeader("Authorization"))
	var id string
	var err error
	if !ok {
		err = onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Missing API key: send the header Authorization: Bearer <API key>.")
	} else {
		id, err = s.keys.check(ctx, presented)
	}
	if err != nil {
		if onbehalf.ErrorCode(err) == onbehalf.EUNAUTHORIZED {
			if on, cerr := s.keys.configured(ctx); cerr == nil && !on {
				err = onbehalf.Errorf(onbehalf.ENOTFOUND, "%s", offMessage)
			} else if allowed, wait := s.o.Failures.Allow(ratelimit.IPKey(c.ClientIP()), s.o.Now()); !allowed {
				err = ratelimit.TooMany(wait, "Too many failed API key checks from your address.")
			}
		}
		if onbehalf.ErrorCode(err) == onbehalf.EUNAUTHORIZED && ok {
			c.Header("WWW-Authenticate", authChallenge+`, error="invalid_token"`)
		}
		c.Abort()
		s.fail(c, err)
		return
	}
	if s.perKey != nil {
		ok, wait := s.perKey.Allow(id, s.o.Now())
		s.rateLimitHeaders(c, id)
		if !ok {
			c.Abort()
			s.fail(c, ratelimit.TooMany(wait, "Too many requests with this API key (RATE_LIMIT_PER_API_KEY)."))
			return
		}
	}
	s.keys.noteUse(ctx, id)
	c.Set(ctxKeyID, id)
	c.Next()
}

// authChallenge is the WWW-Authenticate of every 401: an API key as a
// bearer token.
const authChallenge = `Bearer realm="onbehalf"`

// rateLimitPolicy names the per-key budget in the RateLimit headers.
const rateLimitPolicy = `"per-key"`

// rateLimitHeaders tells the caller its per-key budget the way the IETF
// httpapi RateLimit draft does: RateLimit-Policy (the quota per minute)
// and RateLimit (requests left, seconds until the budget is full again).
func (s *server) rateLimitHeaders(c *gin.Context, id string) {
	left, full := s.perKey.Budget(id, s.o.Now())
	c.Header("RateLimit-Policy", rateLimitPolicy+";q="+strconv.Itoa(s.perKey.Burst())+";w=60")
	c.Header("RateLimit", rateLimitPolicy+";r="+strconv.Itoa(left)+";t="+strconv.Itoa(int(math.Ceil(full.Seconds()))))
}

// enabled lets public routes through while the API is on.
func (s *server) enabled(c *gin.Context) {
	on, err := s.keys.configured(c.Request.Context())
	if err == nil && !on {
		err = onbehalf.Errorf(onbehalf.ENOTFOUND, "%s", offMessage)
	}
	if err != nil {
		c.Abort()
		s.fail(c, err)
		return
	}
	c.Next()
}

// takeMore takes n more requests from the caller's per-key budget (a
// batch counts one per token it mints); past it, nothing is minted.
func (s *server) takeMore(c *gin.Context, n int) error {
	if s.perKey == nil {
		return nil
	}
	id := c.GetString(ctxKeyID)
	now := s.o.Now()
	for range n {
		if ok, wait := s.perKey.Allow(id, now); !ok {
			return ratelimit.TooMany(wait, "Too many tokens minted with this API key (RATE_LIMIT_PER_API_KEY): this batch needs one per token.")
		}
	}
	return nil
}

// bearer reads "Bearer <key>" (the scheme in any case).
func bearer(h string) (string, bool) {
	const scheme = "bearer "
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", false
	}
	key := strings.TrimSpace(h[len(scheme):])
	return key, key != ""
}
