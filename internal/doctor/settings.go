package doctor

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/config"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
)

// setting is one core variable as the report shows it.
type setting struct {
	name   string
	secret bool
	// def returns the value in use when the variable is unset; "" when
	// there is none.
	def func(c config.Config) string
	// unset says what leaving the variable unset means when there is no
	// default value to show.
	unset string
	// show formats a set value; default: the value itself, or "set (N
	// characters)" for a secret.
	show func(v string) string
}

// settingGroup is a titled list of settings.
type settingGroup struct {
	title    string
	settings []setting
}

// coreSettings are the core variables, grouped as the report shows them.
// Defaults are read from the loaded configuration, so they cannot drift
// from package config.
func coreSettings() []settingGroup {
	itoa := func(f func(config.Config) int) func(config.Config) string {
		return func(c config.Config) string { return strconv.Itoa(f(c)) }
	}
	dur := func(f func(config.Config) time.Duration) func(config.Config) string {
		return func(c config.Config) string { return shortDuration(f(c)) }
	}
	str := func(f func(config.Config) string) func(config.Config) string { return f }
	generated := "generated once and kept in the database"
	return []settingGroup{
		{"Server", []setting{
			{name: "PORT", def: itoa(func(c config.Config) int { return c.Port })},
			{name: "LISTEN_ADDR", def: str(func(c config.Config) string { return c.ListenAddr })},
			{name: "BASE_URL", def: func(c config.Config) string { return fmt.Sprintf("http://localhost:%d", c.Port) }},
			{name: "LOG_LEVEL", def: str(func(c config.Config) string { return c.LogLevel })},
			{name: "LOG_FORMAT", def: str(func(c config.Config) string { return c.LogFormat })},
			{name: "METRICS", def: func(c config.Config) string { return strconv.FormatBool(c.Metrics) }},
			{name: "METRICS_ADDR", unset: "not set: /metrics (when METRICS=true) is served on the main listener"},
			{name: "TRUSTED_PROXIES", unset: "not set: X-Forwarded-For is not believed"},
		}},
		{"Zoom", []setting{
			{name: "ZOOM_CLIENT_ID", unset: "not set"},
			{name: "ZOOM_CLIENT_SECRET", secret: true, unset: "not set"},
			{name: "ZOOM_REDIRECT_URI", def: func(c config.Config) string {
				base := c.BaseURL
				if base == "" {
					base = fmt.Sprintf("http://localhost:%d", c.Port)
				}
				return base + "/zoom/oauth-callback"
			}},
			{name: "ZOOM_OAUTH_URL", def: str(func(c config.Config) string { return c.ZoomOAuthURL })},
			{name: "ZOOM_API_URL", def: str(func(c config.Config) string { return c.ZoomAPIURL })},
			{name: "ZOOM_TIMEOUT", def: dur(func(c config.Config) time.Duration { return c.ZoomTimeout })},
			{name: "ZOOM_REFRESH_TIMEOUT", def: dur(func(c config.Config) time.Duration { return c.ZoomRefreshTimeout })},
			{name: "ZOOM_FAILURE_COOLDOWN", def: dur(func(c config.Config) time.Duration { return c.ZoomFailureCooldown })},
			{name: "ZOOM_WEBHOOK_SECRET_TOKEN", secret: true, unset: "not set: POST /zoom/webhook answers 404"},
			{name: "ZOOM_ACCOUNT_ID", unset: "not set: account mode is off"},
			{name: "ZOOM_S2S_CLIENT_ID", unset: "not set"},
			{name: "ZOOM_S2S_CLIENT_SECRET", secret: true, unset: "not set"},
		}},
		{"Secrets and storage", []setting{
			{name: "OBF_CALLBACK_SECRET", secret: true, unset: "not set: " + generated},
			{name: "SESSION_SECRET", secret: true, unset: "not set: " + generated},
			{name: "TOKEN_ENCRYPTION_KEY", secret: true, show: countOf("key"),
				unset: "not set: tokens are sealed with the key file beside the bbolt database (DB_PATH.key), generated on first start"},
			{name: "DATABASE_URL", secret: true, show: displayDatabaseURL, unset: "not set: the bbolt file at DB_PATH is used"},
			{name: "DB_PATH", def: str(func(c config.Config) string { return c.DBPath })},
		}},
		{"Tokens and limits", []setting{
			{name: "KEEPALIVE", def: func(c config.Config) string { return strconv.FormatBool(c.KeepAlive) }},
			{name: "KEEPALIVE_IDLE", def: dur(func(c config.Config) time.Duration { return c.KeepAliveIdle })},
			{name: "KEEPALIVE_MARGIN", def: dur(func(c config.Config) time.Duration { return c.KeepAliveMargin })},
			{name: "KEEPALIVE_CONCURRENCY", def: itoa(func(c config.Config) int { return c.KeepAliveConcurrency })},
			{name: "KEEPALIVE_RATE", def: func(c config.Config) string { return strconv.FormatFloat(c.KeepAliveRate, 'g', -1, 64) }},
			{name: "TOKEN_URL_TTL", def: dur(func(c config.Config) time.Duration { return c.TokenURLTTL })},
			{name: "ALLOW_ZAK", def: func(c config.Config) string { return strconv.FormatBool(c.AllowZAK) }},
			{name: "ALLOW_SECRET_URLS", def: func(c config.Config) string { return secretURLKinds(c.SecretURLKinds) }},
			{name: "RATE_LIMIT_PER_CONNECTION", def: itoa(func(c config.Config) int { return c.RateLimitPerConnection })},
			{name: "RATE_LIMIT_PER_IP", def: itoa(func(c config.Config) int { return c.RateLimitPerIP })},
		}},
		{"Pages and their limits", []setting{
			{name: "PAGES", def: func(c config.Config) string { return strconv.FormatBool(c.Pages) }},
			{name: "ALLOWED_ZOOM_ACCOUNTS", unset: "not set: any Zoom account may connect through the pages"},
			{name: "ALLOWED_EMAIL_DOMAINS", unset: "not set: any email domain may connect through the pages"},
			{name: "BOTS_PER_HOUR", def: itoa(func(c config.Config) int { return c.BotsPerHour })},
			{name: "STREAMS_PER_SESSION", def: itoa(func(c config.Config) int { return c.StreamsPerSession })},
			{name: "STREAMS_MAX", def: itoa(func(c config.Config) int { return c.StreamsMax })},
		}},
		{"Integration API and outgoing webhooks", []setting{
			{name: "API_KEYS", secret: true, show: countOf("key"), unset: "not set"},
			{name: "API_RETURN_ORIGINS", unset: "not set: connect links send the browser to /launch"},
			{name: "RATE_LIMIT_PER_API_KEY", def: itoa(func(c config.Config) int { return c.RateLimitPerAPIKey })},
			{name: "WEBHOOK_URL", show: displayURL, unset: "not set: no events are POSTed (GET /api/v1/events still streams them)"},
			{name: "WEBHOOK_SECRET", secret: true, unset: "not set: " + generated + " (`onbehalf webhook-secret` prints it)"},
		}},
	}
}

// loadConfig loads the core configuration and every platform's block, as
// the server does at start, and files every problem under the variable it
// names first.
func (d *doctor) loadConfig() {
	cfg, err := config.Load(d.getenv)
	d.cfg = cfg
	d.problems = map[string][]string{}
	d.storedAPIKeys = -1
	known := map[string]bool{}
	for _, g := range coreSettings() {
		for _, s := range g.settings {
			known[s.name] = true
		}
	}
	var ce *config.Error
	if errors.As(err, &ce) {
		for _, p := range ce.Problems {
			d.file(known, p.Error())
		}
	} else if err != nil {
		d.loose = append(d.loose, err.Error())
	}
	deps := platform.Deps{HTTP: d.o.HTTP, Now: d.o.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, s := range d.o.Specs {
		lp := loadedPlatform{spec: s, problems: map[string][]string{}}
		vars := map[string]bool{}
		for _, v := range s.Vars {
			vars[v.Name] = true
		}
		p, err := s.Load(platform.NewEnv(d.getenv), deps)
		lp.configured = p != nil || err != nil
		if err != nil {
			for _, e := range unjoin(err) {
				if name := leadingVar(e.Error()); vars[name] {
					lp.problems[name] = append(lp.problems[name], e.Error())
				} else {
					lp.loose = append(lp.loose, e.Error())
				}
			}
		}
		d.platforms = append(d.platforms, lp)
	}
}

// file records a problem under the variable it starts with, or as loose.
func (d *doctor) file(known map[string]bool, msg string) {
	if name := leadingVar(msg); known[name] {
		d.problems[name] = append(d.problems[name], msg)
		return
	}
	d.loose = append(d.loose, msg)
}

// checkSettings reports every core variable: its problems, or its value
// (a default marked as such, a secret as its length).
func (d *doctor) checkSettings() {
	d.r.section("Configuration (as the server reads it at start)")
	for _, msg := range d.loose {
		d.r.fail("%s", msg)
	}
	for _, g := range coreSettings() {
		d.r.sub(g.title, func() {
			for _, s := range g.settings {
				d.reportSetting(d.problems, s.name, s.secret, s.show, s.def, s.unset)
			}
		})
	}
}

// reportSetting writes one variable's line(s).
func (d *doctor) reportSetting(problems map[string][]string, name string, secret bool, show func(string) string, def func(config.Config) string, unset string) {
	if ps := problems[name]; len(ps) > 0 {
		for _, p := range ps {
			d.r.fail("%s", p)
		}
		return
	}
	v := d.get(name)
	switch {
	case v != "" && show != nil:
		d.r.ok("%s = %s", name, show(v))
	case v != "" && secret:
		d.r.ok("%s = set (%d characters)", name, len(v))
	case v != "":
		d.r.ok("%s = %s", name, v)
	case def != nil:
		d.r.ok("%s = %s (default)", name, def(d.cfg))
	default:
		d.r.info("%s: %s", name, unset)
	}
}

// loadedPlatform is a platform's block as Load read it.
type loadedPlatform struct {
	spec platform.Spec
	// configured is true when the API key is set (even if the block has
	// problems).
	configured bool
	problems   map[string][]string
	loose      []string
}

// ok reports whether the platform is configured without problems.
func (lp loadedPlatform) ok() bool {
	return lp.configured && len(lp.problems) == 0 && len(lp.loose) == 0
}

// checkPlatformSettings reports each platform's block.
func (d *doctor) checkPlatformSettings() {
	d.r.section("Bot platforms")
	configured := 0
	for _, lp := range d.platforms {
		s := lp.spec
		if !lp.configured {
			d.r.info("%s: not configured — set %s %s (%s)", s.Title, s.Hint.Var, s.Hint.Why, s.Hint.Where)
			continue
		}
		configured++
		d.r.sub(s.Title+": configured", func() {
			for _, msg := range lp.loose {
				d.r.fail("%s", msg)
			}
			for _, v := range s.Vars {
				var def func(config.Config) string
				if v.Default != "" {
					dv := v.Default
					def = func(config.Config) string { return dv }
				}
				d.reportSetting(lp.problems, v.Name, v.Secret, nil, def, "not set")
			}
		})
	}
	if configured == 0 && len(d.platforms) > 0 {
		d.r.warn("No bot platform is configured: /launch and POST /api/v1/bots cannot send bots (token URLs and the token API still work).")
	}
}

// leadingVar returns the variable name a message starts with
// ("PORT=…", "API_KEYS: …"), or "".
func leadingVar(msg string) string {
	i := 0
	for i < len(msg) && (msg[i] >= 'A' && msg[i] <= 'Z' || msg[i] >= '0' && msg[i] <= '9' || msg[i] == '_') {
		i++
	}
	return msg[:i]
}

// unjoin splits an errors.Join into its parts.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// countOf shows a comma-separated secret list as its count.
func countOf(noun string) func(string) string {
	return func(v string) string {
		n := 0
		for _, p := range strings.Split(v, ",") {
			if strings.TrimSpace(p) != "" {
				n++
			}
		}
		if n == 1 {
			return "set (1 " + noun + ")"
		}
		return fmt.Sprintf("set (%d %ss)", n, noun)
	}
}

// shortDuration formats d without trailing zero units (15m, not 15m0s).
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// secretURLKinds describes ALLOW_SECRET_URLS as loaded.
func secretURLKinds(kinds []onbehalf.TokenKind) string {
	switch {
	case len(kinds) == 0:
		return "false (plain auth_token URLs are off)"
	case len(kinds) == 1:
		return "true (plain auth_token URLs serve OBF only)"
	default:
		return "zak (plain auth_token URLs serve OBF and ZAK)"
	}
}
