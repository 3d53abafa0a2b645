package app

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/config"
)

// While a server runs on a bbolt file, the file is locked: `onbehalf
// apikey` then manages the keys through that server's admin routes
// (/api/v1/admin/api-keys), when ONBEHALF_API_KEY holds a key it accepts.
// The server is found at ONBEHALF_URL, else BASE_URL.
const (
	envAdminKey = "ONBEHALF_API_KEY"
	envAdminURL = "ONBEHALF_URL"
	// remoteTimeout bounds one call to the running server.
	remoteTimeout = 30 * time.Second
)

// remoteKeys calls the running server's admin routes.
type remoteKeys struct {
	base, key string
	client    *http.Client
}

// newRemoteKeys returns the client of the running server, or nil when
// ONBEHALF_API_KEY is unset.
func newRemoteKeys(getenv func(string) string, cfg *config.Config) *remoteKeys {
	key := strings.TrimSpace(getenv(envAdminKey))
	if key == "" {
		return nil
	}
	base := cmp.Or(strings.TrimSuffix(strings.TrimSpace(getenv(envAdminURL)), "/"), cfg.BaseURL)
	return &remoteKeys{base: base, key: key, client: &http.Client{Timeout: remoteTimeout}}
}

// call makes one admin call and decodes a 2xx reply into out (nil: none).
func (r *remoteKeys) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+"/api/v1/admin/api-keys"+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+r.key)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("calling the running server at %s: %w", r.base, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error struct{ Code, Message string }
		}
		if json.Unmarshal(raw, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("the running server at %s answered %d: %s", r.base, resp.StatusCode, e.Error.Message)
		}
		return fmt.Errorf("the running server at %s answered %d", r.base, resp.StatusCode)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// remoteKey is a key as the admin routes render it.
type remoteKey struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	Key        string     `json:"key"`
}

// create makes a key through the server.
func (r *remoteKeys) create(ctx context.Context, name string) (remoteKey, error) {
	var k remoteKey
	err := r.call(ctx, http.MethodPost, "", map[string]string{"name": name}, &k)
	return k, err
}

// list lists the stored keys and counts those of the server's API_KEYS.
func (r *remoteKeys) list(ctx context.Context) ([]remoteKey, int, error) {
	var out struct {
		Keys    []remoteKey `json:"api_keys"`
		EnvKeys int         `json:"env_keys"`
	}
	err := r.call(ctx, http.MethodGet, "", nil, &out)
	return out.Keys, out.EnvKeys, err
}

// revoke revokes a key through the server, which forgets it at once.
func (r *remoteKeys) revoke(ctx context.Context, id string) error {
	return r.call(ctx, http.MethodDelete, "/"+url.PathEscape(id), nil, nil)
}
