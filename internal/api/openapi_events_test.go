package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/api"
	"github.com/onbehalf/onbehalf/internal/events"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// docJSON is the part of the description these tests read.
type docJSON struct {
	Info struct {
		Description string         `json:"description"`
		Contact     map[string]any `json:"contact"`
		License     map[string]any `json:"license"`
	} `json:"info"`
	Servers []struct {
		URL string `json:"url"`
	} `json:"servers"`
	Tags []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"tags"`
	Paths    map[string]map[string]json.RawMessage `json:"paths"`
	Webhooks map[string]map[string]opJSON          `json:"webhooks"`
	Comps    struct {
		Schemas map[string]struct {
			Properties map[string]any `json:"properties"`
			AllOf      []struct {
				Ref        string `json:"$ref"`
				Properties map[string]struct {
					Const string `json:"const"`
					Ref   string `json:"$ref"`
				} `json:"properties"`
			} `json:"allOf"`
		} `json:"schemas"`
	} `json:"components"`
}

// opJSON is an operation, as far as the linters' rules go.
type opJSON struct {
	OperationID string   `json:"operationId"`
	Summary     string   `json:"summary"`
	Description string   `json:"description"`
	Tags        []string `json:"tags"`
	RequestBody struct {
		Content map[string]struct {
			Schema struct {
				Ref string `json:"$ref"`
			} `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
}

func readDoc(t *testing.T, b []byte) docJSON {
	t.Helper()
	var d docJSON
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// The rules Redocly's and Spectral's recommended sets check, so that CI
// keeps them without the linters: contact, license, a description for
// every tag and operation, every operation's tags declared, unique
// operation IDs.
func TestOpenAPILintRules(t *testing.T) {
	d := readDoc(t, api.OpenAPI())
	if d.Info.Description == "" || d.Info.Contact["url"] == nil || d.Info.License["identifier"] == nil {
		t.Errorf("info needs a description, a contact URL and a license identifier: %+v", d.Info)
	}
	tags := map[string]bool{}
	for _, tg := range d.Tags {
		if tg.Description == "" {
			t.Errorf("tag %s has no description", tg.Name)
		}
		tags[tg.Name] = true
	}
	paths := map[string]map[string]opJSON{}
	for name, item := range d.Paths {
		paths[name] = map[string]opJSON{}
		for method, raw := range item {
			if method == "parameters" {
				continue
			}
			var op opJSON
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatal(err)
			}
			paths[name][method] = op
		}
	}
	ids := map[string]string{}
	for kind, group := range map[string]map[string]map[string]opJSON{"path": paths, "webhook": d.Webhooks} {
		for name, item := range group {
			for method, op := range item {
				where := kind + " " + strings.ToUpper(method) + " " + name
				if op.OperationID == "" || op.Description == "" || op.Summary == "" || len(op.Tags) == 0 {
					t.Errorf("%s: needs operationId, summary, description and tags", where)
				}
				for _, tg := range op.Tags {
					if !tags[tg] {
						t.Errorf("%s: tag %s is not declared", where, tg)
					}
				}
				if other, dup := ids[op.OperationID]; dup {
					t.Errorf("%s and %s share operationId %s", where, other, op.OperationID)
				}
				ids[op.OperationID] = where
			}
		}
	}
}

// Every event type has a webhook whose body is the envelope with that
// type, and the schemas of the envelope and of the data have exactly the
// fields of what the server sends.
func TestOpenAPIWebhooksCoverEvents(t *testing.T) {
	d := readDoc(t, api.OpenAPI())
	for _, typ := range onbehalf.EventTypes {
		ref := d.Webhooks[typ]["post"].RequestBody.Content["application/json"].Schema.Ref
		name, ok := strings.CutPrefix(ref, "#/components/schemas/")
		s, found := d.Comps.Schemas[name]
		if !ok || !found || len(s.AllOf) != 2 || s.AllOf[0].Ref != "#/components/schemas/EventEnvelope" ||
			s.AllOf[1].Properties["type"].Const != typ {
			t.Errorf("event %s: no webhook with the envelope of its type (%q)", typ, ref)
			continue
		}
		want := "#/components/schemas/BotEventData"
		switch {
		case typ == onbehalf.EventConnectionAtRisk:
			want = "#/components/schemas/AtRiskEventData"
		case strings.HasPrefix(typ, "connection."):
			want = "#/components/schemas/ConnectionEventData"
		}
		if got := s.AllOf[1].Properties["data"].Ref; got != want {
			t.Errorf("event %s: data %s, want %s", typ, got, want)
		}
	}
	if len(d.Webhooks) != len(onbehalf.EventTypes) {
		t.Errorf("%d webhooks for %d event types", len(d.Webhooks), len(onbehalf.EventTypes))
	}
	body, err := events.Body(onbehalf.NewEvent(onbehalf.EventBotCreated, time.Now(), onbehalf.BotEventData{ConnectionID: "c"}))
	if err != nil {
		t.Fatal(err)
	}
	var envelope map[string]any
	json.Unmarshal(body, &envelope)
	for name, fields := range map[string][]string{
		"EventEnvelope":       slices.Sorted(mapKeys(envelope)),
		"ConnectionEventData": jsonNames(reflect.TypeFor[onbehalf.ConnectionEventData]()),
		"BotEventData":        jsonNames(reflect.TypeFor[onbehalf.BotEventData]()),
		"AtRiskEventData":     jsonNames(reflect.TypeFor[onbehalf.AtRiskEventData]()),
	} {
		if got := slices.Sorted(mapKeys(d.Comps.Schemas[name].Properties)); !slices.Equal(got, fields) {
			t.Errorf("schema %s has %v, the server sends %v", name, got, fields)
		}
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// jsonNames lists the JSON names of a struct's fields, sorted.
func jsonNames(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// The description served names this server's absolute URL (BASE_URL);
// the embedded one stays relative.
func TestOpenAPIServedServer(t *testing.T) {
	e := newEnv(t)
	r := e.callKey(t, "", http.MethodGet, "/api/v1/openapi.json", nil)
	if d := readDoc(t, r.body); len(d.Servers) != 1 || d.Servers[0].URL != e.srv.URL+"/api/v1" {
		t.Fatalf("served servers %+v, want %s/api/v1", d.Servers, e.srv.URL)
	}
	if d := readDoc(t, api.OpenAPI()); len(d.Servers) != 1 || d.Servers[0].URL != "/api/v1" {
		t.Fatalf("embedded servers %+v", d.Servers)
	}
	if got := api.OpenAPIFor("https://x.example/", nil); !strings.Contains(string(got), `"url": "https://x.example/api/v1"`) {
		t.Fatal("OpenAPIFor does not make the server absolute")
	}
}

// timeLike finds RFC 3339 times among a reply's strings; msTime is the one
// form the API writes them in.
var (
	timeLike = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d`)
	msTime   = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
)

// checkTimes fails the test when a time in a JSON reply is not in
// onbehalf.TimeLayout (UTC, milliseconds).
func checkTimes(t testing.TB, where string, v any) {
	t.Helper()
	switch v := v.(type) {
	case string:
		if timeLike.MatchString(v) && !msTime.MatchString(v) {
			t.Errorf("%s: time %q is not RFC 3339 UTC with milliseconds", where, v)
		}
	case []any:
		for _, x := range v {
			checkTimes(t, where, x)
		}
	case map[string]any:
		for _, x := range v {
			checkTimes(t, where, x)
		}
	}
}

// The document has no key twice in one object: encoding/json and
// kin-openapi keep the last silently, while Redocly and Spectral refuse
// the document (a merge of two branches that added the same field makes
// such a document).
func TestOpenAPINoDuplicateKeys(t *testing.T) {
	dec := json.NewDecoder(bytes.NewReader(api.OpenAPI()))
	type frame struct {
		object bool
		keys   map[string]bool
		key    bool // the next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, &frame{object: true, keys: map[string]bool{}, key: true})
				continue
			case '[':
				stack = append(stack, &frame{})
				continue
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if top != nil && top.object && top.key {
				if top.keys[v] {
					t.Errorf("key %q twice in one object (near byte %d)", v, dec.InputOffset())
				}
				top.keys[v] = true
				top.key = false
				continue
			}
		}
		// A value ended: the next string of an object is a key again.
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].key = true
		}
	}
}
