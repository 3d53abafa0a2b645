package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/onbehalf/onbehalf/internal/buildinfo"
)

// registerBuildInfo exports which build runs, the usual way: one series of
// value 1 whose labels say it, so that dashboards can show a rollout and
// join it onto other series:
//
//	onbehalf_build_info{version,commit,goversion} 1
func (m *Metrics) registerBuildInfo(bi buildinfo.Info) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "onbehalf_build_info",
		Help: "The running build: version, commit and Go version as labels; always 1.",
	}, []string{"version", "commit", "goversion"})
	g.WithLabelValues(bi.Version, bi.Commit, bi.GoVersion).Set(1)
	m.reg.MustRegister(g)
}
