// Package tokenurl signs and verifies token URLs: the URLs that bot
// platforms GET to fetch a Zoom token for one connection (and, for OBF
// tokens, one meeting).
//
// A signed URL carries its parameters in the clear and two more:
//
//	user_id=<connection ID>&meeting_id=<digits>&exp=<unix seconds>&sig=<base64url>
//
// sig is HMAC-SHA256 under a key derived from OBF_CALLBACK_SECRET (see
// DeriveKey) over a versioned, length-prefixed encoding of the token kind,
// the connection ID, the meeting ID and exp (see mac). Changing any of them,
// moving a URL from one token kind to another (OBF ↔ ZAK) or using it at or
// after exp makes Verify fail. The secret itself never appears in a URL.
package tokenurl

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Query parameter names of a signed token URL.
const (
	ParamConnID    = "user_id"
	ParamMeetingID = "meeting_id"
	ParamExp       = "exp"
	ParamSig       = "sig"
)

// DefaultTTL is the lifetime of a signed URL when Signer.TTL is zero
// (TOKEN_URL_TTL's default).
const DefaultTTL = 168 * time.Hour

// keyLabel is the HMAC message that derives the signing key from the
// secret. Its version changes whenever the signed encoding does.
const keyLabel = "onbehalf token url v1"

// domain starts every signed message: a version that the key label repeats,
// so that a v2 encoding can never be confused with v1.
const domain = "onbehalf-token-url\x00v1\x00"

// maxExpDigits bounds exp: int64 Unix seconds have at most 19 digits.
const maxExpDigits = 19

// skew is how far past now+TTL an exp may lie: the clock of another
// instance that signed the URL may run a little ahead.
const skew = 5 * time.Minute

// DeriveKey derives the signing key from the server's secret
// (OBF_CALLBACK_SECRET): HMAC-SHA256(secret, "onbehalf token url v1"). The
// secret that plain auth_token URLs carry is thus never the MAC key itself.
func DeriveKey(secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(keyLabel))
	return m.Sum(nil)
}

// Signer signs and verifies token URLs. Its fields must not change once it
// is in use; its methods are safe for concurrent use.
type Signer struct {
	// Key is the HMAC key, normally DeriveKey(OBF_CALLBACK_SECRET).
	Key []byte
	// TTL is the lifetime of the URLs it signs; zero means DefaultTTL.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	pool sync.Pool // of hash.Hash keyed with Key
}

// Sign returns the query parameters of a signed URL for a token kind,
// connection and meeting (empty meetingID: none, as for ZAK), valid for
// TTL from now.
func (s *Signer) Sign(kind onbehalf.TokenKind, connID, meetingID string) url.Values {
	exp := strconv.FormatInt(s.now().Add(s.ttl()).Unix(), 10)
	var sum [sha256.Size]byte
	s.mac(sum[:0], kind, connID, meetingID, exp)
	v := url.Values{
		ParamConnID: {connID},
		ParamExp:    {exp},
		ParamSig:    {base64.RawURLEncoding.EncodeToString(sum[:])},
	}
	if meetingID != "" {
		v[ParamMeetingID] = []string{meetingID}
	}
	return v
}

// Verify checks a signed URL's parameters exactly as the request carried
// them. It returns nil when sig is the MAC of (kind, connID, meetingID, exp)
// and now is before exp; otherwise an *onbehalf.Error with code
// EUNAUTHORIZED whose message names the problem and never the key.
//
// The signature is checked (in constant time) before the expiry, so that
// "expired" is only ever said of a URL this server really signed. exp must
// be canonical decimal (no sign, no leading zeros): "0123" is refused, not
// read as 123. An exp further away than TTL (plus a few minutes of clock
// skew) is refused too, so lowering TOKEN_URL_TTL also shortens the URLs
// already handed out.
func (s *Signer) Verify(kind onbehalf.TokenKind, connID, meetingID, exp, sig string) error {
	if exp == "" {
		return unauthorized("Incomplete token URL: it has sig but no exp.")
	}
	if sig == "" {
		return unauthorized("Incomplete token URL: it has exp but no sig.")
	}
	expUnix, ok := parseExp(exp)
	if !ok {
		return unauthorized("Bad exp: it must be a Unix time in seconds, as the server wrote it (the URL was changed).")
	}
	var want, got [sha256.Size]byte
	if base64.RawURLEncoding.DecodedLen(len(sig)) != len(got) {
		return badSignature()
	}
	if n, err := base64.RawURLEncoding.Strict().Decode(got[:], []byte(sig)); err != nil || n != len(got) {
		return badSignature()
	}
	s.mac(want[:0], kind, connID, meetingID, exp)
	if !hmac.Equal(got[:], want[:]) {
		return badSignature()
	}
	now := s.now()
	at := time.Unix(expUnix, 0).UTC()
	if !now.Before(at) {
		return unauthorized("Signed token URL expired at %s: launch the bot again to get a new token URL (token URL expired).", at.Format(time.RFC3339))
	}
	if at.After(now.Add(s.ttl() + skew)) {
		return unauthorized("Signed token URL expires at %s, later than TOKEN_URL_TTL (%s) allows: launch the bot again to get a new token URL.", at.Format(time.RFC3339), s.ttl())
	}
	return nil
}

// mac appends HMAC-SHA256(Key, message) to dst, where message is the
// domain string followed by each field as a 4-byte big-endian length and
// its bytes. Length prefixes make the encoding injective: no two field
// tuples share a message, whatever bytes the fields hold.
func (s *Signer) mac(dst []byte, kind onbehalf.TokenKind, connID, meetingID, exp string) []byte {
	h, _ := s.pool.Get().(hash.Hash)
	if h == nil {
		h = hmac.New(sha256.New, s.Key)
	}
	h.Reset()
	var buf [128]byte
	msg := append(buf[:0], domain...)
	for _, f := range [...]string{string(kind), connID, meetingID, exp} {
		msg = binary.BigEndian.AppendUint32(msg, uint32(len(f)))
		msg = append(msg, f...)
	}
	h.Write(msg)
	dst = h.Sum(dst)
	s.pool.Put(h)
	return dst
}

// parseExp parses canonical non-negative decimal Unix seconds.
func parseExp(exp string) (int64, bool) {
	if len(exp) > maxExpDigits || (len(exp) > 1 && exp[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(exp); i++ {
		if exp[i] < '0' || exp[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(exp, 10, 64)
	return n, err == nil
}

func (s *Signer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Signer) ttl() time.Duration {
	if s.TTL > 0 {
		return s.TTL
	}
	return DefaultTTL
}

func badSignature() error {
	return unauthorized("Token URL refused: bad signature: the URL was changed or signed by another server.")
}

func unauthorized(format string, args ...any) error {
	return onbehalf.Errorf(onbehalf.EUNAUTHORIZED, format, args...)
}
