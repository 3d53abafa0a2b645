package config

import (
	"fmt"
	"net/url"
	"strings"
)

// DefaultServiceName names this service in traces unless OTEL_SERVICE_NAME
// says otherwise.
const DefaultServiceName = "onbehalf"

// loadTracing reads the standard OpenTelemetry variables that turn
// tracing on and say where spans go. They are read here, not only by the
// SDK from the process environment, so that a .env file and NAME_FILE
// work for them as for every other variable.
//
//	OTEL_EXPORTER_OTLP_TRACES_ENDPOINT  the full URL spans are posted to, as is
//	OTEL_EXPORTER_OTLP_ENDPOINT         the collector's base URL: spans go to its /v1/traces
//	OTEL_EXPORTER_OTLP_HEADERS          key=value,… sent with them (authentication: secret)
//	OTEL_SERVICE_NAME                   default "onbehalf"
func loadTracing(c *Config, errs *[]error, get func(k, def string) string) {
	c.ServiceName = get("OTEL_SERVICE_NAME", DefaultServiceName)
	if v := get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", ""); v != "" {
		if _, err := parseHTTPURL("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", v); err != nil {
			*errs = append(*errs, err)
		}
		c.TracesEndpoint = v
	} else if v := get("OTEL_EXPORTER_OTLP_ENDPOINT", ""); v != "" {
		if _, err := parseHTTPURL("OTEL_EXPORTER_OTLP_ENDPOINT", v); err != nil {
			*errs = append(*errs, err)
		}
		c.TracesEndpoint = strings.TrimRight(v, "/") + "/v1/traces"
	}
	if v := get("OTEL_EXPORTER_OTLP_HEADERS", ""); v != "" {
		h, err := parseOTLPHeaders(v)
		if err != nil {
			*errs = append(*errs, err)
		}
		c.OTLPHeaders = h
	}
}

// parseOTLPHeaders reads the W3C-baggage-like list the OpenTelemetry
// specification defines: key=value pairs, comma-separated, values
// percent-encoded. Errors never echo a value (they are credentials).
func parseOTLPHeaders(v string) (map[string]string, error) {
	h := map[string]string{}
	for i, pair := range strings.Split(v, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, val, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		dec, err := url.PathUnescape(strings.TrimSpace(val))
		if !ok || k == "" || err != nil {
			return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_HEADERS: pair %d is not key=value (percent-encode commas and equals signs in values)", i+1)
		}
		h[k] = dec
	}
	return h, nil
}
