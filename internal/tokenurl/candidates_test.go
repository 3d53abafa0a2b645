package tokenurl_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/onbehalf/onbehalf/internal/clocktest"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
)

// cands is a list of three candidates, conn first.
var cands = []string{conn, "U2Vjb25kQ29ubmVjdGlvbg", "VGhpcmRDb25uZWN0aW9u"}

// TestVersion4Signature pins the version 4 encoding from the written
// specification: the version 3 fields with the candidate count and each
// candidate after the kinds, then the teammate flag.
func TestVersion4Signature(t *testing.T) {
	c := clocktest.New(start)
	s := newSigner(c)
	obf := []onbehalf.TokenKind{onbehalf.KindOBF}
	for _, team := range []bool{false, true} {
		v := s.Sign(tokenurl.Params{Platform: plat, Kinds: obf, ConnID: conn, MeetingID: meeting, BotID: "b1", Candidates: cands, Teammates: team})
		flag := map[bool]string{true: "1"}[team]
		want := specSig("v4", plat, "obf", "3", cands[0], cands[1], cands[2], flag, meeting, "b1", v.Get("exp"))
		if v.Get("sig") != want || v.Get("user_id") != conn || v.Get("also") != cands[1]+","+cands[2] || v.Get("team") != flag {
			t.Fatalf("team %v: params %v, want sig %s", team, v, want)
		}
		p, err := s.Verify(tokenurl.ReadQuery(v), "")
		if err != nil || !slices.Equal(p.Candidates, cands) || p.Teammates != team || p.ConnID != conn || !p.Multi() {
			t.Fatalf("team %v: verify %+v, %v", team, p, err)
		}
	}
}

// TestVersion3UnchangedForOne: a URL of one connection is the version 3
// URL it always was (no also=), whether or not the list is given.
func TestVersion3UnchangedForOne(t *testing.T) {
	c := clocktest.New(start)
	s := newSigner(c)
	obf := []onbehalf.TokenKind{onbehalf.KindOBF}
	a := s.URL("https://x", "/p", tokenurl.Params{Platform: plat, Kinds: obf, ConnID: conn, MeetingID: meeting})
	b := s.URL("https://x", "/p", tokenurl.Params{Platform: plat, Kinds: obf, ConnID: conn, MeetingID: meeting, Candidates: []string{conn}})
	if a != b || strings.Contains(a, "also=") {
		t.Fatalf("one candidate changed the URL:\n%s\n%s", a, b)
	}
	p, err := s.Verify(tokenurl.ReadQuery(mustQuery(t, a)), "")
	if err != nil || p.Multi() || p.Candidates != nil {
		t.Fatalf("verify %+v, %v", p, err)
	}
}

// TestVersion4Tampering: every change to the list (order, one more, one
// fewer, the teammate flag, moving it to version 3) breaks the signature.
func TestVersion4Tampering(t *testing.T) {
	c := clocktest.New(start)
	s := newSigner(c)
	v := s.Sign(tokenurl.Params{Platform: plat, Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}, ConnID: conn, MeetingID: meeting, Candidates: cands})
	edits := map[string]func(url.Values){
		"swap order":       func(v url.Values) { v.Set("also", cands[2]+","+cands[1]) },
		"drop one":         func(v url.Values) { v.Set("also", cands[1]) },
		"add one":          func(v url.Values) { v.Set("also", v.Get("also")+",QW5vdGhlcg") },
		"first swapped":    func(v url.Values) { v.Set("user_id", cands[1]); v.Set("also", conn+","+cands[2]) },
		"team added":       func(v url.Values) { v.Set("team", "1") },
		"team junk":        func(v url.Values) { v.Set("team", "yes") },
		"also removed":     func(v url.Values) { v.Del("also") },
		"empty candidate":  func(v url.Values) { v.Set("also", cands[1]+",,"+cands[2]) },
		"platform changed": func(v url.Values) { v.Set("platform", "attendee") },
	}
	for name, edit := range edits {
		w := url.Values{}
		for k, x := range v {
			w[k] = slices.Clone(x)
		}
		edit(w)
		if _, err := s.Verify(tokenurl.ReadQuery(w), ""); onbehalf.ErrorCode(err) != onbehalf.EUNAUTHORIZED {
			t.Errorf("%s: verified (%v)", name, err)
		}
	}
	if _, err := s.Verify(tokenurl.ReadQuery(v), ""); err != nil {
		t.Fatalf("untouched URL refused: %v", err)
	}
}

// TestVersion4TooMany: a list longer than MaxCandidates is never signed
// and never verified.
func TestVersion4TooMany(t *testing.T) {
	c := clocktest.New(start)
	s := newSigner(c)
	many := []string{conn}
	for len(many) <= onbehalf.MaxCandidates {
		many = append(many, strings.Repeat("x", len(many)))
	}
	defer func() {
		if recover() == nil {
			t.Fatal("signed more than MaxCandidates")
		}
	}()
	s.Sign(tokenurl.Params{Platform: plat, Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}, ConnID: conn, MeetingID: meeting, Candidates: many})
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// TestVersion4OneTeammate: a URL of one connection borrowed from a
// teammate (a relay of a teammates bot) is a version 4 URL with an empty
// also= and the teammate flag, so that its fetches check consent; without
// the flag, or with a candidate added, it no longer verifies.
func TestVersion4OneTeammate(t *testing.T) {
	c := clocktest.New(start)
	s := newSigner(c)
	obf := []onbehalf.TokenKind{onbehalf.KindOBF}
	v := s.Sign(tokenurl.Params{Platform: plat, Kinds: obf, ConnID: conn, MeetingID: meeting, BotID: "b1", Candidates: []string{conn}, Teammates: true})
	if want := specSig("v4", plat, "obf", "1", conn, "1", meeting, "b1", v.Get("exp")); v.Get("sig") != want || !v.Has("also") || v.Get("also") != "" || v.Get("team") != "1" {
		t.Fatalf("params %v", v)
	}
	p, err := s.Verify(tokenurl.ReadQuery(v), "")
	if err != nil || !p.Teammates || !slices.Equal(p.Candidates, []string{conn}) || p.Multi() {
		t.Fatalf("verify %+v, %v", p, err)
	}
	for name, change := range map[string]func(url.Values){
		"flag removed":    func(v url.Values) { v.Del("team") },
		"candidate added": func(v url.Values) { v.Set("also", cands[1]) },
	} {
		w := url.Values{}
		for k, x := range v {
			w[k] = slices.Clone(x)
		}
		change(w)
		if _, err := s.Verify(tokenurl.ReadQuery(w), ""); err == nil {
			t.Errorf("%s: still verifies", name)
		}
	}
}
