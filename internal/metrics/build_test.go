package metrics_test

import (
	"fmt"
	"testing"

	"github.com/onbehalf/onbehalf/internal/buildinfo"
	"github.com/onbehalf/onbehalf/internal/metrics"
)

// TestBuildInfo: onbehalf_build_info says which build runs, with value 1.
func TestBuildInfo(t *testing.T) {
	bi := buildinfo.Get()
	wantLines(t, scrape(t, metrics.New(metrics.Options{})),
		fmt.Sprintf(`onbehalf_build_info{commit=%q,goversion=%q,version=%q} 1`, bi.Commit, bi.GoVersion, bi.Version))
}
