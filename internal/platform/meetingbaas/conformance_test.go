package meetingbaas_test

import (
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/meetingbaas"
	"github.com/onbehalf/onbehalf/internal/platform/meetingbaas/meetingbaasdemo"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
	"github.com/onbehalf/onbehalf/internal/platform/platformtest"
)

const testKey = "mb_test_key_0123456789abcdef"

// newFake starts a fake with the test key and o's other options.
func newFake(t *testing.T, o meetingbaasdemo.Options) *meetingbaasdemo.Fake {
	t.Helper()
	o.APIKey = testKey
	f, err := meetingbaasdemo.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

// newAdapter returns an adapter configured against base with the test key.
func newAdapter(t *testing.T, c meetingbaas.Config) *meetingbaas.Adapter {
	t.Helper()
	return newAdapterWith(t, c, platform.Deps{})
}

// newAdapterWith is newAdapter with deps (a clock of its own).
func newAdapterWith(t *testing.T, c meetingbaas.Config, deps platform.Deps) *meetingbaas.Adapter {
	t.Helper()
	if c.APIKey == "" {
		c.APIKey = testKey
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	a, err := meetingbaas.New(c, deps)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// harness runs the suite with bots asking for kinds, fetching as bots
// naming themselves with param.
func harness(kinds []onbehalf.TokenKind, param string) platformtest.Harness {
	return platformtest.Harness{
		New: func(t *testing.T, secured bool) (onbehalf.Platform, platformdemo.Fake) {
			f := newFake(t, meetingbaasdemo.Options{BotIDParam: param})
			return newAdapter(t, meetingbaas.Config{BaseURL: f.URL()}), f
		},
		Kinds: kinds,
		Refused: [][]onbehalf.TokenKind{
			nil,
			{onbehalf.KindJoin},
			{onbehalf.KindOBF, onbehalf.KindJoin},
			{onbehalf.KindOBF, onbehalf.KindOBF},
		},
		// Meeting BaaS bots name no meeting and carry no credential of
		// their own.
		Claims:  false,
		Secured: false,
		APIKey:  testKey,
	}
}

func TestConformance(t *testing.T) {
	obf := []onbehalf.TokenKind{onbehalf.KindOBF}
	zak := []onbehalf.TokenKind{onbehalf.KindZAK}
	both := []onbehalf.TokenKind{onbehalf.KindOBF, onbehalf.KindZAK}
	t.Run("obf", func(t *testing.T) { platformtest.Run(t, harness(obf, meetingbaasdemo.ParamBotID)) })
	t.Run("obf_bot_uuid", func(t *testing.T) { platformtest.Run(t, harness(obf, meetingbaasdemo.ParamBotUUID)) })
	t.Run("zak", func(t *testing.T) { platformtest.Run(t, harness(zak, meetingbaasdemo.ParamBotID)) })
	t.Run("obf_and_zak", func(t *testing.T) { platformtest.Run(t, harness(both, meetingbaasdemo.ParamBotUUID)) })
}
