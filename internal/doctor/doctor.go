// Package doctor is `onbehalf doctor`: it checks every setting it can
// without side effects and prints every value an operator pastes into the
// Zoom app and into each bot platform's dashboard.
//
// It loads the configuration exactly as the server does at start (the core
// settings of package config and each platform's block) and reports every
// problem, then checks what the configuration points at: the database
// (bbolt: folder, file, lock, free space, schema and keys, all read-only;
// PostgreSQL: reachable, version, schema, never written), the public URL
// (https, public host, resolvable, this server answering at /healthz), the
// Zoom credentials (a token request that cannot succeed but tells a wrong
// client from a right one; a real Server-to-Server account token) and the
// platforms' API keys (a read-only call where the platform has one).
//
// Offline (--offline), nothing leaves the machine: no name is resolved and
// neither Zoom, the platforms nor BASE_URL are called. The database is
// still checked: the server cannot run without it.
//
// Secret values are never printed: a secret shows as "set (N characters)",
// and as a last guard every line is scrubbed of every secret value the
// environment holds before it is written.
package doctor

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/config"
	"github.com/onbehalf/onbehalf/internal/platform"
)

// Options configure Run.
type Options struct {
	// Getenv reads the environment; os.Getenv fits.
	Getenv func(string) string
	// DotEnv is the .env file read after the environment, as the server
	// does (the CLI passes ".env"); empty reads none.
	DotEnv string
	// Stdout receives the report.
	Stdout io.Writer
	// Specs are the bot platforms (app.Platforms).
	Specs []platform.Spec
	// Offline skips every check that needs the network: name resolution
	// and calls to BASE_URL, Zoom and the platforms.
	Offline bool
	// HTTP makes the online checks' requests; default a client with a 10 s
	// timeout.
	HTTP *http.Client
	// Now is the clock; default time.Now.
	Now func() time.Time
	// LookupIP resolves a host name; default net.DefaultResolver.LookupIP
	// with network "ip". Tests replace it.
	LookupIP func(ctx context.Context, host string) ([]net.IP, error)
}

// Run checks the configuration and prints the report to o.Stdout. It
// returns the exit status: 0 when no check failed (warnings do not
// count), 1 otherwise.
func Run(ctx context.Context, o Options) int {
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LookupIP == nil {
		o.LookupIP = func(ctx context.Context, host string) ([]net.IP, error) {
			return net.DefaultResolver.LookupIP(ctx, "ip", host)
		}
	}
	getenv, dotEnvErr := o.Getenv, error(nil)
	if o.DotEnv != "" {
		if g, err := config.LoadDotEnv(o.DotEnv, o.Getenv, platform.SecretVars(o.Specs)...); err != nil {
			dotEnvErr = err
		} else {
			getenv = g
		}
	}
	d := &doctor{o: o, getenv: getenv}
	d.r = &report{w: &redactor{w: o.Stdout, secrets: secretValues(getenv, o.Specs)}}

	mode := "online checks on"
	if o.Offline {
		mode = "offline: nothing leaves this machine"
	}
	d.r.printf("onbehalf doctor — %s (%s)\n", o.Now().UTC().Format("2006-01-02 15:04 UTC"), mode)
	d.r.printf("Checks without changing anything. ✓ fine  ✗ must be fixed  ⚠ worth a look  · for information\n")
	if dotEnvErr != nil {
		d.r.section("Configuration file")
		d.r.fail("%v", dotEnvErr)
	}

	d.loadConfig()
	d.checkSettings()
	d.checkPlatformSettings()
	d.checkPages()
	d.checkDatabase(ctx)
	d.checkServer(ctx)
	d.checkZoom(ctx)
	d.checkReview(ctx)
	d.checkPlatformKeys(ctx)
	d.printPaste()
	return d.r.summary()
}

// doctor is one run: the options, the environment as the server reads it,
// the loaded configuration and the report.
type doctor struct {
	o      Options
	getenv func(string) string
	r      *report

	cfg config.Config
	// problems are the configuration's problems by the variable each
	// names first; loose are those that name none of the listed ones.
	problems map[string][]string
	loose    []string
	// platforms are the results of loading each platform's block.
	platforms []loadedPlatform
	// storedAPIKeys is the number of API keys found in a bbolt database,
	// -1 when unknown.
	storedAPIKeys int
	// connected is the number of connected connections in the store, -1
	// when unknown (the keep-alive's rate is judged on it).
	connected int64
}

// get returns the trimmed value of name as the server reads it.
func (d *doctor) get(name string) string { return strings.TrimSpace(d.getenv(name)) }

// baseURL is the public URL the server will use.
func (d *doctor) baseURL() string {
	if d.cfg.BaseURL != "" {
		return d.cfg.BaseURL
	}
	return fmt.Sprintf("http://localhost:%d", d.cfg.Port)
}

// redirectURI is the Zoom OAuth redirect URI the server will use.
func (d *doctor) redirectURI() string {
	if d.cfg.ZoomRedirectURI != "" {
		return d.cfg.ZoomRedirectURI
	}
	return d.baseURL() + "/zoom/oauth-callback"
}

// report writes the checks' lines and counts failures and warnings.
type report struct {
	w            io.Writer
	fails, warns int
	// indent is added before marked lines (nested groups).
	indent string
}

func (r *report) printf(format string, args ...any) { fmt.Fprintf(r.w, format, args...) }

// section starts a group of lines.
func (r *report) section(title string) { r.printf("\n%s\n", title) }

// sub starts a group inside a section; the lines that f writes are
// indented under it.
func (r *report) sub(title string, f func()) {
	r.printf("  %s%s\n", r.indent, title)
	old := r.indent
	r.indent += "  "
	defer func() { r.indent = old }()
	f()
}

// line writes one marked line, indented under its section; continuation
// lines of a multi-line message are indented further.
func (r *report) line(mark, format string, args ...any) {
	msg := strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", "\n      "+r.indent)
	r.printf("  %s%s %s\n", r.indent, mark, msg)
}

// ok reports a check that passed.
func (r *report) ok(format string, args ...any) { r.line("✓", format, args...) }

// fail reports a check that failed: the exit status becomes 1.
func (r *report) fail(format string, args ...any) { r.fails++; r.line("✗", format, args...) }

// warn reports something worth a look that does not fail the run.
func (r *report) warn(format string, args ...any) { r.warns++; r.line("⚠", format, args...) }

// info reports a fact or a check that was skipped.
func (r *report) info(format string, args ...any) { r.line("·", format, args...) }

// paste writes a label and the value to paste, aligned.
func (r *report) paste(label, value string) {
	r.printf("  %s  %-30s %s\n", r.indent, label+":", value)
}

// pasteCont writes a label (or none, to continue a list) and a value.
func (r *report) pasteCont(label, value string) {
	if label != "" {
		label += ":"
	}
	r.printf("  %s  %-30s %s\n", r.indent, label, value)
}

// summary writes the last line and returns the exit status.
func (r *report) summary() int {
	r.section("Summary")
	switch {
	case r.fails > 0:
		r.printf("  ✗ %d problem(s) to fix, %d warning(s).\n", r.fails, r.warns)
		return 1
	case r.warns > 0:
		r.printf("  ✓ Nothing to fix; %d warning(s) worth a look.\n", r.warns)
	default:
		r.printf("  ✓ Everything checked is fine.\n")
	}
	return 0
}

// redactor scrubs every secret value from what is written through it.
// Each write is a whole line, so a secret never straddles two writes.
type redactor struct {
	w       io.Writer
	secrets []string
}

// minSecretLen is the shortest value scrubbed: shorter ones would mangle
// ordinary words (and are refused by the configuration anyway).
const minSecretLen = 6

func (r *redactor) Write(p []byte) (int, error) {
	s := string(p)
	for _, v := range r.secrets {
		s = strings.ReplaceAll(s, v, "*****")
	}
	if _, err := io.WriteString(r.w, s); err != nil {
		return 0, err
	}
	return len(p), nil
}

// secretValues lists every secret value of the environment, longest first
// (so that a secret containing another is scrubbed whole): the core
// secret variables (config.SecretVars), each part of a list, the password of DATABASE_URL, and every
// platform variable marked secret.
func secretValues(getenv func(string) string, specs []platform.Spec) []string {
	names := slices.Concat(config.SecretVars, platform.SecretVars(specs))
	seen := map[string]bool{}
	var out []string
	add := func(v string) {
		v = strings.TrimSpace(v)
		if len(v) >= minSecretLen && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	for _, n := range names {
		v := getenv(n)
		add(v)
		for _, part := range strings.Split(v, ",") {
			add(part)
		}
	}
	if pw := urlPassword(getenv("DATABASE_URL")); pw != "" {
		add(pw)
	}
	for i := 1; i < len(out); i++ { // insertion sort, longest first
		for j := i; j > 0 && len(out[j]) > len(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
