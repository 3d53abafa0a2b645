package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/onbehalf/onbehalf/internal/config"
	"github.com/onbehalf/onbehalf/internal/events"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
)

// Names of the secrets kept in the store.
const (
	secretOBF        = "obf_callback_secret"
	secretSession    = "session_secret"
	secretURLKey     = "url_signing_key"
	secretLegacyURLs = "legacy_url_secrets"
)

// secrets are the server's secrets as this start uses them.
type secrets struct {
	// OBF is the auth_token of plain token URLs (OBF_CALLBACK_SECRET).
	OBF string
	// Session keys the session cookie.
	Session string
	// URLKey signs token URLs; LegacyURLKeys verify URLs signed before it
	// existed.
	URLKey        []byte
	LegacyURLKeys [][]byte
	// Webhook signs outgoing webhooks (WEBHOOK_SECRET, or generated once
	// and shown by `onbehalf webhook-secret`).
	Webhook string
}

// loadSecrets returns the secrets: configured ones win, the others are
// generated once and kept in the store. The key that signs token URLs is
// its own (generated, never derived from OBF_CALLBACK_SECRET), so setting
// OBF_CALLBACK_SECRET later never breaks a signed URL; URLs signed before
// this key existed keep verifying with the keys the store recorded at the
// upgrade. A configured secret that differs from the one the store was
// used with is logged once, with what stops working.
func loadSecrets(ctx context.Context, cfg config.Config, st onbehalf.MetaStore, log *slog.Logger) (secrets, error) {
	var s secrets
	generate := func() (string, error) { return store.RandomString(32) }
	// Version 1 URLs were signed with a key derived from the secret in
	// use then: the stored one, or the configured one. Record them once.
	stored, err := st.Secret(ctx, secretOBF, nil)
	if err != nil && onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND {
		return s, fmt.Errorf("reading OBF_CALLBACK_SECRET from the database: %w", err)
	}
	legacy, err := st.Secret(ctx, secretLegacyURLs, func() (string, error) {
		var list []string
		for _, v := range []string{stored, cfg.OBFCallbackSecret} {
			if v != "" {
				list = append(list, v)
			}
		}
		b, err := json.Marshal(list)
		return string(b), err
	})
	if err != nil {
		return s, fmt.Errorf("recording the keys of existing token URLs: %w", err)
	}
	var legacySecrets []string
	if err := json.Unmarshal([]byte(legacy), &legacySecrets); err != nil {
		return s, fmt.Errorf("reading the keys of existing token URLs: %w", err)
	}
	for _, v := range legacySecrets {
		s.LegacyURLKeys = append(s.LegacyURLKeys, tokenurl.DeriveKey(v))
	}
	key, err := st.Secret(ctx, secretURLKey, func() (string, error) {
		return base64.StdEncoding.EncodeToString(tokenurl.NewKey()), nil
	})
	if err != nil {
		return s, fmt.Errorf("generating the token URL signing key: %w", err)
	}
	if s.URLKey, err = base64.StdEncoding.DecodeString(key); err != nil || len(s.URLKey) != tokenurl.KeySize {
		return s, errors.New("the token URL signing key in the database is damaged")
	}
	if s.OBF = cfg.OBFCallbackSecret; s.OBF == "" {
		if s.OBF, err = st.Secret(ctx, secretOBF, generate); err != nil {
			return s, fmt.Errorf("generating OBF_CALLBACK_SECRET: %w", err)
		}
	}
	if s.Session = cfg.SessionSecret; s.Session == "" {
		if s.Session, err = st.Secret(ctx, secretSession, generate); err != nil {
			return s, fmt.Errorf("generating SESSION_SECRET: %w", err)
		}
	}
	if s.Webhook, err = webhookSecret(ctx, cfg, st); err != nil {
		return s, err
	}
	changed(ctx, st, log, s.URLKey, "OBF_CALLBACK_SECRET", s.OBF,
		"plain token URLs handed out before (…&auth_token=…) now answer 401 until they carry the new value; signed token URLs keep working")
	changed(ctx, st, log, s.URLKey, "SESSION_SECRET", s.Session,
		"every browser session ended: people see the Connect page again (their connections and bots are kept)")
	return s, nil
}

// changed logs one warning when the secret in use differs from the one the
// store was last used with, then remembers this one (as a keyed
// fingerprint, never the secret).
func changed(ctx context.Context, st onbehalf.MetaStore, log *slog.Logger, key []byte, name, value, breaks string) {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("fingerprint\x00" + name + "\x00" + value))
	fp := hex.EncodeToString(m.Sum(nil))[:32]
	meta := "fingerprint:" + name
	old, ok, err := st.Meta(ctx, meta)
	if err != nil {
		log.Warn("cannot read which secrets the database used", "err", err)
		return
	}
	if ok && !hmac.Equal([]byte(old), []byte(fp)) {
		log.Warn(name+" differs from the one this database was used with: "+breaks+".", "variable", name)
	}
	if !ok || old != fp {
		if err := st.SetMeta(ctx, meta, fp); err != nil {
			log.Warn("cannot record which secrets the database uses", "err", err)
		}
	}
}

// secretWebhook names the generated webhook secret in the store.
const secretWebhook = "webhook_secret"

// webhookSecret returns WEBHOOK_SECRET, or the one generated once and kept
// in the store.
func webhookSecret(ctx context.Context, cfg config.Config, st onbehalf.MetaStore) (string, error) {
	if cfg.WebhookSecret != "" {
		return cfg.WebhookSecret, nil
	}
	s, err := st.Secret(ctx, secretWebhook, func() (string, error) { return events.NewSecret(), nil })
	if err != nil {
		return "", fmt.Errorf("generating WEBHOOK_SECRET: %w", err)
	}
	return s, nil
}
