package app

import "runtime/debug"

// gcPercent is the collector's target when GOGC is not set. The server's
// live heap is a few MB, so at Go's default of 100 a busy server collects
// tens of times a second; 200 halves that for a few MB more memory
// (docs/performance.md has the figures).
const gcPercent = 200

// TuneGC sets the garbage collector's target to gcPercent unless the
// operator set GOGC. Only the commands that serve call it: tests and other
// programs that start the app in process keep their own setting.
func TuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}
