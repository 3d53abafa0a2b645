package app_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/onbehalf/onbehalf/internal/app"
)

// TestEnvExampleDocumentsEveryVariable: every variable the configuration
// reads (core and every platform's block) has a commented line in
// .env.example, and nothing there is unknown.
func TestEnvExampleDocumentsEveryVariable(t *testing.T) {
	example, err := os.ReadFile("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("../config/config.go")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, m := range regexp.MustCompile(`get\("([A-Z0-9_]+)"`).FindAllSubmatch(src, -1) {
		want[string(m[1])] = true
	}
	for _, s := range app.Platforms {
		for _, v := range s.Vars {
			want[v.Name] = true
		}
	}
	if len(want) < 40 {
		t.Fatalf("found only %d variables: the scan is broken", len(want))
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^# ([A-Z][A-Z0-9_]+)=`).FindAllSubmatch(example, -1) {
		documented[string(m[1])] = true
	}
	for v := range want {
		if !documented[v] {
			t.Errorf(".env.example lacks %s", v)
		}
	}
	for v := range documented {
		if !want[v] {
			t.Errorf(".env.example documents %s, which nothing reads", v)
		}
	}
}
