package onbehalf

import (
	"strings"
	"unicode/utf8"
)

// Clip shortens s for a message or a stored text: s itself when it has at
// most n bytes, else its longest prefix of at most n bytes that ends
// between two characters, followed by "…" (so at most n+3 bytes). It
// never cuts a UTF-8 character in two, so a clipped valid string stays
// valid; bytes that are not UTF-8 are cut anywhere. It is the one clipping
// rule of the project: quoted input in errors, platform texts, timeline
// messages.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return "…"
	}
	cut := n
	// A character is at most utf8.UTFMax bytes: look back no further than
	// its start, so that invalid bytes cannot make the loop run far.
	for i := 0; i < utf8.UTFMax-1 && cut > 0 && !utf8.RuneStart(s[cut]); i++ {
		cut--
	}
	if !utf8.RuneStart(s[cut]) {
		cut = n // not UTF-8 here: nothing to keep whole
	}
	return s[:cut] + "…"
}

// Inner returns a sentence fit to stand inside another one (in
// parentheses, before a colon): without its final periods, so that
// messages that quote messages never end in ".)." It is the one such rule
// of the project.
func Inner(s string) string {
	return strings.TrimRight(strings.TrimSpace(s), ".")
}
