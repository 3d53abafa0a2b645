package config

import (
	"strings"
	"testing"
	"time"
)

// TestTableIsWhole: every variable has one entry, a group, a doc line,
// and either a default (which parses: Load of nothing succeeds) or what
// leaving it unset means, so that documents can be checked against it.
func TestTableIsWhole(t *testing.T) {
	seen := map[string]bool{}
	groups := map[string]bool{GroupZoom: true, GroupServer: true, GroupStorage: true, GroupKeep: true,
		GroupTokens: true, GroupPages: true, GroupAPI: true, GroupAccount: true}
	for _, v := range Vars() {
		if seen[v.Name] {
			t.Errorf("%s is in the table twice", v.Name)
		}
		seen[v.Name] = true
		if !groups[v.Group] || v.Doc == "" || v.parse == nil {
			t.Errorf("%s: group %q, doc %q, parser %v", v.Name, v.Group, v.Doc, v.parse != nil)
		}
		if (v.Default == "") == (v.Unset == "") {
			t.Errorf("%s: needs a default or an Unset text, not both: %q %q", v.Name, v.Default, v.Unset)
		}
	}
	if _, err := Load(env(nil)); err != nil {
		t.Fatalf("a default does not parse: %v", err)
	}
}

// TestProblemsOfTheWholeStartReportedAtOnce: problems that used to stop
// the start only after the port was bound and the store opened (a
// whsec_ secret too short for the signer) come with the others.
func TestProblemsOfTheWholeStartReportedAtOnce(t *testing.T) {
	_, err := Load(env(map[string]string{
		"PORT":                  "abc",
		"WEBHOOK_SECRET":        "whsec_c2hvcnQ=", // base64 of 5 bytes
		"ZOOM_FAILURE_COOLDOWN": "forever",
	}))
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{`PORT="abc"`, "WEBHOOK_SECRET: must be whsec_", "ZOOM_FAILURE_COOLDOWN=", "3 problem"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %s:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "c2hvcnQ") {
		t.Error("error echoes a secret")
	}
}

// TestSecretsNeverEchoed: a bad secret or list item is named, never
// printed whole.
func TestSecretsNeverEchoed(t *testing.T) {
	vals := map[string]string{}
	for _, v := range Vars() {
		if v.Secret {
			vals[v.Name] = "x-secret-value-x,,"
		}
	}
	_, err := Load(env(vals))
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), "x-secret-value-x") {
		t.Errorf("a secret is echoed:\n%v", err)
	}
}

func TestDuration(t *testing.T) {
	for in, want := range map[string]string{"24h0m0s": "24h", "15m0s": "15m", "1h30m0s": "1h30m", "10s": "10s", "168h0m0s": "168h"} {
		d, _ := time.ParseDuration(in)
		if got := Duration(d); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

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
