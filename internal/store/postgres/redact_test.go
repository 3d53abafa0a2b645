package postgres

import (
	"strings"
	"testing"
)

// TestRedactURL: a password is found by parsing the URL or the DSN, and
// only it is replaced.
func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:err@db:5432/onbehalf":                 "postgres://u:xxxxx@db:5432/onbehalf",
		"postgres://u@db/onbehalf?sslmode=disable":          "postgres://u@db/onbehalf?sslmode=disable",
		"postgres://u@db/onbehalf?password=err&sslmode=off": "postgres://u@db/onbehalf?password=xxxxx&sslmode=off",
		"postgresql://u:p%40ss@db/x":                        "postgresql://u:xxxxx@db/x",
		"host=db user=u password=err dbname=errdb":          "host=db user=u password=xxxxx dbname=errdb",
		"host=db password = 'e r\\'r' dbname=x":             "host=db password = xxxxx dbname=x",
		"host=db dbname=x":                                  "host=db dbname=x",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRedactMessage: a message quoting the URL shows it redacted; every
// other word is untouched, even one that contains the password.
func TestRedactMessage(t *testing.T) {
	dsn := "postgres://u:err@db/x"
	got := redact(`dial error: cannot parse "postgres://u:err@db/x"`, dsn)
	if want := `dial error: cannot parse "postgres://u:xxxxx@db/x"`; got != want {
		t.Errorf("redact = %q, want %q", got, want)
	}
}

// TestOpenUnreachableKeepsMessage: with PostgreSQL unreachable and the
// password "err", the start-up error still reads "error" (it once read
// "*****or"), and a distinctive password never shows.
func TestOpenUnreachableKeepsMessage(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	for _, pw := range []string{"err", "Sup3rSecretPw"} {
		for _, dsn := range []string{
			"postgres://onbehalf:" + pw + "@127.0.0.1:1/onbehalf?connect_timeout=5",
			"host=127.0.0.1 port=1 user=onbehalf password=" + pw + " dbname=onbehalf connect_timeout=5",
		} {
			_, err := Open(t.Context(), dsn, Options{Logger: quiet, Keys: [][]byte{key}})
			if err == nil {
				t.Fatalf("Open(%q) succeeded", RedactURL(dsn))
			}
			msg := err.Error()
			if strings.Contains(msg, "*****") || !strings.Contains(msg, "error") {
				t.Errorf("password %q: message mangled: %s", pw, msg)
			}
			if pw != "err" && strings.Contains(msg, pw) {
				t.Errorf("password %q shows: %s", pw, msg)
			}
		}
	}
}
