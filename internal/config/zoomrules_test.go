package config

import (
	"strings"
	"testing"
	"time"
)

func TestZoomRulesDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{"ZOOM_CLIENT_ID": "id", "ZOOM_CLIENT_SECRET": " only "}))
	if err != nil {
		t.Fatal(err)
	}
	if c.KeepAliveIdle != 24*time.Hour || c.ZoomFailureCooldown != 30*time.Second ||
		len(c.ZoomClientSecrets) != 1 || c.ZoomClientSecrets[0] != "only" {
		t.Fatalf("idle %s, cool-down %s, secrets %d", c.KeepAliveIdle, c.ZoomFailureCooldown, len(c.ZoomClientSecrets))
	}
	c, err = Load(env(map[string]string{"ZOOM_CLIENT_ID": "id", "ZOOM_CLIENT_SECRET": "new-secret, old-secret",
		"KEEPALIVE_IDLE": "72h", "ZOOM_FAILURE_COOLDOWN": "0"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.KeepAliveIdle != 72*time.Hour || c.ZoomFailureCooldown != 0 ||
		strings.Join(c.ZoomClientSecrets, "|") != "new-secret|old-secret" || !c.ZoomConfigured() {
		t.Fatalf("idle %s, cool-down %s, %d secrets", c.KeepAliveIdle, c.ZoomFailureCooldown, len(c.ZoomClientSecrets))
	}
}

func TestZoomRulesProblemsReportedAtOnce(t *testing.T) {
	_, err := Load(env(map[string]string{
		"ZOOM_CLIENT_ID":        "id",
		"ZOOM_CLIENT_SECRET":    "secret-a,secret-b,secret-c",
		"KEEPALIVE_IDLE":        "2160h",
		"ZOOM_FAILURE_COOLDOWN": "-1s",
	}))
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{"KEEPALIVE_IDLE", "90 days", "ZOOM_FAILURE_COOLDOWN", "ZOOM_CLIENT_SECRET", "3 comma-separated", "3 problem"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %s:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "secret-a") {
		t.Error("error echoes a secret")
	}
	for _, bad := range []map[string]string{
		{"ZOOM_CLIENT_ID": "id", "ZOOM_CLIENT_SECRET": "new,"},
		{"ZOOM_CLIENT_ID": "id", "ZOOM_CLIENT_SECRET": "same,same"},
		{"KEEPALIVE_IDLE": "1m"},
		{"ZOOM_FAILURE_COOLDOWN": "1h"},
	} {
		if _, err := Load(env(bad)); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
