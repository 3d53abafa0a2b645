package api_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/onbehalf/onbehalf/internal/api"
)

// The reference page needs no key, answers while the API is off, is
// rendered from openapi.json (every operation and schema is on it) and
// loads nothing from elsewhere: its policy allows its one inline style.
func TestReferencePage(t *testing.T) {
	e := newEnv(t, func(o *api.Options) { o.Keys = nil })
	resp, err := http.Get(e.srv.URL + "/api/v1/reference")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	page := string(body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "style-src 'sha256-") {
		t.Fatalf("policy %q", csp)
	}
	for _, bad := range []string{"<script", "http://", "https://", "<link"} {
		if strings.Contains(page, bad) {
			t.Errorf("page holds %q", bad)
		}
	}
	doc, err := loadDoc()
	if err != nil {
		t.Fatal(err)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for _, want := range []string{`id="` + op.OperationID + `"`, "/api/v1" + path, op.Summary} {
				if !strings.Contains(page, strings.ReplaceAll(want, "'", "&#39;")) {
					t.Errorf("%s %s: page lacks %q", method, path, want)
				}
			}
			for _, p := range item.Parameters {
				if !strings.Contains(page, "<code>"+p.Value.Name+"</code>") {
					t.Errorf("%s %s: page lacks parameter %s", method, path, p.Value.Name)
				}
			}
		}
	}
	for typ, item := range doc.Webhooks {
		if !strings.Contains(page, `id="`+item.Post.OperationID+`"`) || !strings.Contains(page, `<span class="tag">`+typ+`</span>`) {
			t.Errorf("webhook %s: not on the page", typ)
		}
	}
	if len(doc.Webhooks) == 0 {
		t.Error("no webhooks in the description")
	}
	for name, s := range doc.Components.Schemas {
		if !strings.Contains(page, `id="schema-`+name+`"`) {
			t.Errorf("page lacks schema %s", name)
		}
		for prop := range s.Value.Properties {
			if !strings.Contains(page, "<code>"+prop+"</code>") {
				t.Errorf("schema %s: page lacks field %s", name, prop)
			}
		}
	}
	e.callKey(t, "", http.MethodGet, "/api/v1/reference?x=1", nil).wantError(t, 400, "invalid", "x")
}

// recorder is a testing.TB that notes the failures conforms reports.
type recorder struct {
	testing.TB
	failed []string
}

func (r *recorder) Errorf(format string, args ...any) { r.failed = append(r.failed, format) }
func (r *recorder) Helper()                           {}

// conforms catches a reply that disagrees with the description: an
// undocumented status, a missing required field, an unknown field.
func TestConformsCatchesDrift(t *testing.T) {
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://127.0.0.1/api/v1/connections/abc", nil)
	json := http.Header{"Content-Type": {"application/json"}}
	for name, r := range map[string]reply{
		"undocumented status": {status: 418, header: json, body: []byte(`{"error":{"code":"x","message":"y"}}`)},
		"missing field":       {status: 200, header: json, body: []byte(`{"id":"abc"}`)},
		"bad error":           {status: 404, header: json, body: []byte(`{"message":"gone"}`)},
	} {
		rec := &recorder{TB: t}
		conforms(rec, req, r)
		if len(rec.failed) == 0 {
			t.Errorf("%s: not caught", name)
		}
	}
	rec := &recorder{TB: t}
	conforms(rec, req, reply{status: 404, header: json, body: []byte(`{"error":{"code":"not_found","message":"No such connection.","field":"id"}}`)})
	if len(rec.failed) != 0 {
		t.Fatalf("a documented reply was refused: %v", rec.failed)
	}
}
