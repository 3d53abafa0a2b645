// Package tokenurl signs and verifies token URLs: the URLs that bot
// platforms fetch Zoom tokens from, for one connection, one meeting and a
// set of token kinds (and, when the URL was made for a bot, that bot).
//
// A signed URL carries its parameters in the clear and two more:
//
//	user_id=<connection ID>&meeting_id=<digits>&kinds=obf,join&platform=recall&bot=<bot ID>&exp=<unix seconds>&sig=<base64url>
//
// sig is HMAC-SHA256 over a versioned, length-prefixed encoding of the
// fields (see appendMessage). Changing any of them, moving a URL to other
// kinds or another platform, or using it at or after exp makes Verify
// fail. Parameters a platform appends (meeting_number, bot_id, extra, …)
// are not signed and do not matter here.
//
// Four versions exist; versions 3 and 4 are signed, the older ones only
// verified:
//
//   - Version 4 (URLs that carry also=) names several connections in order
//     of preference: user_id is the first, also= the others, comma-separated
//     (connection IDs are base64url: they hold no comma). It signs what
//     version 3 signs and the whole ordered list, and whether candidates
//     after the first were offered as teammates (team=1: their consent is
//     checked again at each fetch). A URL of one connection is still signed
//     as version 3, byte for byte as before.
//   - Version 3 (URLs that carry platform=) also signs the name of the bot
//     platform the URL was made for, so that a URL made for one platform is
//     refused on every other platform's routes (the token handler compares
//     it with the route's platform): the strictest platform check (Recall's
//     request signature) cannot be bypassed through the weakest route.
//   - Version 2 (kinds= but no platform=) was signed until version 3. It is
//     still verified; it names no platform, so the token handler binds it
//     through the bot it names (that bot's recorded platform), and accepts
//     a version 2 URL that names no bot on any route: it cannot be
//     attributed, and it expires within TOKEN_URL_TTL of when it was made.
//   - Version 1 (no kinds=, the kind given by the path) was signed with a
//     key derived from OBF_CALLBACK_SECRET; such URLs are only verified,
//     with the legacy keys the database recorded at the upgrade, so that
//     changing OBF_CALLBACK_SECRET never breaks a signed URL. Only the
//     routes that have a default kind serve them, and those are Recall's
//     (the only platform before kinds were signed): they are bound to it.
//
// Versions 2 and 3 are signed with a random key generated once and kept in
// the database, which nothing else uses.
package tokenurl

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Query parameter names of a token URL.
const (
	ParamConnID    = "user_id"
	ParamMeetingID = "meeting_id"
	ParamKinds     = "kinds"
	ParamBot       = "bot"
	// ParamPlatform is the platform a version 3 URL was made for.
	ParamPlatform = "platform"
	// ParamAlso holds the further candidates of a version 4 URL, after
	// user_id, comma-separated; ParamTeam=1 says they were offered as
	// teammates.
	ParamAlso = "also"
	ParamTeam = "team"
	ParamExp  = "exp"
	ParamSig  = "sig"
	// ParamSecret is the plain secret of unsigned URLs (auth_token).
	ParamSecret = "auth_token"
)

// DefaultTTL is the lifetime of a signed URL when Signer.TTL is zero
// (TOKEN_URL_TTL's default).
const DefaultTTL = 168 * time.Hour

// KeySize is the size of a signing key.
const KeySize = 32

// keyLabel is the HMAC message that derived version 1 keys from
// OBF_CALLBACK_SECRET.
const keyLabel = "onbehalf token url v1"

// Domains start every signed message, so that one version's message can
// never be read as another's.
const (
	domainV1 = "onbehalf-token-url\x00v1\x00"
	domainV2 = "onbehalf-token-url\x00v2\x00"
	domainV3 = "onbehalf-token-url\x00v3\x00"
	domainV4 = "onbehalf-token-url\x00v4\x00"
)

// maxExpDigits bounds exp: int64 Unix seconds have at most 19 digits.
const maxExpDigits = 19

// skew is how far past now+TTL an exp may lie: the clock of another
// instance that signed the URL may run a little ahead.
const skew = 5 * time.Minute

// DeriveKey derives a version 1 key from an OBF_CALLBACK_SECRET:
// HMAC-SHA256(secret, "onbehalf token url v1"). Only legacy URLs are
// verified with such keys.
func DeriveKey(secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(keyLabel))
	return m.Sum(nil)
}

// NewKey returns a random signing key.
func NewKey() []byte {
	k := make([]byte, KeySize)
	_, _ = rand.Read(k) // never fails (crypto/rand panics on failure)
	return k
}

// Params are the signed fields of a token URL.
type Params struct {
	// Kinds are the token kinds the URL serves.
	Kinds []onbehalf.TokenKind
	// ConnID is the connection (user_id).
	ConnID string
	// MeetingID binds the URL to one meeting; "" for a URL of a legacy
	// ZAK route, which named none.
	MeetingID string
	// BotID is this server's bot the URL was made for, "" when none.
	BotID string
	// Platform is the name of the bot platform the URL was made for
	// (onbehalf.Platform.Name). Sign requires it; Verify returns "" for
	// URLs of versions 1 and 2, which named none.
	Platform string
	// Candidates, when it holds more than one connection, are the
	// connections the URL may mint for, in order of preference;
	// Candidates[0] must be ConnID. Nil (or one) is a URL of ConnID alone.
	// At most onbehalf.MaxCandidates.
	Candidates []string
	// Teammates says that Candidates after the first were offered as
	// teammates of the first: each must still consent when a token is
	// fetched.
	Teammates bool
}

// Multi reports whether the URL names several candidates.
func (p Params) Multi() bool { return len(p.Candidates) > 1 }

// v4 reports whether p is signed as version 4: several candidates, or one
// borrowed from a teammate (whose consent is checked at each fetch).
func (p Params) v4() bool { return p.Multi() || p.Teammates && len(p.Candidates) == 1 }

// Query is a token URL's parameters as a request carries them.
type Query struct {
	ConnID, MeetingID, Kinds, BotID, Platform, Exp, Sig, Secret string
	// Also and Team are version 4's further candidates and teammate flag.
	Also, Team string
	// HasKinds, HasBot, HasPlatform and HasAlso tell a present-but-empty
	// parameter from a missing one (they choose the version).
	HasKinds, HasBot, HasPlatform, HasAlso bool
	// Dup names the first parameter given more than once, "" when none.
	Dup string
}

// Signed reports whether the query claims to be a signed URL.
func (q Query) Signed() bool { return q.Sig != "" || q.Exp != "" }

// knownParams are the parameters ReadQuery reads, in the order a duplicate
// is reported.
var knownParams = []string{ParamConnID, ParamMeetingID, ParamKinds, ParamPlatform, ParamBot, ParamAlso, ParamTeam, ParamSecret, ParamExp, ParamSig}

// ReadQuery reads a token URL's parameters from a parsed query. A
// parameter given twice is reported in Dup, never silently resolved.
func ReadQuery(v url.Values) Query {
	q := Query{
		ConnID:      v.Get(ParamConnID),
		MeetingID:   v.Get(ParamMeetingID),
		Kinds:       v.Get(ParamKinds),
		BotID:       v.Get(ParamBot),
		Platform:    v.Get(ParamPlatform),
		Exp:         v.Get(ParamExp),
		Sig:         v.Get(ParamSig),
		Secret:      v.Get(ParamSecret),
		HasKinds:    v.Has(ParamKinds),
		HasBot:      v.Has(ParamBot),
		HasPlatform: v.Has(ParamPlatform),
	}
	if v.Has(ParamAlso) || v.Has(ParamTeam) {
		q.Also, q.Team, q.HasAlso = v.Get(ParamAlso), v.Get(ParamTeam), true
	}
	for _, k := range knownParams {
		if len(v[k]) > 1 {
			q.Dup = k
			break
		}
	}
	return q
}

// Signer signs and verifies token URLs. Its fields must not change once it
// is in use; its methods are safe for concurrent use.
type Signer struct {
	// Key signs version 3 URLs and verifies versions 2 and 3.
	Key []byte
	// LegacyKeys verify version 1 URLs (see DeriveKey); none signs.
	LegacyKeys [][]byte
	// TTL is the lifetime of the URLs it signs; zero means DefaultTTL.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	pool sync.Pool // of hash.Hash keyed with Key
}

// Sign returns the query parameters of a signed (version 3) URL for p,
// valid for TTL from now. p.Platform must name the platform the URL is
// for: a URL bound to no platform would open every platform's routes, so
// signing one is a bug, and Sign panics.
func (s *Signer) Sign(p Params) url.Values {
	if p.Platform == "" {
		panic("tokenurl: Sign without a platform: every token URL is bound to the platform it is made for")
	}
	exp := strconv.FormatInt(s.now().Add(s.ttl()).Unix(), 10)
	kinds := onbehalf.KindsString(p.Kinds)
	var sum [sha256.Size]byte
	if p.v4() {
		if p.Candidates[0] != p.ConnID || len(p.Candidates) > onbehalf.MaxCandidates || slices.ContainsFunc(p.Candidates, badCandidate) {
			panic("tokenurl: Sign with a bad candidate list: the caller checks it")
		}
		team := teamFlag(p.Teammates)
		s.macV4(sum[:0], p.Platform, kinds, p.Candidates, team, p.MeetingID, p.BotID, exp)
		v := s.values(p, kinds, exp, sum[:])
		v[ParamAlso] = []string{strings.Join(p.Candidates[1:], ",")}
		if team != "" {
			v[ParamTeam] = []string{team}
		}
		return v
	}
	s.mac(sum[:0], domainV3, p.Platform, kinds, p.ConnID, p.MeetingID, p.BotID, exp)
	return s.values(p, kinds, exp, sum[:])
}

// values are the parameters versions 3 and 4 share.
func (s *Signer) values(p Params, kinds, exp string, sum []byte) url.Values {
	v := url.Values{
		ParamConnID:   {p.ConnID},
		ParamKinds:    {kinds},
		ParamPlatform: {p.Platform},
		ParamExp:      {exp},
		ParamSig:      {base64.RawURLEncoding.EncodeToString(sum)},
	}
	if p.MeetingID != "" {
		v[ParamMeetingID] = []string{p.MeetingID}
	}
	if p.BotID != "" {
		v[ParamBot] = []string{p.BotID}
	}
	return v
}

// URL returns base + path + "?" + the signed parameters of p, in a fixed
// order. It never holds a secret.
func (s *Signer) URL(base, path string, p Params) string {
	v := s.Sign(p)
	var b strings.Builder
	b.WriteString(base + path)
	sep := "?"
	for _, k := range []string{ParamConnID, ParamAlso, ParamTeam, ParamMeetingID, ParamKinds, ParamPlatform, ParamBot, ParamExp, ParamSig} {
		if x, ok := v[k]; ok {
			b.WriteString(sep + k + "=" + url.QueryEscape(x[0]))
			sep = "&"
		}
	}
	return b.String()
}

// Verify checks a signed URL's parameters exactly as the request carried
// them and returns what it grants. A URL with platform= is a version 3
// URL, one with kinds= or bot= but no platform= a version 2 URL (the
// returned Platform is "": the caller binds it through its bot, if any).
// A URL that names no kinds and no bot is a version 1 URL: legacyKind is
// the kind its path served ("" when the path serves none that way), and
// it is checked with the legacy keys. Errors are EUNAUTHORIZED and name
// the problem, never a key.
//
// The signature is checked (in constant time) before the expiry, so that
// "expired" is only ever said of a URL this server really signed. exp must
// be canonical decimal: "0123" is refused, not read as 123. An exp further
// away than TTL (plus a few minutes of clock skew) is refused too, so
// lowering TOKEN_URL_TTL also shortens the URLs already handed out.
func (s *Signer) Verify(q Query, legacyKind onbehalf.TokenKind) (Params, error) {
	if q.Exp == "" {
		return Params{}, unauthorized("Incomplete token URL: it has sig but no exp.")
	}
	if q.Sig == "" {
		return Params{}, unauthorized("Incomplete token URL: it has exp but no sig.")
	}
	expUnix, ok := parseExp(q.Exp)
	if !ok {
		return Params{}, unauthorized("Bad exp: it must be a Unix time in seconds, as the server wrote it (the URL was changed).")
	}
	var got, want [sha256.Size]byte
	if base64.RawURLEncoding.DecodedLen(len(q.Sig)) != len(got) {
		return Params{}, badSignature()
	}
	if n, err := base64.RawURLEncoding.Strict().Decode(got[:], []byte(q.Sig)); err != nil || n != len(got) {
		return Params{}, badSignature()
	}
	var p Params
	if q.HasAlso {
		kinds, err := onbehalf.ParseKinds(q.Kinds)
		if err != nil || onbehalf.KindsString(kinds) != q.Kinds || q.Platform == "" || (q.Team != "" && q.Team != teamFlag(true)) {
			return Params{}, badSignature()
		}
		cands := []string{q.ConnID}
		if q.Also != "" || q.Team == "" { // an empty also: one teammate's URL
			cands = append(cands, strings.Split(q.Also, ",")...)
		}
		if len(cands) > onbehalf.MaxCandidates || slices.ContainsFunc(cands, badCandidate) {
			return Params{}, badSignature()
		}
		s.macV4(want[:0], q.Platform, q.Kinds, cands, q.Team, q.MeetingID, q.BotID, q.Exp)
		if !hmac.Equal(got[:], want[:]) {
			return Params{}, badSignature()
		}
		p = Params{Kinds: kinds, ConnID: q.ConnID, MeetingID: q.MeetingID, BotID: q.BotID, Platform: q.Platform,
			Candidates: cands, Teammates: q.Team != ""}
	} else if q.HasPlatform {
		kinds, err := onbehalf.ParseKinds(q.Kinds)
		if err != nil || onbehalf.KindsString(kinds) != q.Kinds || q.Platform == "" {
			return Params{}, badSignature()
		}
		s.mac(want[:0], domainV3, q.Platform, q.Kinds, q.ConnID, q.MeetingID, q.BotID, q.Exp)
		if !hmac.Equal(got[:], want[:]) {
			return Params{}, badSignature()
		}
		p = Params{Kinds: kinds, ConnID: q.ConnID, MeetingID: q.MeetingID, BotID: q.BotID, Platform: q.Platform}
	} else if !q.HasKinds && !q.HasBot {
		if legacyKind == "" || !s.verifyV1(got[:], legacyKind, q) {
			return Params{}, badSignature()
		}
		p = Params{Kinds: []onbehalf.TokenKind{legacyKind}, ConnID: q.ConnID, MeetingID: q.MeetingID}
	} else {
		kinds, err := onbehalf.ParseKinds(q.Kinds)
		if err != nil || onbehalf.KindsString(kinds) != q.Kinds {
			return Params{}, badSignature()
		}
		s.mac(want[:0], domainV2, q.Kinds, q.ConnID, q.MeetingID, q.BotID, q.Exp)
		if !hmac.Equal(got[:], want[:]) {
			return Params{}, badSignature()
		}
		p = Params{Kinds: kinds, ConnID: q.ConnID, MeetingID: q.MeetingID, BotID: q.BotID}
	}
	now := s.now()
	at := time.Unix(expUnix, 0).UTC()
	if !now.Before(at) {
		return Params{}, unauthorized("Signed token URL expired at %s: launch the bot again to get a new token URL (token URL expired).", at.Format(time.RFC3339))
	}
	if at.After(now.Add(s.ttl() + skew)) {
		return Params{}, unauthorized("Signed token URL expires at %s, later than TOKEN_URL_TTL (%s) allows: launch the bot again to get a new token URL.", at.Format(time.RFC3339), s.ttl())
	}
	return p, nil
}

// macV4 appends the version 4 signature: the fields of version 3, the
// number of candidates and each of them (so that no two lists share a
// message), and the teammate flag.
func (s *Signer) macV4(dst []byte, platform, kinds string, cands []string, team, meetingID, botID, exp string) []byte {
	fields := make([]string, 0, 7+len(cands))
	fields = append(fields, platform, kinds, strconv.Itoa(len(cands)))
	fields = append(fields, cands...)
	fields = append(fields, team, meetingID, botID, exp)
	return s.mac(dst, domainV4, fields...)
}

// badCandidate reports whether id cannot stand in a candidate list: empty,
// or holding the list's separator.
func badCandidate(id string) bool { return id == "" || strings.Contains(id, ",") }

// teamFlag is the team= value of a URL whose further candidates are
// teammates, "" otherwise.
func teamFlag(on bool) string {
	if on {
		return "1"
	}
	return ""
}

// verifyV1 reports whether sig is a version 1 signature of q under one of
// the legacy keys.
func (s *Signer) verifyV1(sig []byte, kind onbehalf.TokenKind, q Query) bool {
	var buf [160]byte
	msg := appendMessage(buf[:0], domainV1, string(kind), q.ConnID, q.MeetingID, q.Exp)
	ok := false
	for _, k := range s.LegacyKeys {
		m := hmac.New(sha256.New, k)
		m.Write(msg)
		if hmac.Equal(sig, m.Sum(nil)) {
			ok = true // no early exit: the time taken does not tell which key
		}
	}
	return ok
}

// mac appends HMAC-SHA256(Key, message of domain and fields) to dst (the
// message of versions 2 and 3).
func (s *Signer) mac(dst []byte, domain string, fields ...string) []byte {
	h, _ := s.pool.Get().(hash.Hash)
	if h == nil {
		h = hmac.New(sha256.New, s.Key)
	}
	h.Reset()
	var buf [256]byte
	h.Write(appendMessage(buf[:0], domain, fields...))
	dst = h.Sum(dst)
	s.pool.Put(h)
	return dst
}

// appendMessage appends to msg the domain string followed by each field
// as a 4-byte big-endian length and its bytes. Length prefixes make the
// encoding injective: no two field tuples share a message, whatever bytes
// the fields hold.
func appendMessage(msg []byte, domain string, fields ...string) []byte {
	msg = append(msg, domain...)
	for _, f := range fields {
		msg = binary.BigEndian.AppendUint32(msg, uint32(len(f)))
		msg = append(msg, f...)
	}
	return msg
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
