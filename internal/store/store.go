// Package store holds what every implementation of onbehalf.Store shares:
// random IDs and the opaque listing cursor. The implementations live below
// it (bolt: the bbolt file, the zero-configuration default; postgres: many
// instances on one database) and all pass the conformance suite in
// storetest, so that callers can take either without knowing which.
//
// It is deliberately tiny and imports only the domain: an implementation
// imports it, never the other way round.
package store

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// NewID returns a random, opaque ID (connections, bots, API keys): 16
// bytes from crypto/rand as 22 characters of unpadded base64url, so that it
// can neither be guessed nor enumerated.
func NewID() (string, error) {
	return RandomString(16)
}

// NewEventID returns the ID of a new event, "evt_" and 22 random
// characters: the webhook-id the receiver deduplicates retries by.
func NewEventID() (string, error) {
	s, err := RandomString(16)
	return "evt_" + s, err
}

// RandomString returns n random bytes as unpadded base64url (secrets,
// IDs).
func RandomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// cursorPrefix marks a cursor written by EncodeCursor (and its version),
// so that anything else is refused before it is decoded.
const cursorPrefix = "c1."

// maxCursorID bounds the ID part of a cursor: every ID a store makes is
// far shorter.
const maxCursorID = 64

// EncodeCursor returns the opaque cursor of a listing position: the
// creation time and ID of the last item of a page. Listings are ordered by
// (creation time, ID), a key that never changes, so a cursor stays valid
// and skips nothing while items are added.
func EncodeCursor(at time.Time, id string) string {
	b := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(b, uint64(at.UnixNano()))
	return cursorPrefix + base64.RawURLEncoding.EncodeToString(append(b, id...))
}

// DecodeCursor reads a cursor written by EncodeCursor; anything else is an
// EINVALID error about the field "cursor".
func DecodeCursor(cursor string) (at time.Time, id string, err error) {
	bad := onbehalf.FieldError("cursor", "Bad cursor: pass the next_cursor of the previous page, unchanged.")
	if len(cursor) < len(cursorPrefix) || cursor[:len(cursorPrefix)] != cursorPrefix {
		return time.Time{}, "", bad
	}
	b, decErr := base64.RawURLEncoding.DecodeString(cursor[len(cursorPrefix):])
	if decErr != nil || len(b) <= 8 || len(b) > 8+maxCursorID || !isIDText(b[8:]) {
		return time.Time{}, "", bad
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(b[:8]))).UTC(), string(b[8:]), nil
}

// isIDText reports whether b can be an ID: printable ASCII, no space.
func isIDText(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}
