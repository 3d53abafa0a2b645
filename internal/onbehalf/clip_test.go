package onbehalf

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClip(t *testing.T) {
	rows := []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "abc…"},
		{"", 0, ""},
		{"a", 0, "…"},
		{"aé", 2, "a…"},  // é is 2 bytes: not cut in two
		{"a€b", 3, "a…"}, // € is 3 bytes
		{"€€", 4, "€…"},  // cut right after a character
		{"a😀", 4, "a…"},  // 4-byte character
		{"a😀", 5, "a😀"},
		{"\x80\x80\x80\x80\x80", 2, "\x80\x80…"}, // not UTF-8: cut where asked
	}
	for _, r := range rows {
		if got := Clip(r.s, r.n); got != r.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", r.s, r.n, got, r.want)
		}
	}
	// Every cut of a valid string is valid and no longer than n+3 bytes.
	s := strings.Repeat("aé€😀", 50)
	for n := 0; n <= len(s); n++ {
		got := Clip(s, n)
		if !utf8.ValidString(got) || len(got) > n+len("…") || !strings.HasPrefix(s, strings.TrimSuffix(got, "…")) {
			t.Fatalf("Clip(_, %d) = %q", n, got)
		}
	}
}

// TestInner: a sentence put inside another loses its final periods (and
// only those), so that quoted messages never end in ".)."
func TestInner(t *testing.T) {
	for in, want := range map[string]string{
		"Zoom refused the token: invalid_grant (Invalid Token!).": "Zoom refused the token: invalid_grant (Invalid Token!)",
		"No period":  "No period",
		"Two.. ":     "Two",
		"v1.2 works": "v1.2 works",
		"":           "",
	} {
		if got := Inner(in); got != want {
			t.Errorf("Inner(%q) = %q, want %q", in, got, want)
		}
	}
}
