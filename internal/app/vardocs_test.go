package app_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/onbehalf/onbehalf/internal/app"
	"github.com/onbehalf/onbehalf/internal/config"
)

// documented is one variable as the documents must show it.
type documented struct {
	name, group, def string
	secret           bool
}

// allVars returns every variable the server reads: the core table and
// every platform's block (grouped under "Bot platforms").
func allVars() []documented {
	var out []documented
	for _, v := range config.Vars() {
		out = append(out, documented{v.Name, v.Group, v.Default, v.Secret})
	}
	for _, s := range app.Platforms {
		for _, v := range s.Vars {
			out = append(out, documented{v.Name, "Bot platforms", v.Default, v.Secret})
		}
	}
	return out
}

// TestEnvExampleDocumentsEveryVariable: every variable has a commented
// line in .env.example, showing its default when it has one (as the
// value, or in a "Default: …" comment), and nothing there is unknown.
func TestEnvExampleDocumentsEveryVariable(t *testing.T) {
	example := readFile(t, "../../.env.example")
	line := regexp.MustCompile(`(?m)^# ([A-Z][A-Z0-9_]+)=`)
	lines := strings.Split(example, "\n")
	at := map[string]int{}
	for i, l := range lines {
		if m := line.FindStringSubmatch(l); m != nil {
			at[m[1]] = i
		}
	}
	known := map[string]bool{}
	for _, v := range allVars() {
		known[v.name] = true
		i, ok := at[v.name]
		if !ok {
			t.Errorf(".env.example lacks %s", v.name)
			continue
		}
		if v.def != "" && lines[i] != "# "+v.name+"="+v.def && !saysDefault(lines[:i], v.def) {
			t.Errorf(".env.example: %q neither shows the default %s nor follows a comment saying \"Default: %s\"", lines[i], v.def, v.def)
		}
	}
	for v := range at {
		if !known[v] {
			t.Errorf(".env.example documents %s, which nothing reads", v)
		}
	}
}

// saysDefault reports whether the comment just above the end of lines
// says "Default: def".
func saysDefault(lines []string, def string) bool {
	for j := len(lines) - 1; j >= 0 && strings.HasPrefix(lines[j], "#"); j-- {
		if strings.Contains(lines[j], "Default: "+def) {
			return true
		}
	}
	return false
}

// TestConfigurationDocListsEveryVariable: docs/configuration.md has a
// table row for every variable, in the section of its group, with its
// default; and names no variable that nothing reads.
func TestConfigurationDocListsEveryVariable(t *testing.T) {
	doc := readFile(t, "../../docs/configuration.md")
	section, rows := "", map[string]string{} // variable → its section
	cells := map[string][]string{}
	name := regexp.MustCompile("`([A-Z][A-Z0-9_]+)`")
	for _, l := range strings.Split(doc, "\n") {
		if s, ok := strings.CutPrefix(l, "## "); ok {
			section = s
			continue
		}
		if !strings.HasPrefix(l, "| `") {
			continue
		}
		c := strings.Split(l, " | ")
		if len(c) < 3 {
			continue
		}
		for _, m := range name.FindAllStringSubmatch(c[0], -1) {
			rows[m[1]], cells[m[1]] = section, c
		}
	}
	known := map[string]bool{"GOGC": true} // read by the Go runtime
	for _, v := range allVars() {
		known[v.name] = true
		s, ok := rows[v.name]
		switch {
		case !ok:
			t.Errorf("docs/configuration.md has no row for %s", v.name)
		case s != v.group:
			t.Errorf("docs/configuration.md: %s is under %q, its group is %q", v.name, s, v.group)
		case v.def != "" && !strings.Contains(cells[v.name][1], "`"+v.def+"`"):
			t.Errorf("docs/configuration.md: the default of %s is `%s`, the row says %s", v.name, v.def, cells[v.name][1])
		}
	}
	for v := range rows {
		if !known[v] {
			t.Errorf("docs/configuration.md documents %s, which nothing reads", v)
		}
	}
}

// TestReadmeNamesOnlyRealVariables: a variable the README names exists.
func TestReadmeNamesOnlyRealVariables(t *testing.T) {
	known := map[string]bool{}
	for _, v := range allVars() {
		known[v.name] = true
	}
	for _, m := range regexp.MustCompile("`([A-Z][A-Z0-9]*_[A-Z0-9_]+)").FindAllStringSubmatch(readFile(t, "../../README.md"), -1) {
		if !known[m[1]] {
			t.Errorf("README.md names %s, which nothing reads", m[1])
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
