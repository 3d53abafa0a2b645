//go:build linux || darwin

package doctor

import (
	"fmt"
	"syscall"
)

// Modes of access (POSIX values, the same on Linux and macOS).
const (
	accessRead   = 4 // R_OK
	accessWrite  = 2 // W_OK
	accessSearch = 1 // X_OK: enter a folder
)

// access checks that this process's user may use path in the given modes,
// as access(2) does: without opening or creating anything.
func access(path string, mode uint32) error {
	if err := syscall.Access(path, mode); err != nil {
		return fmt.Errorf("%w (user %d)", err, syscall.Getuid())
	}
	return nil
}

// freeBytes returns the space available to this process on the file
// system holding dir, and whether it could tell.
func freeBytes(dir string) (uint64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return uint64(st.Bavail) * uint64(st.Bsize), true
}
