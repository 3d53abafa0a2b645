// Package platform holds what every bot platform adapter shares: how an
// adapter describes itself to the app (Spec), reads its configuration
// block (ConfigReader), calls its platform's API with errors fit to show (Call),
// runs against its fake in the demo (Spec.Demo) and has its API key
// checked by `onbehalf doctor` (Probe). Each platform lives in its own
// sub-package, with its fake (<name>demo, built on platformdemo), and
// imports this one, the domain package and tokenurl; never web, never
// another platform. The app holds the one list of platforms: the demo,
// doctor and the launch service loop over it and name no platform.
package platform

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
)

// Spec describes a platform package to the app.
type Spec struct {
	// Name is the platform's key (onbehalf.Platform.Name).
	Name string
	// Title is its name for people.
	Title string
	// Vars are the platform's configuration variables, documented in
	// .env.example and checked by `onbehalf doctor`.
	Vars []Var
	// Load reads the platform's configuration block. It returns a nil
	// Platform (and no error) when the platform is not configured (its
	// API key is unset), and every problem of the block at once.
	Load func(env *ConfigReader, deps Deps) (onbehalf.Platform, error)
	// Hint says what to set to turn the platform on.
	Hint onbehalf.Hint
	// Setup lists what to paste into the platform's dashboard for a server
	// at baseURL (status webhook URL, …); nil when nothing.
	Setup func(baseURL string) []Paste
	// Demo starts the platform's fake for `onbehalf demo` (and the tests
	// that run the demo), pointing the server at it through s.Set.
	Demo func(s platformdemo.Server) (*platformdemo.Platform, error)
	// Probe is how `onbehalf doctor` checks the platform's API key.
	Probe Probe
}

// Var is one configuration variable of a platform.
type Var struct {
	Name, Default, Meaning string
	// Secret values are never printed.
	Secret bool
}

// SecretVars returns the names of the secret variables of specs' blocks,
// in order: the app passes them to package config, which knows no
// platform, so that they read NAME_FILE like the core secrets.
func SecretVars(specs []Spec) []string {
	var out []string
	for _, s := range specs {
		for _, v := range s.Vars {
			if v.Secret {
				out = append(out, v.Name)
			}
		}
	}
	return out
}

// Paste is a value to paste into a platform's dashboard.
type Paste struct {
	What, Value string
}

// Deps are what the app gives every platform adapter.
type Deps struct {
	// HTTP calls the platform's API (its timeout bounds a create-bot).
	HTTP *http.Client
	// Now is the clock of signature windows.
	Now func() time.Time
	// Logger gets what the adapter must tell an operator; never a secret.
	Logger *slog.Logger
}

// ConfigReader reads one platform's configuration block and collects its problems,
// so that every problem is reported at once.
type ConfigReader struct {
	getenv   func(string) string
	problems []error
}

// NewConfigReader returns a ConfigReader reading getenv.
func NewConfigReader(getenv func(string) string) *ConfigReader { return &ConfigReader{getenv: getenv} }

// Get returns the trimmed value of name, or def when unset or blank.
func (e *ConfigReader) Get(name, def string) string {
	return cmp.Or(strings.TrimSpace(e.getenv(name)), def)
}

// URL returns name as an absolute http(s) URL without a trailing slash, or
// def; a malformed value is a problem.
func (e *ConfigReader) URL(name, def string) string {
	v := e.Get(name, def)
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		e.Problemf("%s=%q: must be an absolute http(s) URL", name, v)
		return ""
	}
	return strings.TrimRight(v, "/")
}

// Duration returns name as a positive Go duration, or def.
func (e *ConfigReader) Duration(name, def string) time.Duration {
	v := e.Get(name, def)
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		e.Problemf("%s=%q: must be a positive duration such as 15s", name, v)
	}
	return d
}

// Int returns name as a whole number in [lo, hi], or def.
func (e *ConfigReader) Int(name, def string, lo, hi int) int {
	v := e.Get(name, def)
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		e.Problemf("%s=%q: must be a whole number from %d to %d", name, v, lo, hi)
	}
	return n
}

// Problemf records a problem of the block.
func (e *ConfigReader) Problemf(format string, args ...any) {
	e.problems = append(e.problems, fmt.Errorf(format, args...))
}

// Err returns the problems found so far, joined, or nil.
func (e *ConfigReader) Err() error { return errors.Join(e.problems...) }

// Problems returns the problems found so far.
func (e *ConfigReader) Problems() []error { return e.problems }

// Probe is a platform's harmless read-only call, by which `onbehalf
// doctor` tells an API key the platform refuses (401/403) from one it
// accepts. It reads a bot that cannot exist (NoBot): nothing is created,
// and no real bot's data is fetched.
type Probe struct {
	// URL returns the call's URL for the configuration get reads (the
	// adapter's API base URL and path); nil when the platform has no such
	// call, and None says why.
	URL func(get func(string) string) string
	// Auth sets the API key on the request.
	Auth func(h http.Header, key string)
	// Documented is true when the platform documents that a wrong key is
	// 401/403 and an unknown bot 404 on this call; otherwise a 404 only
	// says the key was not refused.
	Documented bool
	// Hint is added to a refusal ("" for none).
	Hint string
	// None says why the platform has no harmless call (URL nil).
	None string
}

// NoBot is the ID of a bot that cannot exist, the one a Probe reads.
const NoBot = "00000000-0000-0000-0000-000000000000"

// TokenAuth is the Authorization: Token <key> scheme (Django REST
// Framework's) of Recall.ai, MeetStream and Attendee.
func TokenAuth(h http.Header, key string) { h.Set("Authorization", "Token "+key) }

// ConfiguredURL returns the value of the variable name as get reads it,
// or def when it is unset, without a trailing slash: a Probe's API base
// URL.
func ConfiguredURL(get func(string) string, name, def string) string {
	return strings.TrimRight(cmp.Or(strings.TrimSpace(get(name)), def), "/")
}
