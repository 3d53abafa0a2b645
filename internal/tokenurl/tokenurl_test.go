package tokenurl_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/clocktest"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
)

const (
	secret  = "test-obf-secret-0123456789"
	conn    = "Q2xvbm5lY3Rpb25JRDAx"
	meeting = "85012345678"
	// plat is the platform the URLs of these tests are made for.
	plat = "recall"
)

// newSigner returns a signer with a fixed version 2 key and, as legacy
// key, the one today's servers derived from secret.
func newSigner(c *clocktest.Clock) *tokenurl.Signer {
	return &tokenurl.Signer{Key: v2Key, LegacyKeys: [][]byte{tokenurl.DeriveKey(secret)}, TTL: time.Hour, Now: c.Now}
}

// v2Key is a fixed version 2 signing key.
var v2Key = []byte("0123456789abcdef0123456789abcdef")

// signV1 signs a version 1 URL exactly as onbehalf signed them before
// version 2 existed (from the written specification, see referenceSig),
// valid for ttl from now.
func signV1(now time.Time, ttl time.Duration, kind, connID, meetingID string) url.Values {
	exp := strconv.FormatInt(now.Add(ttl).Unix(), 10)
	v := url.Values{"user_id": {connID}, "exp": {exp}, "sig": {referenceSig(secret, kind, connID, meetingID, exp)}}
	if meetingID != "" {
		v.Set("meeting_id", meetingID)
	}
	return v
}

// verifyV1Fields verifies version 1 fields as a request on a route whose
// legacy kind is kind would.
func verifyV1Fields(s *tokenurl.Signer, kind onbehalf.TokenKind, connID, meetingID, exp, sig string) error {
	_, err := s.Verify(tokenurl.Query{ConnID: connID, MeetingID: meetingID, Exp: exp, Sig: sig}, kind)
	return err
}

// start is a fixed instant with a fractional second, so that exp rounding
// is exercised.
var start = time.Date(2026, 3, 2, 9, 30, 15, 500_000_000, time.UTC)

// verifyValues runs Verify on the parameters of a URL.
func verifyValues(s *tokenurl.Signer, kind onbehalf.TokenKind, v url.Values) error {
	_, err := s.Verify(tokenurl.ReadQuery(v), kind)
	return err
}

func TestSignShape(t *testing.T) {
	c := clocktest.New(start)
	s := newSigner(c)
	v := s.Sign(tokenurl.Params{Platform: plat, Kinds: []onbehalf.TokenKind{onbehalf.KindJoin, onbehalf.KindOBF}, ConnID: conn, MeetingID: meeting, BotID: "bot_1"})
	if v.Get("user_id") != conn || v.Get("meeting_id") != meeting || v.Get("kinds") != "obf,join" || v.Get("bot") != "bot_1" || v.Get("platform") != plat {
		t.Fatalf("params %v", v)
	}
	if want := strconv.FormatInt(start.Add(time.Hour).Unix(), 10); v.Get("exp") != want {
		t.Fatalf("exp %q, want %q", v.Get("exp"), want)
	}
	if sig := v.Get("sig"); len(sig) != 43 || strings.ContainsAny(sig, "+/=") {
		t.Fatalf("sig %q is not unpadded base64url of 32 bytes", sig)
	}
	if strings.Contains(v.Encode(), secret) {
		t.Fatal("URL carries the secret")
	}
	z := s.Sign(tokenurl.Params{Platform: plat, Kinds: []onbehalf.TokenKind{onbehalf.KindZAK}, ConnID: conn})
	if z.Has("meeting_id") || z.Has("bot") || len(z) != 5 {
		t.Fatalf("ZAK params %v", z)
	}
	u := s.URL("https://x.example", "/attendee/zoom-tokens", tokenurl.Params{Platform: plat, Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}, ConnID: "a+b", MeetingID: meeting})
	if want := "https://x.example/attendee/zoom-tokens?user_id=a%2Bb&meeting_id=" + meeting + "&kinds=obf&platform=recall&exp="; !strings.HasPrefix(u, want) {
		t.Fatalf("URL %s, want prefix %s", u, want)
	}
	// Default TTL and clock.
	d := &tokenurl.Signer{Key: v2Key}
	exp, _ := strconv.ParseInt(d.Sign(tokenurl.Params{Platform: plat, Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}, ConnID: conn, MeetingID: meeting}).Get("exp"), 10, 64)
	if got := time.Until(time.Unix(exp, 0)); got < tokenurl.DefaultTTL-time.Minute || got > tokenurl.DefaultTTL {
		t.Fatalf("default lifetime %s", got)
	}
	// A URL bound to no platform would open every platform's routes:
	// signing one is a bug.
	defer func() {
		if recover() == nil {
			t.Fatal("Sign without a platform did not panic")
		}
	}()
	s.Sign(tokenurl.Params{Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}, ConnID: conn, MeetingID: meeting})
}

// TestSignatureIsSpecified pins the version 3 encoding: a change to it
// breaks every URL already handed out, so it must be deliberate (a new
// version).
func TestSignatureIsSpecified(t *testing.T) {
	c := clocktest.New(start)
	v := newSigner(c).Sign(tokenurl.Params{Platform: "meetstream", Kinds: []onbehalf.TokenKind{onbehalf.KindOBF, onbehalf.KindJoin}, ConnID: conn, MeetingID: meeting, BotID: "b1"})
	if want := specSig("v3", "meetstream", "obf,join", conn, meeting, "b1", v.Get("exp")); v.Get("sig") != want {
		t.Fatalf("sig %s, want %s", v.Get("sig"), want)
	}
}

// specSig computes a version 2 or 3 signature under v2Key from the written
// specification, not from the package's code: HMAC-SHA256 over the domain
// and each field as a 4-byte big-endian length and its bytes.
func specSig(version string, fields ...string) string {
	m := hmac.New(sha256.New, v2Key)
	msg := []byte("onbehalf-token-url\x00" + version + "\x00")
	for _, f := range fields {
		msg = binary.BigEndian.AppendUint32(msg, uint32(len(f)))
		msg = append(msg, f...)
	}
	m.Write(msg)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// signV2 signs a version 2 URL exactly as onbehalf signed them before
// version 3 existed (no platform), valid for ttl from now.
func signV2(now time.Time, ttl time.Duration, kinds, connID, meetingID, botID string) url.Values {
	exp := strconv.FormatInt(now.Add(ttl).Unix(), 10)
	v := url.Values{"user_id": {connID}, "kinds": {kinds}, "exp": {exp}, "sig": {specSig("v2", kinds, connID, meetingID, botID, exp)}}
	if meetingID != "" {
		v.Set("meeting_id", meetingID)
	}
	if botID != "" {
		v.Set("bot", botID)
	}
	return v
}

// TestVersion2URLsStillWork: URLs signed before platforms were signed
// verify, grant no platform (the token handler binds them through their
// bot), and adding a platform to one breaks its signature.
func TestVersion2URLsStillWork(t *testing.T) {
	c := clocktest.New(start)
	s := newSigner(c)
	for _, bot := range []string{"bot_1", ""} {
		v := signV2(start, time.Hour, "obf,join", conn, meeting, bot)
		p, err := s.Verify(tokenurl.ReadQuery(v), "")
		if err != nil || p.Platform != "" || p.BotID != bot || onbehalf.KindsString(p.Kinds) != "obf,join" || p.MeetingID != meeting {
			t.Fatalf("bot %q: granted %+v, %v", bot, p, err)
		}
		v.Set("platform", plat)
		checkErr(t, verifyValues(s, "", v), "bad signature")
	}
	// A version 3 URL with its platform removed reads as version 2, which
	// its signature does not sign.
	v3 := s.Sign(tokenurl.Params{Platform: plat, Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}, ConnID: conn, MeetingID: meeting, BotID: "bot_1"})
	v3.Del("platform")
	checkErr(t, verifyValues(s, "", v3), "bad signature")
}

// TestLegacyURLsStillWork: URLs signed by the version before this one
// (version 1, key derived from OBF_CALLBACK_SECRET, kind from the path)
// are accepted with the legacy key, whatever the version 2 key is, and
// refused without it.
func TestLegacyURLsStillWork(t *testing.T) {
	c := clocktest.New(start)
	s := newSigner(c)
	obf := signV1(start, time.Hour, "obf", conn, meeting)
	zak := signV1(start, time.Hour, "zak", conn, "")
	checkErr(t, verifyValues(s, onbehalf.KindOBF, obf), "")
	checkErr(t, verifyValues(s, onbehalf.KindZAK, zak), "")
	p, _ := s.Verify(tokenurl.ReadQuery(obf), onbehalf.KindOBF)
	if len(p.Kinds) != 1 || p.Kinds[0] != onbehalf.KindOBF || p.ConnID != conn || p.MeetingID != meeting || p.BotID != "" {
		t.Fatalf("granted %+v", p)
	}
	checkErr(t, verifyValues(s, onbehalf.KindZAK, obf), "bad signature") // path of another kind
	checkErr(t, verifyValues(s, "", obf), "bad signature")               // a route with no legacy kind
	noLegacy := &tokenurl.Signer{Key: tokenurl.DeriveKey(secret), TTL: time.Hour, Now: c.Now}
	checkErr(t, verifyValues(noLegacy, onbehalf.KindOBF, obf), "bad signature") // v1 is never checked with the v2 key
	// Adding kinds= (or bot=) to a v1 URL makes it a v2 URL, which its
	// signature does not sign.
	for _, extra := range []string{"kinds", "bot"} {
		x := url.Values{}
		for k, v := range obf {
			x[k] = v
		}
		x.Set(extra, "obf")
		checkErr(t, verifyValues(s, onbehalf.KindOBF, x), "bad signature")
	}
	// Two legacy keys (a secret generated by the database and one set in
	// the environment): either verifies.
	two := &tokenurl.Signer{Key: v2Key, LegacyKeys: [][]byte{tokenurl.DeriveKey("other-secret-000000000"), tokenurl.DeriveKey(secret)}, TTL: time.Hour, Now: c.Now}
	checkErr(t, verifyValues(two, onbehalf.KindOBF, obf), "")
}

func TestVerifyV3Table(t *testing.T) {
	c := clocktest.New(start)
	s := newSigner(c)
	p := tokenurl.Params{Platform: plat, Kinds: []onbehalf.TokenKind{onbehalf.KindOBF, onbehalf.KindJoin}, ConnID: conn, MeetingID: meeting, BotID: "bot_1"}
	good := s.Sign(p)
	with := func(k, v string) url.Values {
		x := url.Values{}
		for kk, vv := range good {
			x[kk] = append([]string(nil), vv...)
		}
		if v == "\x00drop" {
			x.Del(k)
		} else {
			x.Set(k, v)
		}
		return x
	}
	const badSig = "bad signature"
	rows := []struct {
		name string
		v    url.Values
		want string
	}{
		{"valid", good, ""},
		{"kinds narrowed", with("kinds", "obf"), badSig},
		{"kinds widened", with("kinds", "obf,zak,join"), badSig},
		{"kinds reordered", with("kinds", "join,obf"), badSig},
		{"kinds dropped", with("kinds", "\x00drop"), badSig},
		{"kinds unknown", with("kinds", "obf,xyz"), badSig},
		{"bot changed", with("bot", "bot_2"), badSig},
		{"bot dropped", with("bot", "\x00drop"), badSig},
		{"bot emptied", with("bot", ""), badSig},
		{"platform changed", with("platform", "meetstream"), badSig},
		{"platform case", with("platform", "Recall"), badSig},
		{"platform emptied", with("platform", ""), badSig},
		{"platform dropped", with("platform", "\x00drop"), badSig},
		{"user_id changed", with("user_id", conn+"x"), badSig},
		{"meeting changed", with("meeting_id", "85012345679"), badSig},
		{"meeting dropped", with("meeting_id", "\x00drop"), badSig},
		{"exp changed", with("exp", "1772444715"), badSig},
		{"sig of other key", (&tokenurl.Signer{Key: tokenurl.NewKey(), TTL: time.Hour, Now: c.Now}).Sign(p), badSig},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			checkErr(t, verifyValues(s, onbehalf.KindOBF, r.v), r.want)
		})
	}
	got, err := s.Verify(tokenurl.ReadQuery(good), "")
	if err != nil || onbehalf.KindsString(got.Kinds) != "obf,join" || got.BotID != "bot_1" || got.MeetingID != meeting || got.ConnID != conn || got.Platform != plat {
		t.Fatalf("granted %+v, %v", got, err)
	}
}

// referenceSig computes a signature from the written specification, not
// from the package's code.
func referenceSig(secret, kind, connID, meetingID, exp string) string {
	key := hmac.New(sha256.New, []byte(secret))
	key.Write([]byte("onbehalf token url v1"))
	m := hmac.New(sha256.New, key.Sum(nil))
	msg := []byte("onbehalf-token-url\x00v1\x00")
	for _, f := range []string{kind, connID, meetingID, exp} {
		msg = binary.BigEndian.AppendUint32(msg, uint32(len(f)))
		msg = append(msg, f...)
	}
	m.Write(msg)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// TestVerifyTable tampers with every field of a version 1 URL.
func TestVerifyTable(t *testing.T) {
	c := clocktest.New(start)
	s := newSigner(c)
	obf := signV1(start, time.Hour, "obf", conn, meeting)
	zak := signV1(start, time.Hour, "zak", conn, "")
	exp, sig := obf.Get("exp"), obf.Get("sig")
	expN, _ := strconv.ParseInt(exp, 10, 64)
	otherSig := func(kind, c, m, e string) string { return referenceSig("another-server-secret-0123", kind, c, m, e) }
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	// Sign "ab"+"c" and present "a"+"bc": equal concatenations.
	shift := signV1(start, time.Hour, "obf", conn+"1", "2345678901")

	const badSig, badExp = "bad signature", "Bad exp"
	rows := []struct {
		name                        string
		kind                        onbehalf.TokenKind
		connID, meetingID, exp, sig string
		want                        string // "" for success, else a substring of the message
	}{
		{"valid obf", "obf", conn, meeting, exp, sig, ""},
		{"valid zak", "zak", conn, "", zak.Get("exp"), zak.Get("sig"), ""},

		{"kind obf→zak", "zak", conn, meeting, exp, sig, badSig},
		{"kind zak→obf", "obf", conn, "", zak.Get("exp"), zak.Get("sig"), badSig},
		{"kind zak→obf with a meeting", "obf", conn, meeting, zak.Get("exp"), zak.Get("sig"), badSig},
		{"kind empty", "", conn, meeting, exp, sig, badSig},
		{"kind join", "join", conn, meeting, exp, sig, badSig},
		{"kind case", "OBF", conn, meeting, exp, sig, badSig},

		{"user_id changed", "obf", "R2xvbm5lY3Rpb25JRDAx", meeting, exp, sig, badSig},
		{"user_id appended", "obf", conn + "x", meeting, exp, sig, badSig},
		{"user_id truncated", "obf", conn[:len(conn)-1], meeting, exp, sig, badSig},
		{"user_id empty", "obf", "", meeting, exp, sig, badSig},
		{"user_id with NUL", "obf", conn + "\x00", meeting, exp, sig, badSig},
		{"user_id/meeting boundary shifted", "obf", conn, "12345678901", shift.Get("exp"), shift.Get("sig"), badSig},

		{"meeting_id changed", "obf", conn, "85012345679", exp, sig, badSig},
		{"meeting_id leading zero", "obf", conn, "0" + meeting, exp, sig, badSig},
		{"meeting_id dropped", "obf", conn, "", exp, sig, badSig},
		{"meeting_id added to zak", "zak", conn, meeting, zak.Get("exp"), zak.Get("sig"), badSig},
		{"meeting_id with space", "obf", conn, meeting + " ", exp, sig, badSig},

		{"exp +1", "obf", conn, meeting, strconv.FormatInt(expN+1, 10), sig, badSig},
		{"exp -1", "obf", conn, meeting, strconv.FormatInt(expN-1, 10), sig, badSig},
		{"exp leading zero", "obf", conn, meeting, "0" + exp, sig, badExp},
		{"exp plus sign", "obf", conn, meeting, "+" + exp, sig, badExp},
		{"exp negative", "obf", conn, meeting, "-" + exp, sig, badExp},
		{"exp space", "obf", conn, meeting, exp + " ", sig, badExp},
		{"exp hex", "obf", conn, meeting, "0x" + strconv.FormatInt(expN, 16), sig, badExp},
		{"exp fractional", "obf", conn, meeting, exp + ".0", sig, badExp},
		{"exp max int64", "obf", conn, meeting, "9223372036854775807", sig, badSig},
		{"exp overflows int64", "obf", conn, meeting, "9223372036854775808", sig, badExp},
		{"exp huge", "obf", conn, meeting, strings.Repeat("9", 40), sig, badExp},
		{"exp unicode digits", "obf", conn, meeting, "１７７２", sig, badExp},
		{"exp missing", "obf", conn, meeting, "", sig, "no exp"},

		{"sig missing", "obf", conn, meeting, exp, "", "no sig"},
		{"sig first char", "obf", conn, meeting, exp, flip(sig, 0), badSig},
		{"sig last char", "obf", conn, meeting, exp, flip(sig, len(sig)-1), badSig},
		{"sig truncated", "obf", conn, meeting, exp, sig[:42], badSig},
		{"sig extended", "obf", conn, meeting, exp, sig + "A", badSig},
		{"sig padded", "obf", conn, meeting, exp, sig + "=", badSig},
		{"sig std alphabet", "obf", conn, meeting, exp, strings.NewReplacer("-", "+", "_", "/").Replace(sig) + "+/", badSig},
		{"sig percent-encoded", "obf", conn, meeting, exp, url.QueryEscape(sig) + "%2B", badSig},
		{"sig hex", "obf", conn, meeting, exp, strings.Repeat("ab", 32), badSig},
		{"sig of another server", "obf", conn, meeting, exp, otherSig("obf", conn, meeting, exp), badSig},
		{"sig of another meeting", "obf", conn, meeting, exp, referenceSig(secret, "obf", conn, "85012345679", exp), badSig},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			checkErr(t, verifyV1Fields(s, r.kind, r.connID, r.meetingID, r.exp, r.sig), r.want)
		})
	}
}

// checkErr checks that err is nil (want "") or an EUNAUTHORIZED error
// naming want and never holding the secret or the key.
func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("want success, got %v", err)
		}
		return
	}
	var e *onbehalf.Error
	if !errors.As(err, &e) || e.Code != onbehalf.EUNAUTHORIZED {
		t.Fatalf("got %v, want an EUNAUTHORIZED *onbehalf.Error", err)
	}
	if !strings.Contains(e.Message, want) {
		t.Fatalf("message %q does not contain %q", e.Message, want)
	}
	key := base64.RawURLEncoding.EncodeToString(tokenurl.DeriveKey(secret))
	if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), key) {
		t.Fatal("error holds the secret or the key")
	}
}

func TestVerifyExpiryEdges(t *testing.T) {
	c := clocktest.New(start)
	s := newSigner(c)
	v := s.Sign(tokenurl.Params{Platform: plat, Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}, ConnID: conn, MeetingID: meeting})
	expN, _ := strconv.ParseInt(v.Get("exp"), 10, 64)
	at := time.Unix(expN, 0)
	rows := []struct {
		name string
		now  time.Time
		want string
	}{
		{"just signed", start, ""},
		{"one nanosecond before exp", at.Add(-time.Nanosecond), ""},
		{"exactly at exp", at, "token URL expired"},
		{"one nanosecond after exp", at.Add(time.Nanosecond), "token URL expired"},
		{"a day after exp", at.Add(24 * time.Hour), "token URL expired"},
		// A clock running behind the signer's sees exp further than TTL.
		{"clock 4 min behind", start.Add(-4 * time.Minute), ""},
		{"clock 10 min behind", start.Add(-10 * time.Minute), "TOKEN_URL_TTL"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			c.Set(r.now)
			checkErr(t, verifyValues(s, onbehalf.KindOBF, v), r.want)
		})
	}
	// An expired URL that was also changed says "bad signature", not
	// "expired": the signature is checked first.
	c.Set(at.Add(time.Hour))
	v.Set("meeting_id", "85012345679")
	checkErr(t, verifyValues(s, onbehalf.KindOBF, v), "bad signature")
}

func TestVerifyLoweredTTL(t *testing.T) {
	c := clocktest.New(start)
	long := &tokenurl.Signer{Key: v2Key, TTL: 168 * time.Hour, Now: c.Now}
	v := long.Sign(tokenurl.Params{Platform: plat, Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}, ConnID: conn, MeetingID: meeting})
	short := &tokenurl.Signer{Key: v2Key, TTL: 24 * time.Hour, Now: c.Now}
	checkErr(t, verifyValues(short, onbehalf.KindOBF, v), "TOKEN_URL_TTL")
	c.Set(start.Add(150 * time.Hour)) // 18 h left: within the new TTL again
	checkErr(t, verifyValues(short, onbehalf.KindOBF, v), "")
}

// TestVerifyThroughURLEncoding builds the URL string a bot platform gets,
// changes its raw query the way proxies and attackers do, parses it as the
// server does and verifies.
func TestVerifyThroughURLEncoding(t *testing.T) {
	c := clocktest.New(start)
	s := newSigner(c)
	v := signV1(start, time.Hour, "obf", "a+b/c=d e&f", meeting) // awkward connection ID
	raw := v.Encode()
	sig := v.Get("sig")
	rows := []struct {
		name, raw, want string
	}{
		{"as encoded", raw, ""},
		{"params reordered", "sig=" + sig + "&exp=" + v.Get("exp") + "&meeting_id=" + meeting + "&user_id=" + url.QueryEscape("a+b/c=d e&f"), ""},
		{"user_id plus decoded as space", strings.Replace(raw, "a%2Bb", "a+b", 1), "bad signature"},
		{"user_id %2B lowercase hex", strings.Replace(raw, "a%2Bb", "a%2bb", 1), ""},
		{"user_id double-encoded", strings.Replace(raw, "a%2Bb", "a%252Bb", 1), "bad signature"},
		{"sig char as %2B", strings.Replace(raw, "sig="+sig[:1], "sig=%2B", 1), "bad signature"},
		{"sig char as +", strings.Replace(raw, "sig="+sig[:1], "sig=+", 1), "bad signature"},
		{"sig percent-encoded letters", strings.Replace(raw, "sig="+sig[:1], "sig="+"%"+strconv.FormatInt(int64(sig[0]), 16), 1), ""},
		{"meeting_id percent-encoded digit", strings.Replace(raw, "meeting_id=8", "meeting_id=%38", 1), ""},
		{"meeting_id leading zero", strings.Replace(raw, "meeting_id=8", "meeting_id=08", 1), "bad signature"},
		{"exp leading zero", strings.Replace(raw, "exp=", "exp=0", 1), "Bad exp"},
		{"exp with NUL", strings.Replace(raw, "exp=", "exp=%00", 1), "Bad exp"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			q, err := url.ParseQuery(r.raw)
			if err != nil {
				t.Fatal(err)
			}
			checkErr(t, verifyValues(s, onbehalf.KindOBF, q), r.want)
		})
	}
}

// FuzzVerify checks, for arbitrary parameters, that Verify never panics,
// that every failure is an EUNAUTHORIZED *onbehalf.Error that does not
// echo the secret, and that a version 1 URL passes only with the one
// signature the specification gives (exp canonical and in range). It also
// signs the fuzzed fields as version 3 and checks that the URL verifies,
// and stops verifying once any field is changed.
func FuzzVerify(f *testing.F) {
	now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	s := &tokenurl.Signer{Key: v2Key, LegacyKeys: [][]byte{tokenurl.DeriveKey(secret)}, TTL: time.Hour, Now: func() time.Time { return now }}
	good := signV1(now, time.Hour, "obf", conn, meeting)
	f.Add("obf", conn, meeting, good.Get("exp"), good.Get("sig"))
	f.Add("zak", conn, "", good.Get("exp"), good.Get("sig"))
	f.Add("obf", conn, "0"+meeting, "0"+good.Get("exp"), good.Get("sig")+"=")
	f.Add("obf", "", "", "9223372036854775808", "%2B")
	f.Add("", "a\x00", "\xff", "-1", strings.Repeat("A", 43))
	f.Fuzz(func(t *testing.T, kind, connID, meetingID, exp, sig string) {
		k := onbehalf.TokenKind(kind)
		err := verifyV1Fields(s, k, connID, meetingID, exp, sig)
		if err == nil {
			if kind == "" || sig != referenceSig(secret, kind, connID, meetingID, exp) {
				t.Fatalf("accepted a signature the specification does not give")
			}
			n, perr := strconv.ParseInt(exp, 10, 64)
			if perr != nil || strconv.FormatInt(n, 10) != exp || !now.Before(time.Unix(n, 0)) || time.Unix(n, 0).After(now.Add(time.Hour+5*time.Minute)) {
				t.Fatalf("accepted exp %q", exp)
			}
		} else {
			var e *onbehalf.Error
			if !errors.As(err, &e) || e.Code != onbehalf.EUNAUTHORIZED || e.Message == "" {
				t.Fatalf("error %v is not EUNAUTHORIZED", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatal("error holds the secret")
			}
		}

		// Version 3 round trip on the fuzzed fields (sig as the bot ID),
		// then every single change fails.
		p := tokenurl.Params{Platform: plat, Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}, ConnID: connID, MeetingID: meetingID, BotID: sig}
		v := s.Sign(p)
		q := tokenurl.ReadQuery(v)
		if _, err := s.Verify(q, ""); err != nil {
			t.Fatalf("own signature refused: %v", err)
		}
		for i, change := range []func(*tokenurl.Query){
			func(q *tokenurl.Query) { q.ConnID += "x" },
			func(q *tokenurl.Query) { q.MeetingID += "1" },
			func(q *tokenurl.Query) { q.BotID += "b" },
			func(q *tokenurl.Query) { q.Kinds = "zak" },
			func(q *tokenurl.Query) { q.ConnID, q.MeetingID = q.MeetingID, q.ConnID },
			func(q *tokenurl.Query) { q.Platform = "attendee" },
			func(q *tokenurl.Query) { q.Platform, q.HasPlatform = "", false },
		} {
			c := q
			change(&c)
			if c == q {
				continue
			}
			if _, err := s.Verify(c, ""); err == nil {
				t.Fatalf("change %d verified: %+v", i, c)
			}
		}
	})
}

func BenchmarkSign(b *testing.B) {
	s := &tokenurl.Signer{Key: v2Key}
	p := tokenurl.Params{Platform: plat, Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}, ConnID: conn, MeetingID: meeting}
	b.ReportAllocs()
	for b.Loop() {
		s.Sign(p)
	}
}

func BenchmarkVerify(b *testing.B) {
	s := &tokenurl.Signer{Key: v2Key, LegacyKeys: [][]byte{tokenurl.DeriveKey(secret)}}
	for _, tc := range []struct {
		name string
		v    url.Values
	}{
		{"v3", s.Sign(tokenurl.Params{Platform: plat, Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}, ConnID: conn, MeetingID: meeting})},
		{"v2", signV2(time.Now(), time.Hour, "obf", conn, meeting, "")},
		{"v1", signV1(time.Now(), time.Hour, "obf", conn, meeting)},
	} {
		q := tokenurl.ReadQuery(tc.v)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Verify(q, onbehalf.KindOBF); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
