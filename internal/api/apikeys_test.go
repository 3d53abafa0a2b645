package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestAdminAPIKeys: a key creates another through the running server,
// the new key works, is listed (no secret, no hash), and once revoked is
// refused at once (the auth cache dropped it).
func TestAdminAPIKeys(t *testing.T) {
	e := newEnv(t)
	r := e.call(t, http.MethodPost, "/api/v1/admin/api-keys", map[string]any{"name": "backend"})
	if r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var k struct{ ID, Name, Prefix, Key string }
	r.decode(t, &k)
	if !strings.HasPrefix(k.ID, "key_") || k.Name != "backend" || k.Key == "" || !strings.HasPrefix(k.Key, k.Prefix) {
		t.Fatalf("created %+v", k)
	}
	if r := e.callKey(t, k.Key, http.MethodGet, "/api/v1/connections", nil); r.status != http.StatusOK {
		t.Fatalf("the new key: %d %s", r.status, r.body)
	}
	r = e.call(t, http.MethodGet, "/api/v1/admin/api-keys", nil)
	if r.status != http.StatusOK || strings.Contains(string(r.body), k.Key) || strings.Contains(string(r.body), "hash") {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	var list struct {
		Keys []struct {
			ID         string
			LastUsedAt *string `json:"last_used_at"`
		} `json:"api_keys"`
		EnvKeys int `json:"env_keys"`
	}
	r.decode(t, &list)
	if len(list.Keys) != 1 || list.Keys[0].ID != k.ID || list.EnvKeys != 1 || list.Keys[0].LastUsedAt == nil {
		t.Fatalf("list %+v, want the key with its last use", list)
	}
	e.call(t, http.MethodPost, "/api/v1/admin/api-keys", map[string]any{"name": ""}).wantError(t, http.StatusBadRequest, "invalid", "name")
	if r := e.call(t, http.MethodDelete, "/api/v1/admin/api-keys/"+k.ID, nil); r.status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	e.callKey(t, k.Key, http.MethodGet, "/api/v1/connections", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
	e.call(t, http.MethodDelete, "/api/v1/admin/api-keys/"+k.ID, nil).wantError(t, http.StatusNotFound, "not_found", "")
}
