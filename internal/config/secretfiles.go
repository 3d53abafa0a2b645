package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
)

// SecretVars lists the table's secret variables (Var.Secret). Each also
// reads from a file: NAME_FILE=/path (a Docker or Kubernetes secret, a
// systemd credential) gives NAME the file's content, its one trailing
// newline removed. Setting both is an error, and so is a file that cannot
// be read or is empty. The platforms' secret variables read files the
// same way when the caller passes their names to LoadDotEnv and Load
// (the app passes every platform's, from its Spec): this package knows
// no platform.
var SecretVars = secretNames(Vars())

// secretNames returns the names of the secret variables of vars.
func secretNames(vars []Var) []string {
	var out []string
	for _, v := range vars {
		if v.Secret {
			out = append(out, v.Name)
		}
	}
	return out
}

// FileSuffix turns a secret variable's name into the name of the variable
// holding the path of a file with its value.
const FileSuffix = "_FILE"

// maxSecretFile bounds what is read of a secret file: secrets are short,
// and a path to something endless (/dev/zero) must not hang the start.
const maxSecretFile = 64 << 10

// withSecretFiles returns getenv with every secret variable (SecretVars
// and extra) also read from NAME_FILE, and the problems found. Variables read from a file hide their
// NAME_FILE, so wrapping twice changes nothing: LoadDotEnv wraps (so that
// platforms reading their own variables get the files' values) and Load
// wraps again to report the problems with all the others.
func withSecretFiles(getenv Getenv, extra []string) (Getenv, []error) {
	var problems []error
	fromFile := map[string]string{}
	for _, name := range slices.Concat(SecretVars, extra) {
		path := strings.TrimSpace(getenv(name + FileSuffix))
		if path == "" {
			continue
		}
		if strings.TrimSpace(getenv(name)) != "" {
			problems = append(problems, fmt.Errorf("%s and %s%s are both set: set one of them", name, name, FileSuffix))
			continue
		}
		v, err := readSecretFile(path)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s%s=%q: %w", name, FileSuffix, path, err))
			continue
		}
		fromFile[name] = v
	}
	if len(fromFile) == 0 {
		return getenv, problems
	}
	return func(k string) string {
		if v, ok := fromFile[k]; ok {
			return v
		}
		if name, ok := strings.CutSuffix(k, FileSuffix); ok {
			if _, ok := fromFile[name]; ok {
				return ""
			}
		}
		return getenv(k)
	}, problems
}

// readSecretFile returns a secret file's content without its one trailing
// newline. Its errors say what is wrong, never the content.
func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return "", errors.New("no such file")
		case errors.Is(err, fs.ErrPermission):
			return "", errors.New("this process may not read it (permission denied)")
		}
		return "", fmt.Errorf("cannot be read: %w", errors.Unwrap(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	switch {
	case err != nil:
		return "", fmt.Errorf("cannot be read: %w", errors.Unwrap(err))
	case len(b) > maxSecretFile:
		return "", fmt.Errorf("is larger than %d KiB: not a secret", maxSecretFile>>10)
	}
	v := string(b)
	if s, ok := strings.CutSuffix(v, "\n"); ok {
		v = strings.TrimSuffix(s, "\r")
	}
	if strings.TrimSpace(v) == "" {
		return "", errors.New("is empty")
	}
	return v, nil
}
