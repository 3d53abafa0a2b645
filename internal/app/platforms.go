package app

import (
	"net/http"
	"time"

	"github.com/onbehalf/onbehalf/internal/config"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/attendee"
	"github.com/onbehalf/onbehalf/internal/platform/meetingbaas"
	"github.com/onbehalf/onbehalf/internal/platform/meetstream"
	"github.com/onbehalf/onbehalf/internal/platform/recall"
	"github.com/onbehalf/onbehalf/internal/tracing"
	"github.com/onbehalf/onbehalf/internal/zoom"
)

// Platforms is the one list of bot platforms, in the order the launch form
// offers them. Adding a platform is one package and one line here.
var Platforms = []platform.Spec{
	recall.Spec,
	meetstream.Spec,
	attendee.Spec,
	meetingbaas.Spec,
}

// loadEnv is what every command but the server does first: it reads the
// environment, then .env, with every secret variable (the table's and
// each platform's in specs) also read from NAME_FILE, and loads the core
// configuration from that.
func loadEnv(getenv config.Getenv, specs []platform.Spec) (config.Getenv, config.Config, error) {
	secrets := platform.SecretVars(specs)
	get, err := config.LoadDotEnv(".env", getenv, secrets...)
	if err != nil {
		return nil, config.Config{}, err
	}
	cfg, err := config.Load(get, secrets...)
	return get, cfg, err
}

// loadPlatforms reads every platform's configuration block and returns the
// configured ones, with every problem of every block.
func loadPlatforms(specs []platform.Spec, getenv func(string) string, deps platform.Deps) ([]onbehalf.Platform, []onbehalf.Hint, []error) {
	var out []onbehalf.Platform
	var hints []onbehalf.Hint
	var problems []error
	for _, s := range specs {
		env := platform.NewConfigReader(getenv)
		p, err := s.Load(env, deps)
		if err != nil {
			problems = append(problems, config.Problems(err)...)
			continue
		}
		if p == nil {
			h := s.Hint
			h.Platform = s.Title
			hints = append(hints, h)
			continue
		}
		out = append(out, p)
	}
	return out, hints, problems
}

// platformNames returns the names of platforms, in order: the API's
// platform enum.
func platformNames(platforms []onbehalf.Platform) []string {
	names := make([]string, len(platforms))
	for i, p := range platforms {
		names[i] = p.Name()
	}
	return names
}

// platformDeps are what every platform adapter gets. With tracing on,
// their calls are client spans; off, the default transport.
func platformDeps(a *App) platform.Deps {
	return platform.Deps{
		HTTP:   &http.Client{Timeout: 30 * time.Second, Transport: a.tracing.Transport(nil)},
		Now:    time.Now,
		Logger: a.log,
	}
}

// zoomTransport is the transport of the calls to Zoom: traced when
// tracing is on, else nil (the Zoom client's own).
func zoomTransport(t *tracing.Tracing) http.RoundTripper {
	if t == nil {
		return nil
	}
	return t.Transport(zoom.NewTransport())
}
