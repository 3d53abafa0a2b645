//go:build !(linux || darwin)

package bolt

// freeBytes cannot tell the free space on this system: the reserve is
// then recreated whenever writing it succeeds.
func freeBytes(dir string) (uint64, bool) { return 0, false }
