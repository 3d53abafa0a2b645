package bots_test

import (
	"strings"
	"testing"

	"github.com/onbehalf/onbehalf/internal/bots"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// TestNoPlatformNamesTheVariables: with no platform configured, the error
// names the variable of every platform the app has (its hints), and no
// other.
func TestNoPlatformNamesTheVariables(t *testing.T) {
	for _, c := range []struct {
		hints []onbehalf.Hint
		want  string
	}{
		{nil, "No bot platform is configured."},
		{[]onbehalf.Hint{{Var: "A_API_KEY"}}, "No bot platform is configured: set A_API_KEY to turn one on, then restart."},
		{[]onbehalf.Hint{{Var: "A_API_KEY"}, {Var: "B_API_KEY"}, {Var: "C_API_KEY"}},
			"No bot platform is configured: set A_API_KEY, B_API_KEY or C_API_KEY to turn one on, then restart."},
	} {
		s := &bots.Service{Unconfigured: c.hints}
		_, err := s.Platform("")
		if onbehalf.ErrorCode(err) != onbehalf.EUNAVAILABLE || onbehalf.ErrorMessage(err) != c.want {
			t.Errorf("%d hints: %v, want %q", len(c.hints), err, c.want)
		}
		if strings.Contains(onbehalf.ErrorMessage(err), "RECALL") {
			t.Errorf("names a platform it was not given: %v", err)
		}
	}
}
