package test

import (
	"os"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// composeFile is the repository's compose.yaml.
const composeFile = "../../../compose.yaml"

// composeService is the part of a compose service the test reads.
type composeService struct {
	Image       string                    `json:"image"`
	Environment map[string]string         `json:"environment"`
	Secrets     []string                  `json:"secrets"`
	DependsOn   map[string]map[string]any `json:"depends_on"`
	Healthcheck *struct {
		Test []string `json:"test"`
	} `json:"healthcheck"`
	Volumes         []string `json:"volumes"`
	ReadOnly        bool     `json:"read_only"`
	CapDrop         []string `json:"cap_drop"`
	StopGracePeriod string   `json:"stop_grace_period"`
	SecurityOpt     []string `json:"security_opt"`
	Ports           []string `json:"ports"`
	Profiles        []string `json:"profiles"`
}

// TestCompose checks compose.yaml's wiring: onbehalf starts once
// PostgreSQL is healthy, reads every secret from a compose secret file as
// NAME_FILE, runs read-only with no capability, and PostgreSQL keeps its
// data in a named volume.
func TestCompose(t *testing.T) {
	b, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]map[string]any `json:"services"`
		Secrets  map[string]struct {
			File string `json:"file"`
		} `json:"secrets"`
		Volumes map[string]any `json:"volumes"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	service := func(name string) composeService {
		raw, ok := c.Services[name]
		if !ok {
			t.Fatalf("no service %s", name)
		}
		// depends_on may be a list; this file uses the long form.
		if d, ok := raw["depends_on"].([]any); ok {
			m := map[string]any{}
			for _, s := range d {
				m[s.(string)] = map[string]any{}
			}
			raw["depends_on"] = m
		}
		j, _ := yaml.Marshal(raw)
		var s composeService
		if err := yaml.Unmarshal(j, &s); err != nil {
			t.Fatalf("service %s: %v", name, err)
		}
		return s
	}

	pg := service("postgres")
	if pg.Image != "docker.io/library/postgres:17" {
		t.Errorf("postgres image %q, want postgres:17", pg.Image)
	}
	if pg.Healthcheck == nil || !strings.Contains(strings.Join(pg.Healthcheck.Test, " "), "pg_isready") {
		t.Errorf("postgres healthcheck %+v, want pg_isready", pg.Healthcheck)
	}
	if len(pg.Volumes) == 0 || !strings.HasPrefix(pg.Volumes[0], "postgres:") {
		t.Errorf("postgres volumes %v, want the named volume postgres", pg.Volumes)
	}
	if _, ok := c.Volumes["postgres"]; !ok {
		t.Error("the volume postgres is not declared")
	}

	ob := service("onbehalf")
	if got := ob.DependsOn["postgres"]["condition"]; got != "service_healthy" {
		t.Errorf("onbehalf depends on postgres with condition %v, want service_healthy", got)
	}
	for _, name := range []string{"DATABASE_URL", "TOKEN_ENCRYPTION_KEY", "ZOOM_CLIENT_SECRET"} {
		if _, ok := ob.Environment[name]; ok {
			t.Errorf("%s is in the environment; it must come from a secret file (%s_FILE)", name, name)
		}
		if _, ok := ob.Environment[name+"_FILE"]; !ok {
			t.Errorf("no %s_FILE", name)
		}
	}
	for k, v := range ob.Environment {
		if !strings.HasSuffix(k, "_FILE") {
			continue
		}
		secret, ok := strings.CutPrefix(v, "/run/secrets/")
		if !ok {
			t.Errorf("%s=%s is not a compose secret", k, v)
			continue
		}
		listed := false
		for _, s := range ob.Secrets {
			listed = listed || s == secret
		}
		if !listed {
			t.Errorf("%s reads secret %s, which the service does not list", k, secret)
		}
		if c.Secrets[secret].File == "" {
			t.Errorf("secret %s has no file", secret)
		}
	}
	if !ob.ReadOnly || len(ob.CapDrop) != 1 || ob.CapDrop[0] != "ALL" {
		t.Errorf("onbehalf read_only=%v cap_drop=%v, want read-only with ALL dropped", ob.ReadOnly, ob.CapDrop)
	}
	grace, err := time.ParseDuration(ob.StopGracePeriod)
	if err != nil || grace <= 25*time.Second {
		t.Errorf("stop_grace_period %q, want more than SHUTDOWN_DRAIN + 20 s", ob.StopGracePeriod)
	}
	for _, p := range ob.Ports {
		if !strings.HasPrefix(p, "127.0.0.1:") {
			t.Errorf("onbehalf publishes %s on every interface; Caddy (profile tls) is the public side", p)
		}
	}
	if caddy := service("caddy"); len(caddy.Profiles) == 0 {
		t.Error("caddy runs without its profile")
	}
}
