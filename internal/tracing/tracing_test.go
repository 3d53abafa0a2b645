package tracing

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// TestOffWrapsNothing: without an endpoint New returns nil, and a nil
// Tracing hands back the very handler and transport it was given.
func TestOffWrapsNothing(t *testing.T) {
	tr, err := New(context.Background(), Options{ServiceName: "onbehalf"})
	if err != nil || tr != nil {
		t.Fatalf("New with no endpoint: %v, %v", tr, err)
	}
	h := http.NewServeMux()
	if got := tr.Handler(h); got != http.Handler(h) {
		t.Fatal("Handler wrapped with tracing off")
	}
	rt := &http.Transport{}
	if got := tr.Transport(rt); got != http.RoundTripper(rt) {
		t.Fatal("Transport wrapped with tracing off")
	}
	if tr.Transport(nil) != nil {
		t.Fatal("Transport(nil) is not nil with tracing off")
	}
	NameSpan(context.Background(), "GET", "/x") // no span: nothing happens
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestSpansCarryNoSecret: a request whose path and query hold secrets
// calls out with a query, and the outgoing call fails once: the exported
// server span is named after the route, its child client span keeps the
// host and path but no query, and no secret is in any name, attribute,
// event or status.
func TestSpansCarryNoSecret(t *testing.T) {
	const secret = "s3cr3t-value"
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer upstream.Close()
	mem := tracetest.NewInMemoryExporter()
	tr, err := New(context.Background(), Options{ServiceName: "onbehalf", Version: "v1", Exporter: mem})
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: tr.Transport(nil)}
	h := tr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		NameSpan(r.Context(), r.Method, "/connect/:link")
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, upstream.URL+"/v2/users/me/token?auth_token="+secret, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
		req, _ = http.NewRequestWithContext(r.Context(), http.MethodGet, "http://127.0.0.1:1/down?sig="+secret, nil)
		if _, err := client.Do(req); err == nil || !strings.Contains(err.Error(), secret) {
			t.Errorf("the failing call's error should quote its URL (what the scrubber must remove): %v", err)
		}
		io.WriteString(w, "done")
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/connect/" + secret + "?sig=" + secret + "&auth_token=" + secret)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// The server span ends once the answer is sent: wait for it.
	for deadline := time.Now().Add(10 * time.Second); len(mem.GetSpans()) < 3 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	spans := mem.GetSpans()
	var server *tracetest.SpanStub
	for i := range spans {
		if spans[i].SpanKind == trace.SpanKindServer {
			server = &spans[i]
		}
	}
	if len(spans) != 3 || server == nil || server.Name != "GET /connect/:link" {
		t.Fatalf("want a server span GET /connect/:link and 2 client spans, got %d: %v", len(spans), names(spans))
	}
	if got := attr(server.Attributes, attrURLPath); got != "/connect/:link" {
		t.Errorf("server url.path %q, want the route", got)
	}
	for _, sp := range spans {
		if sp.SpanKind == trace.SpanKindClient {
			if sp.Parent.SpanID() != server.SpanContext.SpanID() || sp.SpanContext.TraceID() != server.SpanContext.TraceID() {
				t.Errorf("client span %q is not a child of the server span", sp.Name)
			}
		}
	}
	if got := attr(spans[0].Attributes, attrURLFull); got != upstream.URL+"/v2/users/me/token" {
		t.Errorf("client url.full %q, want it without its query", got)
	}
	assertNoSecret(t, spans, secret, "sig=", "auth_token")
}

// assertNoSecret fails if any of the strings is in a span's name,
// attributes, events, status or resource.
func assertNoSecret(t *testing.T, spans tracetest.SpanStubs, secrets ...string) {
	t.Helper()
	for _, sp := range spans {
		texts := []string{sp.Name, sp.Status.Description}
		kvs := append(append([]attribute.KeyValue{}, sp.Attributes...), sp.Resource.Attributes()...)
		for _, ev := range sp.Events {
			texts = append(texts, ev.Name)
			kvs = append(kvs, ev.Attributes...)
		}
		for _, kv := range kvs {
			texts = append(texts, kv.Value.Emit())
		}
		for _, s := range secrets {
			for _, text := range texts {
				if s != "" && strings.Contains(text, s) {
					t.Errorf("span %q carries %q: %q", sp.Name, s, text)
				}
			}
		}
	}
}

func attr(kvs []attribute.KeyValue, key string) string {
	for _, kv := range kvs {
		if string(kv.Key) == key {
			return kv.Value.AsString()
		}
	}
	return ""
}

func names(spans tracetest.SpanStubs) []string {
	var n []string
	for _, sp := range spans {
		n = append(n, sp.SpanKind.String()+" "+sp.Name)
	}
	return n
}

// TestShutdownReportsNothingWhenIdle: with an OTLP endpoint and no span
// made, stopping waits for nothing.
func TestShutdownReportsNothingWhenIdle(t *testing.T) {
	tr, err := New(context.Background(), Options{ServiceName: "onbehalf", Endpoint: "http://127.0.0.1:1/v1/traces"})
	if err != nil || tr == nil {
		t.Fatalf("New: %v %v", tr, err)
	}
	// No span was made, so nothing waits for the (absent) collector.
	if err := tr.Shutdown(context.Background()); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
}
