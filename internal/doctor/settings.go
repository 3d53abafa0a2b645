package doctor

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/onbehalf/onbehalf/internal/config"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
)

// effective are the defaults computed from other variables, as the
// loaded configuration holds them; the table's Default or Unset says the
// rest.
var effective = map[string]func(c config.Config) string{
	"LISTEN_ADDR": func(c config.Config) string { return c.ListenAddr },
	"BASE_URL":    localURL,
	"ZOOM_REDIRECT_URI": func(c config.Config) string {
		return cmp.Or(c.BaseURL, localURL(c)) + "/zoom/oauth-callback"
	},
	"ALLOW_SECRET_URLS": func(c config.Config) string { return secretURLKinds(c.SecretURLKinds) },
}

// shown are the variables whose set value is shown otherwise than as
// itself (or, for a secret, its length).
var shown = map[string]func(v string) string{
	"TOKEN_ENCRYPTION_KEY": countOf("key"),
	"API_KEYS":             countOf("key"),
	"DATABASE_URL":         displayDatabaseURL,
	"WEBHOOK_URL":          displayURL,
}

// localURL is the public URL when BASE_URL is unset.
func localURL(c config.Config) string { return fmt.Sprintf("http://localhost:%d", c.Port) }

// loadConfig loads the core configuration and every platform's block, as
// the server does at start, and files every problem under the variable it
// names first.
func (d *doctor) loadConfig() {
	cfg, err := config.Load(d.getenv, platform.SecretVars(d.o.Specs)...)
	d.cfg = cfg
	d.problems = map[string][]string{}
	d.storedAPIKeys = -1
	d.connected = -1
	known := map[string]bool{}
	for _, v := range config.Vars() {
		known[v.Name] = true
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
		p, err := s.Load(platform.NewConfigReader(d.getenv), deps)
		lp.configured = p != nil || err != nil
		if err != nil {
			for _, e := range config.Problems(err) {
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
	vars := config.Vars()
	for i, v := range vars {
		if i > 0 && vars[i-1].Group == v.Group {
			continue
		}
		d.r.sub(v.Group, func() {
			for _, v := range vars[i:] {
				if v.Group != vars[i].Group {
					break
				}
				d.reportVar(v)
			}
		})
	}
}

// reportVar writes one core variable's line(s), from the table.
func (d *doctor) reportVar(v config.Var) {
	def, unset := effective[v.Name], "not set"
	if v.Default != "" && def == nil {
		dv := v.Default
		def = func(config.Config) string { return dv }
	}
	if v.Unset != "" {
		unset += ": " + v.Unset
	}
	d.reportSetting(d.problems, v.Name, v.Doc, v.Secret, shown[v.Name], def, unset)
}

// reportSetting writes one variable's line(s); a variable with problems
// also gets its doc line, to say what the value is for.
func (d *doctor) reportSetting(problems map[string][]string, name, doc string, secret bool, show func(string) string, def func(config.Config) string, unset string) {
	if ps := problems[name]; len(ps) > 0 {
		for _, p := range ps {
			d.r.fail("%s", p)
		}
		if doc != "" {
			d.r.info("%s: %s", name, doc)
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
				d.reportSetting(lp.problems, v.Name, v.Meaning, v.Secret, nil, def, "not set")
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
