// Package buildinfo says which build of onbehalf is running: the version,
// commit and date stamped in by the release build, or what the Go
// toolchain recorded (module version, VCS revision and time) when they
// were not stamped. `onbehalf version`, /healthz, the start log line and
// the onbehalf_build_info metric all read it here.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
)

// Stamped by the release build (scripts/build, the Containerfile):
//
//	go build -ldflags "-X github.com/onbehalf/onbehalf/internal/buildinfo.Version=v1.2.3 \
//	  -X github.com/onbehalf/onbehalf/internal/buildinfo.Commit=$(git rev-parse HEAD) \
//	  -X github.com/onbehalf/onbehalf/internal/buildinfo.Date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
//
// Left empty, Get falls back to the build information the toolchain
// embeds.
var (
	Version string
	Commit  string
	Date    string
)

// Info is one build's identity.
type Info struct {
	// Version is the release version ("v1.2.3"), the module's version, or
	// "(devel)" for a plain `go build` of a checkout.
	Version string
	// Commit is the VCS revision, with "+dirty" when the tree had
	// changes; empty when unknown.
	Commit string
	// Date is when the commit was made or the binary built (RFC 3339);
	// empty when unknown.
	Date string
	// GoVersion is the toolchain that built the binary.
	GoVersion string
}

var (
	once sync.Once
	info Info
)

// Get returns the running build's identity (computed once).
func Get() Info {
	once.Do(func() { info = read(Version, Commit, Date, debug.ReadBuildInfo) })
	return info
}

// read combines the stamped values with the toolchain's build information;
// the stamped ones win.
func read(version, commit, date string, readBuild func() (*debug.BuildInfo, bool)) Info {
	i := Info{Version: version, Commit: commit, Date: date, GoVersion: runtime.Version()}
	if bi, ok := readBuild(); ok {
		if bi.GoVersion != "" {
			i.GoVersion = bi.GoVersion
		}
		var rev, at string
		dirty := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if dirty && rev != "" {
			rev += "+dirty"
		}
		if i.Version == "" {
			i.Version = bi.Main.Version
		}
		if i.Commit == "" {
			i.Commit = rev
		}
		if i.Date == "" {
			i.Date = at
		}
	}
	if i.Version == "" {
		i.Version = "(devel)"
	}
	return i
}

// ShortCommit is the commit cut to 12 hex digits (its "+dirty" kept).
func (i Info) ShortCommit() string {
	c, dirty := strings.CutSuffix(i.Commit, "+dirty")
	if len(c) > 12 {
		c = c[:12]
	}
	if dirty {
		c += "+dirty"
	}
	return c
}

// String is the one-line form `onbehalf version` prints:
// "v1.2.3 (0123456789ab, 2026-12-07T10:00:00Z) go1.26.8".
func (i Info) String() string {
	s := i.Version
	var in []string
	if c := i.ShortCommit(); c != "" {
		in = append(in, c)
	}
	if i.Date != "" {
		in = append(in, i.Date)
	}
	if len(in) > 0 {
		s += " (" + strings.Join(in, ", ") + ")"
	}
	return s + " " + i.GoVersion
}
