package onbehalf_test

import (
	"testing"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// lister is a platform that takes token lists.
type lister struct{ onbehalf.Platform }

func (lister) TakesTokenList() bool { return true }

// wrapper decorates a platform, as the demo's https front does.
type wrapper struct{ onbehalf.Platform }

func (w wrapper) Unwrap() onbehalf.Platform { return w.Platform }

// TestAsPlatform: an optional interface is found on the platform and
// through any number of wrappers, and not where no platform has it.
func TestAsPlatform(t *testing.T) {
	for name, p := range map[string]onbehalf.Platform{
		"itself":        lister{},
		"wrapped":       wrapper{lister{}},
		"wrapped twice": wrapper{wrapper{lister{}}},
	} {
		if lt, ok := onbehalf.AsPlatform[onbehalf.TokenListTaker](p); !ok || !lt.TakesTokenList() {
			t.Errorf("%s: not found", name)
		}
	}
	if _, ok := onbehalf.AsPlatform[onbehalf.TokenListTaker](wrapper{wrapper{}}); ok {
		t.Error("found on a wrapper of nothing")
	}
	if _, ok := onbehalf.AsPlatform[onbehalf.StatusReceiver](wrapper{lister{}}); ok {
		t.Error("found an interface nobody has")
	}
}
