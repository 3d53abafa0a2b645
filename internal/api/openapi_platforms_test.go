package api_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/onbehalf/onbehalf/internal/api"
)

// platformFields collects the schema of every "platform" property of v
// that has an enum or the place for one, by path.
func platformFields(v any, path string, out map[string]map[string]any) {
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			if p, ok := c.(map[string]any); ok && k == "platform" && (p["enum"] != nil || p["x-onbehalf-enum"] != nil) {
				out[path+"/platform"] = p
			}
			platformFields(c, path+"/"+k, out)
		}
	case []any:
		for _, c := range v {
			platformFields(c, path+"/[]", out)
		}
	}
}

// TestPlatformEnumAsServed: the embedded description names no platform;
// as served, each platform field of a request body has the enum of the
// platforms the server was given, in their order, and the document is
// still valid OpenAPI. With none, the fields have no enum.
func TestPlatformEnumAsServed(t *testing.T) {
	if strings.Contains(string(api.OpenAPI()), `"recall"`) {
		t.Error("the embedded description names a platform: the enum is filled in when served")
	}
	var doc map[string]any
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	marked := map[string]map[string]any{}
	platformFields(doc, "", marked)
	if len(marked) < 2 {
		t.Fatalf("platform fields %v, want the create-bot and token-URL bodies'", marked)
	}

	names := []string{"recall", "meetstream", "newbot"}
	served := api.OpenAPIFor("https://x.example", names)
	if err := json.Unmarshal(served, &doc); err != nil {
		t.Fatal(err)
	}
	fields := map[string]map[string]any{}
	platformFields(doc, "", fields)
	if len(fields) != len(marked) {
		t.Errorf("served: %d platform fields with an enum, want %d", len(fields), len(marked))
	}
	for where, f := range fields {
		var enum []string
		list, _ := f["enum"].([]any)
		for _, e := range list {
			enum = append(enum, e.(string))
		}
		if !slices.Equal(enum, names) {
			t.Errorf("%s: enum %v, want %v", where, enum, names)
		}
		if _, left := f["x-onbehalf-enum"]; left {
			t.Errorf("%s: the marker is still there", where)
		}
	}
	kin, err := openapi3.NewLoader().LoadFromData(served)
	if err != nil {
		t.Fatal(err)
	}
	if err := kin.Validate(context.Background()); err != nil {
		t.Fatalf("served description: %v", err)
	}

	if err := json.Unmarshal(api.OpenAPIFor("", nil), &doc); err != nil {
		t.Fatal(err)
	}
	clear(fields)
	platformFields(doc, "", fields)
	for where, f := range fields {
		if f["enum"] != nil {
			t.Errorf("%s: enum %v with no platform", where, f["enum"])
		}
	}
}
