// Package logtest holds test helpers for logs: a buffer that concurrent
// handlers, goroutines and child processes may write to while a test
// reads it.
package logtest

import (
	"strings"
	"sync"
)

// Buffer is an io.Writer safe for concurrent use; String returns all that
// was written so far. The zero value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write appends p.
func (w *Buffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// String returns everything written so far.
func (w *Buffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
