package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// Paths from this module to what it checks.
const (
	metricsSource = "../../../internal/metrics"
	dashboardFile = "../../grafana/onbehalf.json"
	alertsFile    = "../../prometheus/alerts.yaml"
)

// buildInfo is the one series queried that internal/metrics does not
// declare (the app exports it with the build's version).
const buildInfo = "onbehalf_build_info"

// exported reads the metric names internal/metrics declares: the string
// literals of its non-test files that look like onbehalf_… names (the
// Name: fields of its collectors and the names of its NewDesc calls).
func exported(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(metricsSource, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s: %v", metricsSource, err)
	}
	lit := regexp.MustCompile(`"(onbehalf_[a-z0-9_]+)"`)
	names := map[string]bool{buildInfo: true}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
			names[m[1]] = true
		}
	}
	if len(names) < 10 {
		t.Fatalf("only %d metric names found in %s: %v", len(names), metricsSource, names)
	}
	return names
}

// known says whether name is an exported series: a declared name, or a
// histogram's _bucket, _sum or _count.
func known(names map[string]bool, name string) bool {
	if names[name] {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && names[base] && strings.HasSuffix(base, "_seconds") {
			return true
		}
	}
	return false
}

// promqlWords are PromQL's keywords, which read like metric names.
var promqlWords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"bool": true, "and": true, "or": true, "unless": true, "offset": true, "inf": true, "nan": true,
}

// aggregators are PromQL's aggregation operators, which may come before
// their by (…) or without (…) clause: `sum by (le) (…)`.
var aggregators = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true, "limitk": true, "limit_ratio": true,
}

// metricNames returns the metric names an expression selects: every
// identifier outside braces, brackets and quotes that is not a function
// (followed by "("), a keyword, a grouping label list or a Grafana
// variable.
func metricNames(expr string) []string {
	var names []string
	depthBrace, depthBracket := 0, 0
	grouping := false // inside by (…) / without (…) / on (…)
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for j < len(expr) && expr[j] != c {
				if expr[j] == '\\' {
					j++
				}
				j++
			}
			i = j + 1
			continue
		case c == '{':
			depthBrace++
		case c == '}':
			depthBrace--
		case c == '[':
			depthBracket++
		case c == ']':
			depthBracket--
		case c == ')':
			grouping = false
		case c == '$':
			j := i + 1
			for j < len(expr) && (isWord(expr[j]) || expr[j] == '{' || expr[j] == '}') {
				j++
			}
			i = j
			continue
		case isWordStart(c):
			j := i
			for j < len(expr) && isWord(expr[j]) {
				j++
			}
			word := expr[i:j]
			rest := strings.TrimLeft(expr[j:], " \t\n")
			switch {
			case depthBrace > 0 || depthBracket > 0 || grouping:
			case promqlWords[strings.ToLower(word)]:
				if w := strings.ToLower(word); w == "by" || w == "without" || w == "on" || w == "ignoring" || w == "group_left" || w == "group_right" {
					grouping = strings.HasPrefix(rest, "(")
					if grouping {
						i = j + strings.Index(expr[j:], "(") + 1
						continue
					}
				}
			case strings.HasPrefix(rest, "("):
				// a function
			case aggregators[word] && (strings.HasPrefix(rest, "by") || strings.HasPrefix(rest, "without")):
				// an aggregation with its grouping first
			default:
				names = append(names, word)
			}
			i = j
			continue
		case c >= '0' && c <= '9':
			j := i
			for j < len(expr) && (isWord(expr[j]) || expr[j] == '.') {
				j++
			}
			i = j
			continue
		}
		i++
	}
	return names
}

func isWordStart(c byte) bool {
	return c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isWord(c byte) bool { return isWordStart(c) || (c >= '0' && c <= '9') }

// TestMetricNames checks the lexer on the shapes the dashboard uses.
func TestMetricNames(t *testing.T) {
	for expr, want := range map[string]string{
		`sum by (status) (rate(onbehalf_token_requests_total{job=~"$job"}[$__rate_interval]))`:                      "onbehalf_token_requests_total",
		`histogram_quantile(0.95, sum by (le, kind) (rate(onbehalf_zoom_mint_duration_seconds_bucket{a="b"}[5m])))`: "onbehalf_zoom_mint_duration_seconds_bucket",
		`max(x{state="disconnected"}) - max(x offset 1h) > 10`:                                                      "x x",
		`a / on (instance) group_left (version) b and bool c`:                                                       "a b c",
		`up == 0 or process_resident_memory_bytes > 1e9`:                                                            "up process_resident_memory_bytes",
		`sum without (instance) (rate(go_goroutines[5m])) / count(sum)`:                                             "go_goroutines sum",
	} {
		if got := strings.Join(metricNames(expr), " "); got != want {
			t.Errorf("metricNames(%s) = %q, want %q", expr, got, want)
		}
	}
}

// checkExprs checks that every expression queries only exported metrics,
// and at least one.
func checkExprs(t *testing.T, where string, exprs []string) {
	t.Helper()
	names := exported(t)
	if len(exprs) == 0 {
		t.Fatalf("%s: no expressions", where)
	}
	unknown := false
	defer func() {
		if unknown {
			var list []string
			for k := range names {
				list = append(list, k)
			}
			sort.Strings(list)
			t.Logf("internal/metrics exports %s", strings.Join(list, ", "))
		}
	}()
	for _, e := range exprs {
		got := metricNames(e)
		if len(got) == 0 {
			t.Errorf("%s: %q queries no metric", where, e)
		}
		for _, n := range got {
			if !known(names, n) {
				t.Errorf("%s: %q queries %s, which onbehalf does not export", where, e, n)
				unknown = true
			}
		}
	}
}

// TestDashboardQueriesExportedMetrics: every query of the Grafana
// dashboard (panels and variables) selects only series the server
// exports, so that no panel is empty for a misspelt or renamed metric.
func TestDashboardQueriesExportedMetrics(t *testing.T) {
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	var exprs []string
	for _, p := range dash.Panels {
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	labelValues := regexp.MustCompile(`^label_values\(([a-z_:0-9]+)`)
	for _, v := range dash.Templating.List {
		if q, ok := v.Query.(map[string]any); ok {
			s, _ := q["query"].(string)
			m := labelValues.FindStringSubmatch(s)
			if m == nil {
				t.Errorf("variable %s: query %q is not label_values(metric, label)", v.Name, s)
				continue
			}
			exprs = append(exprs, m[1])
		}
	}
	checkExprs(t, dashboardFile, exprs)
}

// TestAlertsQueryExportedMetrics: the same for the alert rules.
func TestAlertsQueryExportedMetrics(t *testing.T) {
	b, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `json:"alert"`
				Expr  string `json:"expr"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.UnmarshalStrict(b, &rules); err != nil {
		// Strict decoding of only two fields: read loosely, then check.
		if err := yaml.Unmarshal(b, &rules); err != nil {
			t.Fatal(err)
		}
	}
	var exprs []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	checkExprs(t, alertsFile, exprs)
}
