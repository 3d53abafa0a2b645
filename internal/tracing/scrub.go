package tracing

import (
	"context"
	"net/url"
	"regexp"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// Attribute keys the scrubber knows (OpenTelemetry semantic conventions).
const (
	attrRoute   = "http.route"
	attrURLFull = "url.full"
	attrURLPath = "url.path"
	attrQuery   = "url.query"
)

// scrubbing is an exporter that removes from every span what may carry a
// secret before passing it on:
//
//   - url.full (client spans) loses its query, fragment and user info:
//     Zoom's and the platforms' URLs are kept, their parameters are not;
//   - url.query goes;
//   - url.path of a server span becomes its route template (http.route),
//     or goes when no route matched: a connect link's path holds its ID;
//   - request and response headers go (Authorization, cookies);
//   - a span name is cut at its first "?", and any URL query quoted in an
//     error (events, status) is removed.
type scrubbing struct{ next sdktrace.SpanExporter }

// ExportSpans implements sdktrace.SpanExporter.
func (s scrubbing) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	out := make([]sdktrace.ReadOnlySpan, len(spans))
	for i, sp := range spans {
		out[i] = scrub(sp)
	}
	return s.next.ExportSpans(ctx, out)
}

// Shutdown implements sdktrace.SpanExporter.
func (s scrubbing) Shutdown(ctx context.Context) error { return s.next.Shutdown(ctx) }

// scrub returns the span without what may carry a secret.
func scrub(sp sdktrace.ReadOnlySpan) sdktrace.ReadOnlySpan {
	stub := tracetest.SpanStubFromReadOnlySpan(sp)
	route := ""
	for _, kv := range stub.Attributes {
		if kv.Key == attrRoute {
			route = kv.Value.AsString()
		}
	}
	attrs := stub.Attributes[:0:0]
	for _, kv := range stub.Attributes {
		k := string(kv.Key)
		switch {
		case k == attrQuery, strings.HasPrefix(k, "http.request.header."), strings.HasPrefix(k, "http.response.header."):
			continue
		case k == attrURLFull:
			kv = attribute.String(attrURLFull, withoutQuery(kv.Value.AsString()))
		case k == attrURLPath && stub.SpanKind == trace.SpanKindServer:
			if route == "" {
				continue
			}
			kv = attribute.String(attrURLPath, route)
		}
		attrs = append(attrs, kv)
	}
	stub.Attributes = attrs
	stub.Name, _, _ = strings.Cut(stub.Name, "?")
	// An error recorded by the HTTP client quotes the URL it called, query
	// included (*url.Error), in an event and in the status.
	stub.Status.Description = scrubText(stub.Status.Description)
	for i, ev := range stub.Events {
		evAttrs := make([]attribute.KeyValue, len(ev.Attributes))
		for j, kv := range ev.Attributes {
			if kv.Value.Type() == attribute.STRING {
				kv = attribute.String(string(kv.Key), scrubText(kv.Value.AsString()))
			}
			evAttrs[j] = kv
		}
		stub.Events[i].Attributes = evAttrs
	}
	return stub.Snapshot()
}

// queryInText matches a URL's query quoted in a message: from "?" to the
// next space or quote.
var queryInText = regexp.MustCompile(`\?[^\s"'<>]*`)

// scrubText removes every URL query from a message.
func scrubText(s string) string {
	if !strings.Contains(s, "?") {
		return s
	}
	return queryInText.ReplaceAllString(s, "")
}

// withoutQuery returns u without its query, fragment and user info; what
// cannot be parsed is dropped whole.
func withoutQuery(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	p.RawQuery, p.ForceQuery, p.Fragment, p.RawFragment, p.User = "", false, "", "", nil
	return p.String()
}
