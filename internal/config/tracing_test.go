package config

import (
	"strings"
	"testing"
	"time"
)

// TestTracingVariables: tracing is off by default; the traces endpoint
// wins over the base endpoint, which gets /v1/traces; headers are decoded
// and a bad pair is reported without its value.
func TestTracingVariables(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil || c.TracesEndpoint != "" || c.ServiceName != "onbehalf" || c.ShutdownDrain != 5*time.Second {
		t.Fatalf("defaults: %v %q %q %s", err, c.TracesEndpoint, c.ServiceName, c.ShutdownDrain)
	}
	c, err = Load(env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/", "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20abc, x-team = obf", "SHUTDOWN_DRAIN": "0"}))
	if err != nil || c.TracesEndpoint != "http://collector:4318/v1/traces" || c.OTLPHeaders["authorization"] != "Bearer abc" || c.OTLPHeaders["x-team"] != "obf" || c.ShutdownDrain != 0 {
		t.Fatalf("%v %q %v %s", err, c.TracesEndpoint, c.OTLPHeaders, c.ShutdownDrain)
	}
	c, err = Load(env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://b/custom/path", "OTEL_SERVICE_NAME": "obf-eu"}))
	if err != nil || c.TracesEndpoint != "https://b/custom/path" || c.ServiceName != "obf-eu" {
		t.Fatalf("%v %q %q", err, c.TracesEndpoint, c.ServiceName)
	}
	_, err = Load(env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318", "OTEL_EXPORTER_OTLP_HEADERS": "authorization-secret-value", "SHUTDOWN_DRAIN": "-1s"}))
	if err == nil || !strings.Contains(err.Error(), "3 problem") || strings.Contains(err.Error(), "authorization-secret-value") {
		t.Fatalf("got %v", err)
	}
}
