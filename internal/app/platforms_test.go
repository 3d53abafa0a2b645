package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/onbehalf/onbehalf/internal/api"
	"github.com/onbehalf/onbehalf/internal/app"
)

// TestEveryPlatformEverywhere: every platform of the app's one list has
// what the rest of the server takes from its Spec (its fake for the demo,
// its key check for `onbehalf doctor` or why it has none, the variable
// the no-platform error names). The demo's test runs every fake; the
// OpenAPI enums come from the list when served (TestServedPlatformEnum).
func TestEveryPlatformEverywhere(t *testing.T) {
	for _, s := range app.Platforms {
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
}

// TestServedPlatformEnum: the running server's OpenAPI description has,
// as each platform enum, the platforms it has configured (here Recall.ai
// alone), in the list's order; the embedded document names none.
func TestServedPlatformEnum(t *testing.T) {
	if enums := platformEnums(mustJSON(t, api.OpenAPI()), ""); len(enums) != 0 {
		t.Fatalf("the embedded document has platform enums %v: they come from the app's list", enums)
	}
	a, _ := startApp(t, newFakes(t), io.Discard)
	resp, err := http.Get(a.BaseURL() + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	enums := platformEnums(mustJSON(t, []byte(read(resp))), "")
	if len(enums) < 2 {
		t.Fatalf("the served description has platform enums %v, want the create-bot and token-URL bodies'", enums)
	}
	for where, enum := range enums {
		if !slices.Equal(enum, []string{"recall"}) {
			t.Errorf("OpenAPI %s: enum %v, want the configured [recall]", where, enum)
		}
	}
}

// mustJSON decodes b.
func mustJSON(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
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
