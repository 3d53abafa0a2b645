package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/onbehalf/onbehalf/internal/config"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
	"github.com/onbehalf/onbehalf/internal/store/postgres"
)

// openStore opens the store the configuration names: PostgreSQL when
// DATABASE_URL is set, else the bbolt file at DB_PATH.
func openStore(cfg config.Config, log *slog.Logger) (Store, error) {
	if cfg.DatabaseURL != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return postgres.Open(ctx, cfg.DatabaseURL, postgres.Options{
			Keys:          cfg.TokenEncryptionKeys,
			DeliverEvents: cfg.WebhookURL != "",
			Logger:        log,
		})
	}
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
