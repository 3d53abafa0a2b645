package postgres

import (
	"net/url"
	"strings"
)

// redactedPassword stands for a password in a database URL shown to
// people: what pgx shows in its own messages, so that one redacted URL
// reads the same wherever it comes from.
const redactedPassword = "xxxxx"

// RedactURL returns a database URL (postgres://user:pw@host/db?password=…)
// or key=value DSN (host=… password=…) with its password replaced by
// xxxxx, found by parsing it: a password that also spells an ordinary word
// ("err") never changes anything but itself. A string that is neither is
// returned unchanged.
func RedactURL(dsn string) string {
	if strings.Contains(dsn, "://") {
		return redactURLForm(dsn)
	}
	return redactKeyValues(dsn)
}

// redactURLForm redacts the userinfo password and a password query
// parameter of a postgres:// URL.
func redactURLForm(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		// Unparsable: show only what precedes the userinfo.
		if i := strings.Index(raw, "://"); i >= 0 {
			return raw[:i+3] + redactedPassword + "@…"
		}
		return redactedPassword
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), redactedPassword)
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", redactedPassword)
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// redactKeyValues redacts the value of password= in a libpq key=value
// DSN, whose values are bare words or single-quoted with backslash
// escapes.
func redactKeyValues(dsn string) string {
	var b strings.Builder
	for i := 0; i < len(dsn); {
		if dsn[i] == ' ' || dsn[i] == '\t' || dsn[i] == '\n' {
			b.WriteByte(dsn[i])
			i++
			continue
		}
		start := i
		for i < len(dsn) && dsn[i] != '=' && dsn[i] != ' ' {
			i++
		}
		key := dsn[start:i]
		for i < len(dsn) && dsn[i] == ' ' {
			i++
		}
		if i >= len(dsn) || dsn[i] != '=' {
			b.WriteString(dsn[start:i])
			continue
		}
		i++ // '='
		for i < len(dsn) && dsn[i] == ' ' {
			i++
		}
		vstart := i
		if i < len(dsn) && dsn[i] == '\'' {
			for i++; i < len(dsn) && dsn[i] != '\''; i++ {
				if dsn[i] == '\\' {
					i++
				}
			}
			i = min(i+1, len(dsn))
		} else {
			for i < len(dsn) && dsn[i] != ' ' && dsn[i] != '\t' && dsn[i] != '\n' {
				i++
			}
		}
		if key == "password" {
			b.WriteString(dsn[start:vstart] + redactedPassword)
		} else {
			b.WriteString(dsn[start:i])
		}
	}
	return b.String()
}

// redact returns a driver's message with every quotation of the whole
// database URL replaced by its redacted form (RedactURL). Only the whole
// URL is looked for, never the password alone: a short password would
// mangle ordinary words. pgx itself quotes URLs redacted already.
func redact(msg, dsn string) string {
	red := RedactURL(dsn)
	if red == dsn || dsn == "" {
		return msg
	}
	return strings.ReplaceAll(msg, dsn, red)
}
