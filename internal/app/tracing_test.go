package app_test

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/onbehalf/onbehalf/internal/app"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// TestTraces: with tracing on, a token request is one server span named
// after its route, with the call to Zoom as its child; launching a bot
// has the call to the platform as a child. No span holds the token, the
// URL's signature, a plain URL's auth_token, an API key, or a Zoom token
// or secret.
func TestTraces(t *testing.T) {
	f := newFakes(t)
	const plainSecret = "plain-url-secret-0123456789"
	f.env["OBF_CALLBACK_SECRET"] = plainSecret
	mem := tracetest.NewInMemoryExporter()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Start(ctx, app.Options{Getenv: f.getenv, LogOut: io.Discard, SpanExporter: mem})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	defer func() { cancel(); a.Wait() }()
	base := a.BaseURL()
	tokenURL := walk(t, base, f)
	// The signed URL's request is refused by Zoom (the access token was
	// revoked), refreshes, and mints again.
	f.zoom.InvalidateAccess(zoomdemo.DefaultUserID)
	tok := fetch(t, base, tokenURL, f)
	u, _ := url.Parse(tokenURL)
	plain := url.Values{"user_id": {u.Query().Get("user_id")}, "meeting_id": {u.Query().Get("meeting_id")}, "auth_token": {plainSecret}}
	tok2 := fetch(t, base, base+"/obf-callback?"+plain.Encode(), f)

	spans := waitSpans(t, mem, func(s tracetest.SpanStubs) bool {
		return len(serverSpans(s, "GET /obf-callback")) == 1 && len(serverSpans(s, "GET /recall/obf-callback")) == 1
	})
	for route, wantChildren := range map[string]int{"GET /recall/obf-callback": 3, "GET /obf-callback": 1, "POST /launch": 1} {
		srv := serverSpans(spans, route)
		if len(srv) != 1 {
			t.Errorf("%d server span(s) %q", len(srv), route)
			continue
		}
		var children []string
		for _, sp := range spans {
			if sp.SpanKind == trace.SpanKindClient && sp.Parent.SpanID() == srv[0].SpanContext.SpanID() {
				children = append(children, sp.Name+" "+attrOf(sp, "url.full"))
			}
		}
		if len(children) != wantChildren {
			t.Errorf("%s has %d client span(s) as children, want %d (mint refused, refresh, mint; mint; create bot): %q", route, len(children), wantChildren, children)
		}
	}
	secrets := []string{tok, tok2, u.Query().Get("sig"), "sig=", "auth_token", plainSecret, f.env["RECALL_API_KEY"] + "\"", "Token " + f.env["RECALL_API_KEY"],
		f.zoom.CurrentAccessToken(zoomdemo.DefaultUserID), f.zoom.CurrentRefreshToken(zoomdemo.DefaultUserID), f.env["ZOOM_CLIENT_SECRET"]}
	for _, sp := range spans {
		texts := []string{sp.Name, sp.Status.Description}
		kvs := append([]attribute.KeyValue{}, sp.Attributes...)
		for _, ev := range sp.Events {
			kvs = append(kvs, ev.Attributes...)
		}
		for _, kv := range kvs {
			texts = append(texts, string(kv.Key)+"="+kv.Value.Emit())
		}
		for _, s := range secrets {
			for _, text := range texts {
				if s != "" && strings.Contains(text, s) {
					t.Errorf("span %q carries a secret (%.12s…): %.200s", sp.Name, s, text)
				}
			}
		}
	}
}

// serverSpans returns the server spans named name.
func serverSpans(spans tracetest.SpanStubs, name string) tracetest.SpanStubs {
	var out tracetest.SpanStubs
	for _, sp := range spans {
		if sp.SpanKind == trace.SpanKindServer && sp.Name == name {
			out = append(out, sp)
		}
	}
	return out
}

// waitSpans waits until the exported spans satisfy done (a server span
// ends just after its answer was sent).
func waitSpans(t *testing.T, mem *tracetest.InMemoryExporter, done func(tracetest.SpanStubs) bool) tracetest.SpanStubs {
	t.Helper()
	var spans tracetest.SpanStubs
	eventually(t, 10*time.Second, "the spans are exported", func() bool {
		spans = mem.GetSpans()
		return done(spans)
	})
	return spans
}

// TestNoTracingWrapsNothing: with tracing off the server's handler is
// the router itself: the token path pays nothing for tracing.
func TestNoTracingWrapsNothing(t *testing.T) {
	f := newFakes(t)
	a, _ := startApp(t, f, io.Discard)
	if name := fmt.Sprintf("%T", a.Handler()); name != "*gin.Engine" {
		t.Fatalf("handler with tracing off is %s, want the router itself", name)
	}
}

// attrOf returns a span's attribute as text.
func attrOf(sp tracetest.SpanStub, key string) string {
	for _, kv := range sp.Attributes {
		if string(kv.Key) == key {
			return kv.Value.Emit()
		}
	}
	return ""
}
