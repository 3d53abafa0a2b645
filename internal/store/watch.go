package store

import "sync/atomic"

// EventWatch holds the function a store calls after it committed events
// (onbehalf.EventStore.WatchEvents): both implementations embed one, so
// that they call it the same way.
type EventWatch struct {
	fn atomic.Pointer[func()]
}

// WatchEvents sets the function Committed calls (nil: none).
func (w *EventWatch) WatchEvents(fn func()) {
	if fn == nil {
		w.fn.Store(nil)
		return
	}
	w.fn.Store(&fn)
}

// Committed tells the watcher that a transaction that wrote events has
// committed.
func (w *EventWatch) Committed() {
	if fn := w.fn.Load(); fn != nil {
		(*fn)()
	}
}
