package app_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/app"
	"github.com/onbehalf/onbehalf/internal/config"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
	"github.com/onbehalf/onbehalf/internal/store/postgres"
	"github.com/onbehalf/onbehalf/internal/store/postgres/pgtest"
)

// TestMigrateCommandUsesTheBoltKey runs `onbehalf migrate` as an operator
// moving a default install would: no TOKEN_ENCRYPTION_KEY set. The copy is
// sealed with the bbolt install's own key file, the command says so, and
// PostgreSQL opened with that key holds the connection. Without the key
// file it refuses, naming the variable.
func TestMigrateCommandUsesTheBoltKey(t *testing.T) {
	pgURL, _ := pgtest.Schema(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	path := filepath.Join(t.TempDir(), "onbehalf.db")
	st, err := bolt.Open(path, bolt.Options{ReserveBytes: bolt.NoReserve, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := st.Connect(context.Background(), onbehalf.Authorization{
		User:  onbehalf.ZoomUser{ID: "zu_mig", AccountID: "acct", Email: "mig@example.com", DisplayName: "Mig"},
		Token: onbehalf.Token{AccessToken: "zat_mig", RefreshToken: "zrt_mig", Expiry: time.Now().Add(time.Hour).UTC(), Scope: "user:read:token"}})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	noEnv := func(string) string { return "" }
	var out, errOut bytes.Buffer
	code := app.Run(context.Background(), []string{"migrate", "--from", path, "--to", pgURL}, noEnv, &out, &errOut)
	if code != 0 {
		t.Fatalf("migrate: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), path+".key") || !strings.Contains(out.String(), "copied 1 connection(s)") {
		t.Fatalf("migrate does not say which key it sealed with:\n%s", out.String())
	}
	raw, err := os.ReadFile(path + ".key")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := config.ParseTokenKeys("key file", string(raw))
	if err != nil {
		t.Fatal(err)
	}
	pg, err := postgres.Open(context.Background(), pgURL, postgres.Options{Keys: keys, Logger: quiet})
	if err != nil {
		t.Fatalf("PostgreSQL with the key file's key: %v", err)
	}
	defer pg.Close()
	got, err := pg.Connection(context.Background(), c.ID)
	if err != nil || got.Token.RefreshToken != "zrt_mig" {
		t.Fatalf("the copied connection: %+v, %v", got, err)
	}

	os.Remove(path + ".key")
	out.Reset()
	errOut.Reset()
	if code := app.Run(context.Background(), []string{"migrate", "--from", path, "--to", pgURL}, noEnv, &out, &errOut); code == 0 ||
		!strings.Contains(errOut.String(), "TOKEN_ENCRYPTION_KEY is required") {
		t.Fatalf("migrate without any key: exit %d\n%s", code, errOut.String())
	}
}
