package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/onbehalf/onbehalf/internal/api"
)

// The embedded description is a valid OpenAPI 3.1 document for
// kin-openapi, which loads and validates 3.1 (JSON Schema 2020-12
// schemas, type arrays) since v0.13x.
func TestOpenAPIValidatesWithKin(t *testing.T) {
	doc, err := loadDoc()
	if err != nil {
		t.Fatal(err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("kin-openapi reads version %q as not 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
}

// loadDoc loads the embedded description with kin-openapi.
func loadDoc() (*openapi3.T, error) {
	return openapi3.NewLoader().LoadFromData(api.OpenAPI())
}

// docRouter finds the documented operation of a request. The document's
// server is relative ("/api/v1"); the router is given the test server's
// absolute form of it.
var docRouter = sync.OnceValues(func() (routers.Router, error) {
	doc, err := loadDoc()
	if err != nil {
		return nil, err
	}
	doc.Servers = openapi3.Servers{{URL: "http://api.test/api/v1"}}
	return legacy.NewRouter(doc)
})

// conforms fails the test when a reply of a documented route disagrees
// with the description: a status it does not list, or a body that does
// not match the schema of that status. Every API test's call goes
// through it (callKey), so the document cannot drift from the code.
// Requests to undocumented paths or methods (tests of the API's 404 and
// 405) and event streams are not checked.
func conforms(t testing.TB, req *http.Request, r reply) {
	t.Helper()
	router, err := docRouter()
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	probe := req.Clone(context.Background())
	probe.URL.Scheme, probe.URL.Host, probe.Host = "http", "api.test", "api.test"
	route, params, err := router.FindRoute(probe)
	var re *routers.RouteError
	if errors.As(err, &re) && (re.Reason == routers.ErrPathNotFound.Error() || re.Reason == routers.ErrMethodNotAllowed.Error()) {
		return
	}
	if err != nil {
		t.Fatalf("%s %s: finding the documented route: %v", req.Method, req.URL.Path, err)
	}
	ct := r.header.Get("Content-Type")
	if strings.HasPrefix(ct, "text/event-stream") {
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route},
		Status:                 r.status,
		Header:                 r.header,
		Body:                   io.NopCloser(bytes.NewReader(r.body)),
		// The status is always checked; the body when it is JSON (the
		// reference page is HTML, which kin-openapi does not decode).
		Options: &openapi3filter.Options{IncludeResponseStatus: true, ExcludeRequestBody: true,
			ExcludeResponseBody: !strings.HasPrefix(ct, "application/json")},
	}
	if strings.HasPrefix(ct, "application/json") {
		var v any
		if json.Unmarshal(r.body, &v) == nil {
			checkTimes(t, req.Method+" "+req.URL.Path, v)
		}
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s: reply %d disagrees with openapi.json: %v\nbody: %.600s", req.Method, req.URL.Path, r.status, err, r.body)
	}
}
