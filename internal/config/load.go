package config

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/joho/godotenv"
)

// Getenv looks up an environment variable; os.Getenv fits.
type Getenv func(string) string

// LoadDotEnv returns a Getenv that reads the real environment first and then
// the .env file at path, if it exists, and reads every secret variable
// from NAME_FILE when that is set (SecretVars, and platformSecrets: the
// secret variables of the platforms' blocks, which the returned Getenv
// serves them). A missing file is not an error.
func LoadDotEnv(path string, getenv Getenv, platformSecrets ...string) (Getenv, error) {
	vals, err := godotenv.Read(path)
	if errors.Is(err, os.ErrNotExist) {
		vals = nil
	} else if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	both := func(k string) string { return cmp.Or(getenv(k), vals[k]) }
	// Problems of NAME_FILE are Load's to report, with all the others.
	withFiles, _ := withSecretFiles(both, platformSecrets)
	return withFiles, nil
}

// Load parses the configuration, every variable of the table. The
// returned error lists every problem, one per line, so that nothing
// later in the start (the store, the listener, the webhook signer) finds
// one the table let through. platformSecrets are those given to
// LoadDotEnv: the problems of their NAME_FILE are reported here too.
func Load(getenv Getenv, platformSecrets ...string) (Config, error) {
	getenv, errs := withSecretFiles(getenv, platformSecrets)
	var c Config
	for _, v := range table(&c) {
		val := cmp.Or(strings.TrimSpace(getenv(v.Name)), v.Default)
		if val == "" {
			continue
		}
		if err := v.parse(val); err != nil {
			for _, e := range Problems(err) {
				errs = append(errs, v.problem(val, e))
			}
		}
	}
	c.ListenAddr = cmp.Or(c.ListenAddr, ":"+strconv.Itoa(c.Port))
	errs = append(errs, together(c)...)
	if len(errs) > 0 {
		return c, &Error{Problems: errs}
	}
	return c, nil
}

// problem names the variable in err; the value too, unless it is a secret
// or a list (whose errors name the item).
func (v Var) problem(val string, err error) error {
	if v.Secret || v.List {
		return fmt.Errorf("%s: %w", v.Name, err)
	}
	return fmt.Errorf("%s=%q: %w", v.Name, val, err)
}

// together checks the variables that are only right together.
func together(c Config) []error {
	var errs []error
	if (c.ZoomClientID == "") != (c.ZoomClientSecret == "") {
		errs = append(errs, errors.New("ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET: set both or neither (Zoom Marketplace → your General app → App Credentials)"))
	}
	if n := countSet(c.ZoomAccountID, c.ZoomS2SClientID, c.ZoomS2SClientSecret); n != 0 && n != 3 {
		errs = append(errs, errors.New("ZOOM_ACCOUNT_ID, ZOOM_S2S_CLIENT_ID and ZOOM_S2S_CLIENT_SECRET: set all three or none (Zoom Marketplace → your Server-to-Server OAuth app → App Credentials)"))
	}
	if c.DatabaseURL != "" && len(c.TokenEncryptionKeys) == 0 {
		errs = append(errs, ErrNoTokenKey)
	}
	return errs
}

// countSet counts the non-empty values.
func countSet(vs ...string) int {
	n := 0
	for _, v := range vs {
		if v != "" {
			n++
		}
	}
	return n
}

// Problems splits err into the problems it reports: an *Error's, the
// parts of an errors.Join (a platform block's), or err itself; none for
// nil. Whoever gathers problems from several sources (the app, doctor)
// uses it, so that they are listed one per line.
func Problems(err error) []error {
	if ce, ok := errors.AsType[*Error](err); ok {
		return ce.Problems
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}
