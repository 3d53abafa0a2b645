package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/onbehalf/onbehalf/internal/api"
)

// operation is the part of an OpenAPI operation the tests read.
type operation struct {
	Security    *[]map[string][]string     `json:"security"`
	Responses   map[string]json.RawMessage `json:"responses"`
	RequestBody json.RawMessage            `json:"requestBody"`
	Parameters  []map[string]any           `json:"parameters"`
}

// openAPIDoc reads the embedded description.
func openAPIDoc(t *testing.T) (map[string]any, map[string]map[string]operation) {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	var typed struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPI(), &typed); err != nil {
		t.Fatal(err)
	}
	ops := map[string]map[string]operation{}
	for path, item := range typed.Paths {
		ops[path] = map[string]operation{}
		for method, raw := range item {
			if method == "parameters" {
				continue
			}
			var op operation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			ops[path][strings.ToUpper(method)] = op
		}
	}
	return doc, ops
}

// Every route the engine registers under /api/v1 is described, and every
// described path and method is registered.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newEnv(t)
	_, ops := openAPIDoc(t)
	param := regexp.MustCompile(`:([a-z_]+)`)
	registered := map[string]bool{}
	for _, rt := range e.engine.Routes() {
		rel, ok := strings.CutPrefix(rt.Path, "/api/v1")
		if !ok {
			continue
		}
		key := rt.Method + " " + param.ReplaceAllString(rel, "{$1}")
		registered[key] = true
		if path := param.ReplaceAllString(rel, "{$1}"); ops[path] == nil {
			t.Errorf("route %s is not in openapi.json", key)
		} else if _, ok := ops[path][rt.Method]; !ok {
			t.Errorf("route %s is not in openapi.json", key)
		}
	}
	var described []string
	for path, item := range ops {
		for method := range item {
			described = append(described, method+" "+path)
			if !registered[method+" "+path] {
				t.Errorf("openapi.json describes %s %s, which is not registered", method, path)
			}
		}
	}
	if len(registered) != len(described) || len(registered) < 13 {
		t.Fatalf("%d routes registered, %d described", len(registered), len(described))
	}
}

// The description is OpenAPI 3.1, every reference resolves, every path
// parameter is declared, every operation says its errors, and the routes
// it marks public are the ones that answer without a key.
func TestOpenAPIDescription(t *testing.T) {
	e := newEnv(t)
	doc, ops := openAPIDoc(t)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Fatalf("openapi %q", v)
	}
	schemes := doc["components"].(map[string]any)["securitySchemes"].(map[string]any)
	if b, _ := schemes["bearer"].(map[string]any); b["type"] != "http" || b["scheme"] != "bearer" {
		t.Fatalf("security scheme %v", schemes)
	}
	if _, ok := doc["components"].(map[string]any)["schemas"].(map[string]any)["Error"]; !ok {
		t.Fatal("no Error schema")
	}
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if r, ok := x["$ref"].(string); ok {
				refs = append(refs, r)
			}
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(doc)
	for _, r := range refs {
		var at any = doc
		for _, part := range strings.Split(strings.TrimPrefix(r, "#/"), "/") {
			m, ok := at.(map[string]any)
			if !ok || m[part] == nil {
				t.Fatalf("$ref %s does not resolve", r)
			}
			at = m[part]
		}
	}
	paths := doc["paths"].(map[string]any)
	for path, item := range ops {
		declared := map[string]bool{}
		common, _ := paths[path].(map[string]any)["parameters"].([]any)
		for _, p := range common {
			declared[resolve(doc, p)["name"].(string)] = true
		}
		for method, op := range item {
			for _, p := range op.Parameters {
				declared[resolve(doc, p)["name"].(string)] = true
			}
			for _, m := range regexp.MustCompile(`\{([a-z_]+)\}`).FindAllStringSubmatch(path, -1) {
				if !declared[m[1]] {
					t.Errorf("%s %s: path parameter %s not declared", method, path, m[1])
				}
			}
			public := op.Security != nil && len(*op.Security) == 0
			if _, ok := op.Responses["404"]; !ok && !public {
				t.Errorf("%s %s: no 404 (the API off)", method, path)
			}
			if !public {
				for _, code := range []string{"400", "401", "429"} {
					if _, ok := op.Responses[code]; !ok {
						t.Errorf("%s %s: no %s response", method, path, code)
					}
				}
			}
			if (method == http.MethodPost || method == http.MethodPatch) != (op.RequestBody != nil) {
				t.Errorf("%s %s: request body %s", method, path, op.RequestBody)
			}
			concrete := strings.ReplaceAll(path, "{id}", "x")
			r := e.callKey(t, "", method, "/api/v1"+concrete, nil)
			if public != (r.status != http.StatusUnauthorized) {
				t.Errorf("%s %s: public %v, but without a key it answers %d", method, path, public, r.status)
			}
		}
	}
	r := e.callKey(t, "", http.MethodGet, "/api/v1/openapi.json", nil)
	if r.status != 200 || !bytes.Equal(r.body, api.OpenAPIFor(e.srv.URL, []string{"recall"})) {
		t.Fatalf("served description: %d", r.status)
	}
}

// resolve follows a $ref to a parameter.
func resolve(doc map[string]any, v any) map[string]any {
	m := v.(map[string]any)
	r, ok := m["$ref"].(string)
	if !ok {
		return m
	}
	var at any = doc
	for _, part := range strings.Split(strings.TrimPrefix(r, "#/"), "/") {
		at = at.(map[string]any)[part]
	}
	return at.(map[string]any)
}

// Every schema of a request body refuses unknown properties, as the API
// does, and every error response uses the Error schema.
func TestOpenAPISchemasStrict(t *testing.T) {
	doc, _ := openAPIDoc(t)
	comp := doc["components"].(map[string]any)
	for name, s := range comp["schemas"].(map[string]any) {
		m := s.(map[string]any)
		if m["type"] == "object" && m["properties"] != nil && m["additionalProperties"] != false && name != "Metadata" {
			t.Errorf("schema %s allows unknown properties", name)
		}
	}
	var names []string
	for name, r := range comp["responses"].(map[string]any) {
		names = append(names, name)
		ref := r.(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)["$ref"]
		if ref != "#/components/schemas/Error" {
			t.Errorf("response %s: schema %v", name, ref)
		}
	}
	if !slices.Contains(names, "TooManyRequests") {
		t.Fatal("no TooManyRequests response")
	}
}

// NotFound and MethodNotAllowed answer the API's way, for a web engine
// that hands them its unknown /api/v1 requests.
func TestUnknownRoutes(t *testing.T) {
	e := newEnv(t)
	e.engine.HandleMethodNotAllowed = true
	e.engine.NoRoute(api.NotFound)
	e.engine.NoMethod(api.MethodNotAllowed)
	e.call(t, http.MethodGet, "/api/v1/nope", nil).wantError(t, 404, "not_found", "")
	r := e.call(t, http.MethodPut, "/api/v1/connections", nil)
	r.wantError(t, 405, "method_not_allowed", "")
	if allow := r.header.Get("Allow"); allow != "POST, GET" {
		t.Errorf("Allow %q, want the path's methods", allow)
	}
	r = e.call(t, http.MethodPost, "/api/v1/bots/bot_1", nil)
	r.wantError(t, 405, "method_not_allowed", "")
	if allow := r.header.Get("Allow"); allow != "GET, DELETE" {
		t.Errorf("Allow %q, want the path's methods", allow)
	}
}

// The description reads right to code generators. Every object schema
// that lists no properties says that it takes any (additionalProperties):
// a generator reads an object schema without either as an object with no
// fields at all (openapi-typescript makes it Record<string, never>, which
// no metadata or platform option can be assigned to). No schema puts
// anyOf beside its properties: openapi-typescript makes that a union
// with unknown, which is unknown (the body untyped); allOf: [{anyOf}]
// says the same and keeps the type.
func TestOpenAPIForGenerators(t *testing.T) {
	doc, _ := openAPIDoc(t)
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if isObjectType(v["type"]) && v["properties"] == nil && v["additionalProperties"] == nil && v["patternProperties"] == nil &&
				v["$ref"] == nil && v["allOf"] == nil && v["oneOf"] == nil && v["anyOf"] == nil {
				t.Errorf("%s: an object schema with neither properties nor additionalProperties", at)
			}
			if v["properties"] != nil && v["anyOf"] != nil {
				t.Errorf("%s: anyOf beside properties (wrap it: allOf: [{anyOf: …}])", at)
			}
			for k, w := range v {
				walk(at+"/"+k, w)
			}
		case []any:
			for i, w := range v {
				walk(at+"/"+strconv.Itoa(i), w)
			}
		}
	}
	walk("#", doc)
}

// isObjectType reports whether a schema's type is or includes "object".
func isObjectType(t any) bool {
	switch t := t.(type) {
	case string:
		return t == "object"
	case []any:
		return slices.Contains(t, any("object"))
	}
	return false
}

// routeSpan is a code span of docs/api.md's route table that names a
// method and a path ("GET /api/v1/bots/{id}"); a span of a method alone
// ("GET") shares the path of the next one.
var routeSpan = regexp.MustCompile("`([A-Z]+)(?: (/[^`]*))?`")

// Every method and path of the description is in docs/api.md's table of
// all routes, the one place a reader sees them together.
func TestDocsListEveryRoute(t *testing.T) {
	md, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(md), "\n## All routes\n")
	if !ok {
		t.Fatal("docs/api.md has no All routes section")
	}
	listed := map[string]bool{}
	for _, row := range strings.Split(table, "\n") {
		var methods []string
		for _, m := range routeSpan.FindAllStringSubmatch(row, -1) {
			methods = append(methods, m[1])
			if m[2] == "" {
				continue
			}
			for _, method := range methods {
				listed[method+" "+m[2]] = true
			}
			methods = nil
		}
	}
	_, ops := openAPIDoc(t)
	for path, byMethod := range ops {
		for method := range byMethod {
			if !listed[method+" /api/v1"+path] {
				t.Errorf("docs/api.md's All routes lacks %s /api/v1%s", method, path)
			}
		}
	}
}
