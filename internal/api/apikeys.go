package api

import (
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Keys without downtime: bbolt holds an exclusive lock on its file, so
// `onbehalf apikey` cannot open the database while the server runs on
// it. These routes manage the stored keys through the running server.
// Any valid key may use them: a key already reaches every connection and
// token of the install, so making or revoking keys gives its holder
// nothing more, and an install with several products runs one onbehalf
// per product. Keys of API_KEYS are listed by count only and cannot be
// revoked here (they live in the environment).

// maxKeyName bounds a key's name.
const maxKeyName = 100

// apiKeyJSON is a stored key in a reply; Key, the key itself, only in
// the reply of its creation.
type apiKeyJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Prefix    string `json:"prefix"`
	CreatedAt stamp  `json:"created_at"`
	// LastUsedAt is when the key was last accepted (to the minute).
	LastUsedAt *stamp `json:"last_used_at"`
	Key        string `json:"key,omitempty"`
}

// apiKeyRequest is the body of POST /admin/api-keys.
type apiKeyRequest struct {
	Name string `json:"name"`
}

// apiKeyView renders a stored key, never its hash.
func apiKeyView(k onbehalf.APIKey) apiKeyJSON {
	return apiKeyJSON{ID: k.ID, Name: k.Name, Prefix: k.Prefix, CreatedAt: stamp(k.CreatedAt), LastUsedAt: optTime(k.LastUsedAt)}
}

// createAPIKey handles POST /admin/api-keys: the reply holds the new key,
// shown this once (the store keeps its hash).
func (s *server) createAPIKey(c *gin.Context) error {
	var req apiKeyRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	req.Name = strings.TrimSpace(req.Name)
	switch {
	case req.Name == "":
		return onbehalf.FieldError("name", "Missing name: say what the key is for (it shows in the list).")
	case len(req.Name) > maxKeyName || !utf8.ValidString(req.Name) || strings.ContainsFunc(req.Name, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return onbehalf.FieldError("name", "Bad name: text of at most %d bytes.", maxKeyName)
	}
	key, k := NewKey()
	k.Name, k.CreatedAt = req.Name, s.o.Now().UTC().Truncate(time.Second)
	if err := s.o.Store.CreateAPIKey(c.Request.Context(), k); err != nil {
		return err
	}
	s.log.Info("api key created", "id", k.ID, "name", k.Name, "by", c.GetString(ctxKeyID))
	v := apiKeyView(k)
	v.Key = key
	c.Header("Location", s.base+"/admin/api-keys/"+k.ID)
	c.Header("Cache-Control", "no-store")
	writeJSON(c, http.StatusCreated, v)
	return nil
}

// listAPIKeys handles GET /admin/api-keys.
func (s *server) listAPIKeys(c *gin.Context) error {
	if _, err := query(c); err != nil {
		return err
	}
	keys, err := s.o.Store.APIKeys(c.Request.Context())
	if err != nil {
		return err
	}
	out := struct {
		Keys    []apiKeyJSON `json:"api_keys"`
		EnvKeys int          `json:"env_keys"`
	}{Keys: []apiKeyJSON{}, EnvKeys: len(s.keys.env)}
	for _, k := range keys {
		out.Keys = append(out.Keys, apiKeyView(k))
	}
	writeJSON(c, http.StatusOK, out)
	return nil
}

// revokeAPIKey handles DELETE /admin/api-keys/{id}: the key stops working
// on this instance from the next request, on the others within
// keyCacheTTL.
func (s *server) revokeAPIKey(c *gin.Context) error {
	id := c.Param("id")
	if err := checkID("id", id, maxID); err != nil {
		return err
	}
	if _, err := query(c); err != nil {
		return err
	}
	if err := s.keys.revoke(c.Request.Context(), s.o.Store, id); err != nil {
		return err
	}
	s.log.Info("api key revoked", "id", id, "by", c.GetString(ctxKeyID))
	c.Status(http.StatusNoContent)
	return nil
}
