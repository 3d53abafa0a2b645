package api

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"
)

// The API reference page (GET /api/v1/reference) is rendered on the
// server from the embedded openapi.json, so that the page a developer
// reads and the description their tools read are one document: no CDN,
// no script, works offline.

//go:embed reference.html
var referenceHTML string

// referenceTemplate renders the page.
var referenceTemplate = template.Must(template.New("reference").Parse(referenceHTML))

// referenceCSP allows the page's one inline <style>, by its hash, and
// nothing else (the web layer's policy only knows its own templates).
var referenceCSP = func() string {
	m := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(referenceHTML)
	if m == nil {
		return "default-src 'none'"
	}
	sum := sha256.Sum256([]byte(m[1]))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}()

// renderReference renders the page of doc, the description as the server
// serves it (its platform enums filled in).
func renderReference(doc []byte) ([]byte, error) {
	v, err := newRefView(doc)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := referenceTemplate.Execute(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// reference handles GET /reference (no key needed).
func (s *server) reference(c *gin.Context) error {
	if _, err := query(c); err != nil {
		return err
	}
	page, err := s.referencePage()
	if err != nil {
		return fmt.Errorf("rendering the API reference: %w", err)
	}
	c.Header("Content-Security-Policy", referenceCSP)
	c.Data(http.StatusOK, "text/html; charset=utf-8", page)
	return nil
}

// refView is what the page shows.
type refView struct {
	Title, Version, Description string
	Groups                      []refGroup
	// Webhooks are the requests this server sends to WEBHOOK_URL, one
	// per event type.
	Webhooks []refOp
	Schemas  []refSchema
}

// refGroup is the operations of one tag.
type refGroup struct {
	Tag string
	Ops []refOp
}

// refOp is one operation.
type refOp struct {
	ID, Method, Path, Summary, Description string
	// Public operations need no API key.
	Public bool
	// Webhook: a request this server sends (Path is the event type).
	Webhook   bool
	Params    []refField
	Body      *refType
	Responses []refResponse
}

// refResponse is one documented status.
type refResponse struct {
	Status, Description string
	Media               string
	Type                *refType
}

// refSchema is a component schema.
type refSchema struct {
	Name, Description string
	Type              refType
	Fields            []refField
}

// refField is a parameter or a property.
type refField struct {
	Name, In, Description string
	Required              bool
	Type                  refType
}

// refType is a schema's type for people: Prefix, then a link to the
// component Ref, or Text.
type refType struct {
	Prefix, Ref, Text string
}

// jsonObject is a JSON object of the document.
type jsonObject = map[string]any

// newRefView reads the document.
func newRefView(doc []byte) (*refView, error) {
	var d jsonObject
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, err
	}
	info, _ := d["info"].(jsonObject)
	v := &refView{Title: jsonStr(info["title"]), Version: jsonStr(info["version"]), Description: jsonStr(info["description"])}
	var tags []string
	for _, t := range jsonList(d["tags"]) {
		tags = append(tags, jsonStr(jsonObj(t)["name"]))
	}
	groups := map[string][]refOp{}
	paths := jsonObj(d["paths"])
	for _, path := range sortedKeys(paths) {
		item := jsonObj(paths[path])
		common := jsonList(item["parameters"])
		for _, method := range []string{"get", "post", "put", "patch", "delete"} {
			o, ok := item[method].(jsonObject)
			if !ok {
				continue
			}
			op := opOf(d, strings.ToUpper(method), path, o, common)
			tag := "other"
			if ts := jsonList(o["tags"]); len(ts) > 0 {
				tag = jsonStr(ts[0])
			}
			groups[tag] = append(groups[tag], op)
		}
	}
	hooks := jsonObj(d["webhooks"])
	for _, name := range sortedKeys(hooks) {
		if o, ok := jsonObj(hooks[name])["post"].(jsonObject); ok {
			op := opOf(d, "POST", name, o, nil)
			op.Webhook = true
			v.Webhooks = append(v.Webhooks, op)
		}
	}
	for _, t := range tags {
		if ops := groups[t]; len(ops) > 0 {
			v.Groups = append(v.Groups, refGroup{Tag: t, Ops: ops})
			delete(groups, t)
		}
	}
	for _, t := range sortedKeys(groups) {
		v.Groups = append(v.Groups, refGroup{Tag: t, Ops: groups[t]})
	}
	schemas := jsonObj(jsonObj(d["components"])["schemas"])
	for _, name := range sortedKeys(schemas) {
		s := jsonObj(schemas[name])
		rs := refSchema{Name: name, Description: jsonStr(s["description"]), Type: typeOf(s)}
		required := map[string]bool{}
		for _, r := range jsonList(s["required"]) {
			required[jsonStr(r)] = true
		}
		props := jsonObj(s["properties"])
		for _, part := range jsonList(s["allOf"]) {
			// An event: the envelope (the type says it) and the fields
			// this event narrows (its type, its data).
			if r := jsonObj(part); r["$ref"] != nil {
				rs.Type = typeOf(r)
			} else if props == nil {
				props = jsonObj(r["properties"])
			}
		}
		for _, p := range sortedKeys(props) {
			ps := jsonObj(props[p])
			rs.Fields = append(rs.Fields, refField{Name: p, Description: jsonStr(ps["description"]), Required: required[p], Type: typeOf(ps)})
		}
		v.Schemas = append(v.Schemas, rs)
	}
	return v, nil
}

// opOf reads one operation (of a path, or a webhook's request).
func opOf(d jsonObject, method, path string, o jsonObject, common []any) refOp {
	op := refOp{ID: jsonStr(o["operationId"]), Method: method, Path: path,
		Summary: jsonStr(o["summary"]), Description: jsonStr(o["description"])}
	if sec, ok := o["security"].([]any); ok && len(sec) == 0 {
		op.Public = true
	}
	for _, p := range append(append([]any(nil), common...), jsonList(o["parameters"])...) {
		p := resolveRef(d, jsonObj(p))
		op.Params = append(op.Params, refField{Name: jsonStr(p["name"]), In: jsonStr(p["in"]),
			Description: jsonStr(p["description"]), Required: p["required"] == true, Type: typeOf(jsonObj(p["schema"]))})
	}
	if rb := jsonObj(o["requestBody"]); rb != nil {
		t := typeOf(jsonObj(jsonObj(jsonObj(rb["content"])["application/json"])["schema"]))
		op.Body = &t
	}
	resps := jsonObj(o["responses"])
	for _, status := range sortedKeys(resps) {
		r := resolveRef(d, jsonObj(resps[status]))
		rr := refResponse{Status: status, Description: jsonStr(r["description"])}
		for media, m := range jsonObj(r["content"]) {
			t := typeOf(jsonObj(jsonObj(m)["schema"]))
			rr.Media, rr.Type = media, &t
		}
		op.Responses = append(op.Responses, rr)
	}
	return op
}

// typeOf describes a schema in a few words.
func typeOf(s jsonObject) refType {
	if s == nil {
		return refType{Text: "any"}
	}
	if r, ok := s["$ref"].(string); ok {
		return refType{Ref: r[strings.LastIndex(r, "/")+1:]}
	}
	if c, ok := s["const"]; ok {
		b, _ := json.Marshal(c)
		return refType{Text: string(b)}
	}
	if t := jsonStr(s["type"]); t == "array" {
		it := typeOf(jsonObj(s["items"]))
		it.Prefix = "array of " + it.Prefix
		return it
	}
	for _, k := range []string{"oneOf", "anyOf"} {
		if alts := jsonList(s[k]); len(alts) > 0 {
			var parts []string
			for _, a := range alts {
				t := typeOf(jsonObj(a))
				parts = append(parts, t.Prefix+t.Ref+t.Text)
			}
			return refType{Text: strings.Join(parts, " or ")}
		}
	}
	var types []string
	switch t := s["type"].(type) {
	case string:
		types = []string{t}
	case []any:
		for _, x := range t {
			types = append(types, jsonStr(x))
		}
	}
	text := strings.Join(types, " or ")
	if text == "" {
		text = "any"
	}
	if f := jsonStr(s["format"]); f != "" {
		text += " (" + f + ")"
	}
	if enum := jsonList(s["enum"]); len(enum) > 0 {
		var vals []string
		for _, e := range enum {
			b, _ := json.Marshal(e)
			vals = append(vals, string(b))
		}
		text += ": " + strings.Join(vals, ", ")
	}
	return refType{Text: text}
}

// resolveRef follows a local $ref ("#/components/...").
func resolveRef(d, v jsonObject) jsonObject {
	r, ok := v["$ref"].(string)
	if !ok {
		return v
	}
	at := d
	for _, part := range strings.Split(strings.TrimPrefix(r, "#/"), "/") {
		at = jsonObj(at[part])
	}
	return at
}

func jsonObj(v any) jsonObject { m, _ := v.(jsonObject); return m }
func jsonList(v any) []any     { l, _ := v.([]any); return l }
func jsonStr(v any) string     { s, _ := v.(string); return s }
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
