//go:build !(linux || darwin)

package doctor

// openFileLimit is unknown here.
func openFileLimit() (uint64, bool) { return 0, false }
