package config

import (
	"fmt"
	"net/url"
	"strings"
)

// DefaultServiceName names this service in traces unless OTEL_SERVICE_NAME
// says otherwise. The OpenTelemetry variables are read by Load (the
// table), not only by the SDK from the process environment, so that a
// .env file and NAME_FILE work for them as for every other variable.
const DefaultServiceName = "onbehalf"

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
			return nil, fmt.Errorf("pair %d is not key=value (percent-encode commas and equals signs in values)", i+1)
		}
		h[k] = dec
	}
	return h, nil
}
