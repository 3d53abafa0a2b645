package app_test

import (
	"encoding/json"
	"slices"
	"strconv"
	"testing"

	"github.com/onbehalf/onbehalf/internal/api"
	"github.com/onbehalf/onbehalf/internal/app"
)

// TestEveryPlatformEverywhere: every platform of the app's one list has
// what the rest of the server takes from its Spec (its fake for the demo,
// its key check for `onbehalf doctor` or why it has none, the variable
// the no-platform error names) and is in each platform enum of the OpenAPI
// document, in the list's order. The demo's test runs every fake.
func TestEveryPlatformEverywhere(t *testing.T) {
	var names []string
	for _, s := range app.Platforms {
		names = append(names, s.Name)
		switch {
		case s.Name == "" || s.Title == "" || s.Load == nil:
			t.Errorf("%q: Spec needs Name, Title and Load", s.Name)
		case s.Demo == nil:
			t.Errorf("%s: no fake for the demo (Spec.Demo)", s.Name)
		case (s.Probe.URL == nil) == (s.Probe.None == ""), s.Probe.URL != nil && s.Probe.Auth == nil:
			t.Errorf("%s: Spec.Probe needs URL and Auth, or None saying why the key cannot be checked", s.Name)
		case s.Hint.Var == "":
			t.Errorf("%s: Spec.Hint names no variable", s.Name)
		}
	}
	var doc any
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	enums := platformEnums(doc, "")
	if len(enums) == 0 {
		t.Fatal("the OpenAPI document has no platform enum")
	}
	for where, enum := range enums {
		if !slices.Equal(enum, names) {
			t.Errorf("OpenAPI %s: enum %v, want the app's list %v", where, enum, names)
		}
	}
}

// platformEnums returns the enum of every "platform" property under v,
// by JSON path.
func platformEnums(v any, path string) map[string][]string {
	out := map[string][]string{}
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			if p, ok := c.(map[string]any); ok && k == "platform" && p["enum"] != nil {
				var enum []string
				for _, e := range p["enum"].([]any) {
					s, _ := e.(string)
					enum = append(enum, s)
				}
				out[path+"/platform"] = enum
			}
			for p, e := range platformEnums(c, path+"/"+k) {
				out[p] = e
			}
		}
	case []any:
		for i, c := range v {
			for p, e := range platformEnums(c, path+"/"+strconv.Itoa(i)) {
				out[p] = e
			}
		}
	}
	return out
}
