// Package tracing turns on OpenTelemetry traces when the standard OTLP
// variables ask for them (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT): one server span per request, named
// after its route, with the calls to Zoom and to the bot platforms as
// child client spans, exported over OTLP/HTTP.
//
// No token or secret ever leaves in a span: token URLs carry sig= and
// auth_token= in their query, and connect links an ID in their path. Every
// span passes through a scrubbing exporter (scrub.go) before it is sent:
// queries are cut from URLs, a server span's path is replaced by its route
// template, and no header is kept.
//
// When tracing is off, New returns nil and every method of a nil *Tracing
// hands back what it was given: nothing is wrapped, the token path pays
// nothing.
package tracing

import (
	"context"
	"errors"
	"net/http"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Options configure tracing.
type Options struct {
	// Endpoint is the full URL spans are posted to (…/v1/traces); empty
	// turns tracing off unless Exporter is set.
	Endpoint string
	// Headers go with every export (a collector's credentials).
	Headers map[string]string
	// ServiceName, Version and Commit describe this service in every span.
	ServiceName, Version, Commit string
	// Exporter replaces the OTLP exporter (tests: an in-memory one). It
	// is scrubbed like the OTLP one, and spans are sent to it as soon as
	// they end.
	Exporter sdktrace.SpanExporter
}

// Tracing is the tracer provider and what wraps the HTTP server and
// clients. A nil *Tracing is tracing turned off.
type Tracing struct {
	tp   *sdktrace.TracerProvider
	prop propagation.TextMapPropagator
}

// New starts tracing, or returns nil when o asks for none.
func New(ctx context.Context, o Options) (*Tracing, error) {
	exp := o.Exporter
	batch := exp == nil
	if exp == nil {
		if o.Endpoint == "" {
			return nil, nil
		}
		opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(o.Endpoint)}
		if len(o.Headers) > 0 {
			opts = append(opts, otlptracehttp.WithHeaders(o.Headers))
		}
		var err error
		if exp, err = otlptracehttp.New(ctx, opts...); err != nil {
			return nil, err
		}
	}
	attrs := []attribute.KeyValue{
		attribute.String("service.name", o.ServiceName),
		attribute.String("service.version", o.Version),
	}
	if o.Commit != "" {
		attrs = append(attrs, attribute.String("vcs.ref.head.revision", o.Commit))
	}
	// OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME of the process
	// environment are merged in, and win.
	res, err := resource.Merge(resource.NewSchemaless(attrs...), resource.Environment())
	if err != nil {
		res = resource.NewSchemaless(attrs...)
	}
	var sp sdktrace.SpanProcessor
	if batch {
		sp = sdktrace.NewBatchSpanProcessor(scrubbing{exp})
	} else {
		sp = sdktrace.NewSimpleSpanProcessor(scrubbing{exp})
	}
	// The sampler is the SDK's default unless OTEL_TRACES_SAMPLER says
	// otherwise (the SDK reads it).
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sp), sdktrace.WithResource(res))
	return &Tracing{tp: tp, prop: propagation.TraceContext{}}, nil
}

// Handler wraps the server's handler: one server span per request. Spans
// of requests from outside are new traces linked to the caller's, never
// its children: anyone on the internet may send a traceparent.
func (t *Tracing) Handler(h http.Handler) http.Handler {
	if t == nil {
		return h
	}
	return otelhttp.NewHandler(h, "onbehalf",
		otelhttp.WithTracerProvider(t.tp),
		otelhttp.WithPropagators(t.prop),
		otelhttp.WithPublicEndpointFn(func(*http.Request) bool { return true }),
		// The route is known only once routed: NameSpan renames it.
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method }),
	)
}

// Transport wraps an outgoing transport (nil: http.DefaultTransport): one
// client span per call, a child of the request's span.
func (t *Tracing) Transport(rt http.RoundTripper) http.RoundTripper {
	if t == nil {
		return rt
	}
	if rt == nil {
		rt = http.DefaultTransport
	}
	return otelhttp.NewTransport(rt,
		otelhttp.WithTracerProvider(t.tp),
		otelhttp.WithPropagators(t.prop),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + r.URL.Host }),
	)
}

// NameSpan names the request's server span after its route template
// ("GET /recall/obf-callback"), never its path, and records the route.
// route is empty for a request no route matched.
func NameSpan(ctx context.Context, method, route string) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	if route == "" {
		span.SetName(method + " (no route)")
		return
	}
	span.SetName(method + " " + route)
	span.SetAttributes(attribute.String(attrRoute, route))
}

// Shutdown sends the spans not yet sent (within ctx) and stops.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := t.tp.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return errors.New("traces: the collector did not take the last spans in time")
	}
	return err
}
