//go:build linux || darwin

package doctor

import "syscall"

// openFileLimit returns the open-file limit the server would get when
// started from this shell: Go raises the soft limit to the hard one at
// start, so the hard limit counts.
func openFileLimit() (uint64, bool) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, false
	}
	return r.Max, true
}
