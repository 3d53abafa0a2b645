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

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
)

const (
	secret  = "test-obf-secret-0123456789"
	conn    = "Q2xvbm5lY3Rpb25JRDAx"
	meeting = "85012345678"
)

// clock is a settable fake clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newSigner(c *clock) *tokenurl.Signer {
	return &tokenurl.Signer{Key: tokenurl.DeriveKey(secret), TTL: time.Hour, Now: c.now}
}

// start is a fixed instant with a fractional second, so that exp rounding
// is exercised.
var start = time.Date(2026, 3, 2, 9, 30, 15, 500_000_000, time.UTC)

// verifyValues runs Verify on the parameters of a signed URL.
func verifyValues(s *tokenurl.Signer, kind onbehalf.TokenKind, v url.Values) error {
	return s.Verify(kind, v.Get("user_id"), v.Get("meeting_id"), v.Get("exp"), v.Get("sig"))
}

func TestSignShape(t *testing.T) {
	c := &clock{start}
	s := newSigner(c)
	v := s.Sign(onbehalf.KindOBF, conn, meeting)
	if v.Get("user_id") != conn || v.Get("meeting_id") != meeting {
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
	z := s.Sign(onbehalf.KindZAK, conn, "")
	if z.Has("meeting_id") || len(z) != 3 {
		t.Fatalf("ZAK params %v", z)
	}
	// Default TTL and clock.
	d := &tokenurl.Signer{Key: tokenurl.DeriveKey(secret)}
	exp, _ := strconv.ParseInt(d.Sign(onbehalf.KindOBF, conn, meeting).Get("exp"), 10, 64)
	if got := time.Until(time.Unix(exp, 0)); got < tokenurl.DefaultTTL-time.Minute || got > tokenurl.DefaultTTL {
		t.Fatalf("default lifetime %s", got)
	}
}

// TestSignatureIsSpecified pins the signed encoding: a change to it breaks
// every URL already handed out, so it must be deliberate (new version).
func TestSignatureIsSpecified(t *testing.T) {
	c := &clock{start}
	v := newSigner(c).Sign(onbehalf.KindOBF, conn, meeting)
	if want := referenceSig(secret, "obf", conn, meeting, v.Get("exp")); v.Get("sig") != want {
		t.Fatalf("sig %s, want %s", v.Get("sig"), want)
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

func TestVerifyTable(t *testing.T) {
	c := &clock{start}
	s := newSigner(c)
	obf := s.Sign(onbehalf.KindOBF, conn, meeting)
	zak := s.Sign(onbehalf.KindZAK, conn, "")
	exp, sig := obf.Get("exp"), obf.Get("sig")
	expN, _ := strconv.ParseInt(exp, 10, 64)
	other := (&tokenurl.Signer{Key: tokenurl.DeriveKey("another-server-secret-0123"), TTL: time.Hour, Now: c.now}).Sign(onbehalf.KindOBF, conn, meeting)
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
	shift := s.Sign(onbehalf.KindOBF, conn+"1", "2345678901")

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
		{"sig of another server", "obf", conn, meeting, other.Get("exp"), other.Get("sig"), badSig},
		{"sig of another meeting", "obf", conn, meeting, exp, s.Sign(onbehalf.KindOBF, conn, "85012345679").Get("sig"), badSig},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			err := s.Verify(r.kind, r.connID, r.meetingID, r.exp, r.sig)
			checkErr(t, err, r.want)
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
	c := &clock{start}
	s := newSigner(c)
	v := s.Sign(onbehalf.KindOBF, conn, meeting)
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
			c.t = r.now
			checkErr(t, verifyValues(s, onbehalf.KindOBF, v), r.want)
		})
	}
	// An expired URL that was also changed says "bad signature", not
	// "expired": the signature is checked first.
	c.t = at.Add(time.Hour)
	checkErr(t, s.Verify(onbehalf.KindOBF, conn, "85012345679", v.Get("exp"), v.Get("sig")), "bad signature")
}

func TestVerifyLoweredTTL(t *testing.T) {
	c := &clock{start}
	long := &tokenurl.Signer{Key: tokenurl.DeriveKey(secret), TTL: 168 * time.Hour, Now: c.now}
	v := long.Sign(onbehalf.KindOBF, conn, meeting)
	short := &tokenurl.Signer{Key: tokenurl.DeriveKey(secret), TTL: 24 * time.Hour, Now: c.now}
	checkErr(t, verifyValues(short, onbehalf.KindOBF, v), "TOKEN_URL_TTL")
	c.t = start.Add(150 * time.Hour) // 18 h left: within the new TTL again
	checkErr(t, verifyValues(short, onbehalf.KindOBF, v), "")
}

// TestVerifyThroughURLEncoding builds the URL string a bot platform gets,
// changes its raw query the way proxies and attackers do, parses it as the
// server does and verifies.
func TestVerifyThroughURLEncoding(t *testing.T) {
	c := &clock{start}
	s := newSigner(c)
	v := s.Sign(onbehalf.KindOBF, "a+b/c=d e&f", meeting) // awkward connection ID
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
// echo the secret, and that it succeeds only for the one signature the
// specification gives (exp canonical and in range). It also signs the
// fuzzed fields and checks that the URL verifies, and stops verifying once
// any field is changed.
func FuzzVerify(f *testing.F) {
	now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	s := &tokenurl.Signer{Key: tokenurl.DeriveKey(secret), TTL: time.Hour, Now: func() time.Time { return now }}
	good := s.Sign(onbehalf.KindOBF, conn, meeting)
	f.Add("obf", conn, meeting, good.Get("exp"), good.Get("sig"))
	f.Add("zak", conn, "", good.Get("exp"), good.Get("sig"))
	f.Add("obf", conn, "0"+meeting, "0"+good.Get("exp"), good.Get("sig")+"=")
	f.Add("obf", "", "", "9223372036854775808", "%2B")
	f.Add("", "a\x00", "\xff", "-1", strings.Repeat("A", 43))
	f.Fuzz(func(t *testing.T, kind, connID, meetingID, exp, sig string) {
		k := onbehalf.TokenKind(kind)
		err := s.Verify(k, connID, meetingID, exp, sig)
		if err == nil {
			if sig != referenceSig(secret, kind, connID, meetingID, exp) {
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

		// Round trip on the fuzzed fields, then every single change fails.
		v := s.Sign(k, connID, meetingID)
		e, g := v.Get("exp"), v.Get("sig")
		if err := s.Verify(k, connID, meetingID, e, g); err != nil {
			t.Fatalf("own signature refused: %v", err)
		}
		for _, c := range [][4]string{
			{kind + "x", connID, meetingID, e},
			{kind, connID + "x", meetingID, e},
			{kind, connID, meetingID + "1", e},
			{kind, meetingID, connID, e},
		} {
			if c[1] == connID && c[2] == meetingID && c[0] == kind {
				continue
			}
			if s.Verify(onbehalf.TokenKind(c[0]), c[1], c[2], c[3], g) == nil {
				t.Fatalf("changed fields %q verified", c)
			}
		}
	})
}

func BenchmarkSign(b *testing.B) {
	s := &tokenurl.Signer{Key: tokenurl.DeriveKey(secret)}
	b.ReportAllocs()
	for b.Loop() {
		s.Sign(onbehalf.KindOBF, conn, meeting)
	}
}

func BenchmarkVerify(b *testing.B) {
	s := &tokenurl.Signer{Key: tokenurl.DeriveKey(secret)}
	v := s.Sign(onbehalf.KindOBF, conn, meeting)
	exp, sig := v.Get("exp"), v.Get("sig")
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Verify(onbehalf.KindOBF, conn, meeting, exp, sig); err != nil {
			b.Fatal(err)
		}
	}
}
