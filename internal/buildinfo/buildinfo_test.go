package buildinfo

import (
	"runtime/debug"
	"testing"
)

func toolchain(version string, settings ...string) func() (*debug.BuildInfo, bool) {
	return func() (*debug.BuildInfo, bool) {
		bi := &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Version: version}}
		for i := 0; i+1 < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi, true
	}
}

// TestStampedWins: values set with -ldflags -X win over the toolchain's.
func TestStampedWins(t *testing.T) {
	got := read("v1.2.3", "0123456789abcdef0123", "2026-12-07T10:00:00Z",
		toolchain("(devel)", "vcs.revision", "ffffffffffffffff", "vcs.time", "2020-01-01T00:00:00Z"))
	want := Info{Version: "v1.2.3", Commit: "0123456789abcdef0123", Date: "2026-12-07T10:00:00Z", GoVersion: "go1.99.1"}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if s := got.String(); s != "v1.2.3 (0123456789ab, 2026-12-07T10:00:00Z) go1.99.1" {
		t.Fatalf("String() = %q", s)
	}
}

// TestFallsBackToToolchain: unstamped, the module version and the VCS
// revision and time recorded by `go build` are used.
func TestFallsBackToToolchain(t *testing.T) {
	got := read("", "", "", toolchain("v0.4.0", "vcs.revision", "abcdefabcdefabcdef", "vcs.time", "2026-12-01T08:00:00Z", "vcs.modified", "true"))
	if got.Version != "v0.4.0" || got.Commit != "abcdefabcdefabcdef+dirty" || got.Date != "2026-12-01T08:00:00Z" {
		t.Fatalf("got %+v", got)
	}
	if c := got.ShortCommit(); c != "abcdefabcdef+dirty" {
		t.Fatalf("ShortCommit() = %q", c)
	}
}

// TestNothingKnown: no stamp, no build information: still a usable line.
func TestNothingKnown(t *testing.T) {
	got := read("", "", "", func() (*debug.BuildInfo, bool) { return nil, false })
	if got.Version != "(devel)" || got.Commit != "" || got.GoVersion == "" {
		t.Fatalf("got %+v", got)
	}
	if s := got.String(); s != "(devel) "+got.GoVersion {
		t.Fatalf("String() = %q", s)
	}
}

// TestGet runs against the test binary's own build information.
func TestGet(t *testing.T) {
	if i := Get(); i.Version == "" || i.GoVersion == "" {
		t.Fatalf("Get() = %+v", i)
	}
}
