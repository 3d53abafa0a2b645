package store

import (
	"sync"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// The errors every store answers with, in the same words whichever store
// it is, and the health of its writes.

// ErrNoConnection is the error of an unknown connection ID.
func ErrNoConnection() error { return onbehalf.Errorf(onbehalf.ENOTFOUND, "No such connection.") }

// ErrNoZoomUser is the error of a Zoom user without a connection.
func ErrNoZoomUser() error {
	return onbehalf.Errorf(onbehalf.ENOTFOUND, "No connection for this Zoom user.")
}

// ErrNewerGrant is the error of a deauthorization older than the
// connection's current grant: the connection is kept.
func ErrNewerGrant() error {
	return onbehalf.Errorf(onbehalf.ECONFLICT, "The Zoom user connected again after this deauthorization: the connection is kept.")
}

// ErrDisconnected is the error of a token write on a disconnected
// connection.
func ErrDisconnected() error {
	return onbehalf.Errorf(onbehalf.EDISCONNECTED, "The Zoom connection was disconnected: reconnect at /zoom/oauth.")
}

// ErrStale is the error of a compare-and-swap that lost: the refresh
// token it started from is no longer the stored one.
func ErrStale() error {
	return onbehalf.Errorf(onbehalf.ECONFLICT, "The Zoom connection's tokens changed meanwhile (a reconnect or another refresh): this change is stale.")
}

// ErrNoSaveWithoutRefresh is the error of SaveToken given a pair without
// a refresh token.
func ErrNoSaveWithoutRefresh() error {
	return onbehalf.Errorf(onbehalf.EINVALID, "A token pair without a refresh token cannot be saved: it would lose the connection.")
}

// ErrNoBot is the error of an unknown bot.
func ErrNoBot() error { return onbehalf.Errorf(onbehalf.ENOTFOUND, "No such bot.") }

// ErrNoAPIKey is the error of an unknown API key.
func ErrNoAPIKey() error { return onbehalf.Errorf(onbehalf.ENOTFOUND, "No such API key.") }

// ErrNoLink is the error of an unknown connect link.
func ErrNoLink() error { return onbehalf.Errorf(onbehalf.ENOTFOUND, "No such connect link.") }

// ErrNoEvent is the error of an unknown event.
func ErrNoEvent() error { return onbehalf.Errorf(onbehalf.ENOTFOUND, "No such event.") }

// ErrClosed is the error of a store used after Close.
func ErrClosed() error { return onbehalf.Errorf(onbehalf.EUNAVAILABLE, "The store is closed.") }

// Health remembers whether a store's last write failed, and why: what its
// Writable reports until a write (or a background probe) works again.
// The zero value is healthy.
type Health struct {
	mu      sync.Mutex
	failing *onbehalf.Error
}

// OK records a successful write; it reports whether writes failed until
// then (so that the recovery is logged once).
func (h *Health) OK() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	was := h.failing != nil
	h.failing = nil
	return was
}

// Fail records a failed write; it reports whether writes worked until
// then (so that the change is logged once, not on every write).
func (h *Health) Fail(err *onbehalf.Error) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	first := h.failing == nil
	h.failing = err
	return first
}

// Get returns the failure of the last write, or nil.
func (h *Health) Get() *onbehalf.Error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.failing
}
