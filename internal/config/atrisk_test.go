package config

import (
	"strings"
	"testing"
	"time"
)

func TestAtRiskWindow(t *testing.T) {
	c, err := Load(env(map[string]string{}))
	if err != nil || c.AtRiskWindow != 2*time.Hour {
		t.Fatalf("default: %s %v, want 2h", c.AtRiskWindow, err)
	}
	c, err = Load(env(map[string]string{"AT_RISK_WINDOW": "30m"}))
	if err != nil || c.AtRiskWindow != 30*time.Minute {
		t.Fatalf("30m: %s %v", c.AtRiskWindow, err)
	}
	for _, bad := range []string{"0", "10s", "2000h", "soon"} {
		_, err := Load(env(map[string]string{"AT_RISK_WINDOW": bad}))
		if err == nil || !strings.Contains(err.Error(), "AT_RISK_WINDOW") || strings.Count(err.Error(), "AT_RISK_WINDOW") > 1 {
			t.Errorf("AT_RISK_WINDOW=%s: %v, want one error naming it", bad, err)
		}
	}
}
