package app

import (
	"log/slog"

	"github.com/onbehalf/onbehalf/internal/config"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
)

// openStore opens the store the configuration names: PostgreSQL when
// DATABASE_URL is set, else the bbolt file at DB_PATH.
func openStore(cfg config.Config, log *slog.Logger) (Store, error) {
	return bolt.Open(cfg.DBPath, bolt.Options{
		Keys:          cfg.TokenEncryptionKeys,
		DeliverEvents: cfg.WebhookURL != "",
		Logger:        log,
	})
}

// storeName names the store for the log.
func storeName(cfg config.Config) string {
	if cfg.DatabaseURL != "" {
		return "postgres"
	}
	return "bbolt " + cfg.DBPath
}
