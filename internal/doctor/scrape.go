package doctor

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// maxMetricsBytes bounds what doctor reads of a /metrics answer.
const maxMetricsBytes = 4 << 20

// sample is one line of Prometheus's text format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// samples are a scrape of a running server's /metrics.
type samples []sample

// sum adds the values of the series called name that keep selects by
// their labels (nil: all).
func (ss samples) sum(name string, keep func(labels map[string]string) bool) float64 {
	var total float64
	for _, s := range ss {
		if s.name == name && (keep == nil || keep(s.labels)) {
			total += s.value
		}
	}
	return total
}

// has reports whether a series called name was scraped.
func (ss samples) has(name string) bool {
	for _, s := range ss {
		if s.name == name {
			return true
		}
	}
	return false
}

// metricsURL is where the server this configuration runs serves /metrics,
// seen from this machine: METRICS_ADDR, else the main listener, on the
// loopback address when the address names no host.
func (d *doctor) metricsURL() string {
	addr := d.cfg.MetricsAddr
	if addr == "" {
		addr = d.cfg.ListenAddr
	}
	if addr == "" {
		addr = ":" + strconv.Itoa(d.cfg.Port)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr + "/metrics"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/metrics"
}

// scrapeMetrics reads a running server's /metrics.
func (d *doctor) scrapeMetrics(ctx context.Context, url string) (samples, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := d.o.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return parseSamples(io.LimitReader(resp.Body, maxMetricsBytes))
}

// parseSamples reads Prometheus's text format: comments are skipped, each
// other line is a name, optional labels and a value (a timestamp after it
// is ignored).
func parseSamples(r io.Reader) (samples, error) {
	var out samples
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		s, err := parseSample(line)
		if err != nil {
			return nil, fmt.Errorf("reading /metrics: %w", err)
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

// parseSample reads one sample line.
func parseSample(line string) (sample, error) {
	s := sample{labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i <= 0 {
		return s, fmt.Errorf("bad line %q", onbehalf.Clip(line, 60))
	}
	s.name, line = line[:i], line[i:]
	if line[0] == '{' {
		rest, err := parseLabels(line[1:], s.labels)
		if err != nil {
			return s, fmt.Errorf("%w in %q", err, onbehalf.Clip(s.name, 60))
		}
		line = rest
	}
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return s, fmt.Errorf("no value for %s", s.name)
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return s, fmt.Errorf("bad value for %s: %q", s.name, onbehalf.Clip(fields[0], 60))
	}
	s.value = v
	return s, nil
}

// parseLabels reads `k="v",…}` into labels and returns what follows.
func parseLabels(in string, labels map[string]string) (string, error) {
	for {
		in = strings.TrimLeft(in, " ,")
		if strings.HasPrefix(in, "}") {
			return in[1:], nil
		}
		eq := strings.Index(in, `="`)
		if eq <= 0 {
			return "", fmt.Errorf("bad labels")
		}
		key := in[:eq]
		in = in[eq+2:]
		var b strings.Builder
		for {
			if in == "" {
				return "", fmt.Errorf("unterminated label value")
			}
			c := in[0]
			in = in[1:]
			if c == '"' {
				break
			}
			if c == '\\' && in != "" {
				c = in[0]
				in = in[1:]
				if c == 'n' {
					c = '\n'
				}
			}
			b.WriteByte(c)
		}
		labels[key] = b.String()
	}
}
