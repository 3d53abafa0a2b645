package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// The parsers of the table. Each is bound to the field it fills and
// returns what is wrong with a value, without the variable's name (Load
// adds it) and without repeating a secret.

// positive is the smallest duration a "positive duration" may be.
const positive = time.Nanosecond

// text stores the value as it is.
func text(p *string) func(string) error {
	return func(v string) error { *p = v; return nil }
}

// secret stores a secret of at least min characters.
func secret(p *string, min int) func(string) error {
	return func(v string) error {
		*p = v
		if len(v) < min {
			return fmt.Errorf("must be at least %d characters (or unset it to have one generated)", min)
		}
		return nil
	}
}

// boolean reads true or false (also 1, 0, t, f).
func boolean(p *bool) func(string) error {
	return func(v string) error {
		b, err := strconv.ParseBool(v)
		*p = b
		if err != nil {
			return errors.New("must be true or false")
		}
		return nil
	}
}

// integer reads a whole number in [lo, hi].
func integer(p *int, lo, hi int) func(string) error {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		*p = n
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("must be a whole number from %d to %d", lo, hi)
		}
		return nil
	}
}

// rate is integer stored as a float64 (a rate per second).
func rate(p *float64, lo, hi int) func(string) error {
	var n int
	parse := integer(&n, lo, hi)
	return func(v string) error {
		err := parse(v)
		*p = float64(n)
		return err
	}
}

// duration reads a Go duration in [lo, hi]; hi 0 means no upper bound,
// lo positive means 0 is refused.
func duration(p *time.Duration, lo, hi time.Duration) func(string) error {
	var want string
	switch {
	case lo == positive && hi == 0:
		want = "a positive duration such as 10s"
	case lo == 0 && hi == 0:
		want = "a duration such as 5s, or 0"
	case lo == 0:
		want = fmt.Sprintf("a duration from 0 (off) to %s, such as 30s", Duration(hi))
	default:
		want = fmt.Sprintf("a duration from %s to %s", Duration(lo), Duration(hi))
	}
	return func(v string) error {
		d, err := time.ParseDuration(v)
		*p = d
		if err != nil || d < lo || hi > 0 && d > hi {
			return errors.New("must be " + want)
		}
		return nil
	}
}

// because adds why a bound exists to a parser's error.
func because(parse func(string) error, why string) func(string) error {
	return func(v string) error {
		if err := parse(v); err != nil {
			return fmt.Errorf("%w: %s", err, why)
		}
		return nil
	}
}

// oneOf reads one of the given words, in any case.
func oneOf(p *string, words ...string) func(string) error {
	return func(v string) error {
		*p = strings.ToLower(v)
		if !slices.Contains(words, *p) {
			return fmt.Errorf("must be %s or %s", strings.Join(words[:len(words)-1], ", "), words[len(words)-1])
		}
		return nil
	}
}

// parseHTTPURL parses an absolute http(s) URL.
func parseHTTPURL(v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("must be an absolute http(s) URL")
	}
	return u, nil
}

// httpURL reads an absolute http(s) URL, without its trailing slashes
// when trim is set.
func httpURL(p *string, trim bool) func(string) error {
	return func(v string) error {
		if _, err := parseHTTPURL(v); err != nil {
			return err
		}
		if trim {
			v = strings.TrimRight(v, "/")
		}
		*p = v
		return nil
	}
}

// origin reads a public URL with no path or query, without its trailing
// slash.
func origin(p *string) func(string) error {
	return func(v string) error {
		u, err := parseHTTPURL(v)
		if err != nil {
			return err
		}
		if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
			return errors.New("must be scheme://host[:port] with no path or query (e.g. https://abc.ngrok-free.app)")
		}
		*p = strings.TrimRight(v, "/")
		return nil
	}
}

// tracesBase reads a collector's base URL into the traces endpoint, unless
// the full endpoint was given as well (parsed after it, it wins).
func tracesBase(p *string) func(string) error {
	return func(v string) error {
		if _, err := parseHTTPURL(v); err != nil {
			return err
		}
		*p = strings.TrimRight(v, "/") + "/v1/traces"
		return nil
	}
}

// hostPort reads a listen address: host:port, the port from 0 to 65535.
func hostPort(p *string) func(string) error {
	return func(v string) error {
		*p = v
		_, port, err := net.SplitHostPort(v)
		if err != nil {
			return errors.New("must be host:port, e.g. 127.0.0.1:8080 or :8080")
		}
		if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			return errors.New("the port must be a number from 0 to 65535")
		}
		return nil
	}
}

// postgresURL reads a PostgreSQL URL.
func postgresURL(p *string) func(string) error {
	return func(v string) error {
		if !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
			return errors.New("must start with postgres:// (unset it to use the bbolt file at DB_PATH)")
		}
		*p = v
		return nil
	}
}

// list reads a comma-separated list, blanks dropped. item, when not nil,
// checks and normalizes the i-th item (from 1); its errors name the item
// (never a secret's).
func list(p *[]string, item func(v string, i int) (string, error)) func(string) error {
	return func(v string) error {
		var errs []error
		for i, s := range splitList(v) {
			if item != nil {
				var err error
				if s, err = item(s, i+1); err != nil {
					errs = append(errs, err)
					continue
				}
			}
			*p = append(*p, s)
		}
		return errors.Join(errs...)
	}
}

// splitList splits a comma-separated value, dropping blanks.
func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ipOrCIDR is a TRUSTED_PROXIES item.
func ipOrCIDR(v string, _ int) (string, error) {
	if _, _, err := net.ParseCIDR(v); err != nil && net.ParseIP(v) == nil {
		return "", fmt.Errorf("%q is neither an IP nor a CIDR", v)
	}
	return v, nil
}

// emailDomain is an ALLOWED_EMAIL_DOMAINS item, lower-cased, without @.
func emailDomain(v string, _ int) (string, error) {
	d := strings.ToLower(strings.TrimPrefix(v, "@"))
	if strings.ContainsAny(d, "@/ ") || !strings.Contains(d, ".") {
		return "", fmt.Errorf("%q is not an email domain (like example.com)", d)
	}
	return d, nil
}

// apiKey is an API_KEYS item.
func apiKey(v string, i int) (string, error) {
	if len(v) < 24 {
		return "", fmt.Errorf("key %d is shorter than 24 characters (make one with `onbehalf apikey create --name NAME`, or openssl rand -base64 32)", i)
	}
	return v, nil
}

// returnOrigin is an API_RETURN_ORIGINS item, as scheme://host.
func returnOrigin(v string, _ int) (string, error) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return "", fmt.Errorf("%q is not an origin (scheme://host[:port])", v)
	}
	return u.Scheme + "://" + u.Host, nil
}

// secretURLKinds reads ALLOW_SECRET_URLS.
func secretURLKinds(p *[]onbehalf.TokenKind) func(string) error {
	return func(v string) error {
		switch strings.ToLower(v) {
		case "true", "1", "obf":
			*p = []onbehalf.TokenKind{onbehalf.KindOBF}
		case "zak":
			*p = []onbehalf.TokenKind{onbehalf.KindOBF, onbehalf.KindZAK}
		case "false", "0":
			*p = nil
		default:
			return errors.New("must be true (OBF only), zak (OBF and ZAK) or false")
		}
		return nil
	}
}

// webhookSecret reads a whsec_ secret with the one parser that signing
// uses too.
func webhookSecret(p *string) func(string) error {
	return func(v string) error {
		*p = v
		if _, err := onbehalf.ParseWebhookSecret(v); err != nil {
			return fmt.Errorf("%w (make one with `onbehalf webhook-secret`)", err)
		}
		return nil
	}
}

// clientSecrets reads ZOOM_CLIENT_SECRET: one secret, or two separated by
// a comma (the new one first) during Zoom's secret rotation.
func clientSecrets(c *Config) func(string) error {
	return func(v string) error {
		c.ZoomClientSecret = v
		var out []string
		for _, p := range strings.Split(v, ",") {
			out = append(out, strings.TrimSpace(p))
		}
		c.ZoomClientSecrets = out
		switch {
		case len(out) > 2:
			return fmt.Errorf("holds %d comma-separated secrets; give one, or two (the new one first) while Zoom's secret rotation is under way", len(out))
		case slices.Contains(out, ""):
			return errors.New("an empty secret around a comma; give one secret, or two separated by a comma (the new one first)")
		case len(out) == 2 && out[0] == out[1]:
			return errors.New("the same secret twice; after the rotation keep only the new one")
		}
		return nil
	}
}

// tokenKeys reads TOKEN_ENCRYPTION_KEY.
func tokenKeys(p *[][]byte) func(string) error {
	return func(v string) error {
		keys, errs := parseKeys(v)
		*p = keys
		return errors.Join(errs...)
	}
}

// otlpHeaders reads OTEL_EXPORTER_OTLP_HEADERS.
func otlpHeaders(p *map[string]string) func(string) error {
	return func(v string) error {
		h, err := parseOTLPHeaders(v)
		*p = h
		return err
	}
}

// Duration writes d as people write it in the environment: 24h, 15m,
// 10s (not 24h0m0s).
func Duration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

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
