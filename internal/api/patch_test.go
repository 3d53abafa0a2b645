package api_test

import (
	"net/http"
	"testing"
	"time"
)

// TestPatchConnection: PATCH changes external_user_id and metadata (null
// removes, absent stays), a taken external_user_id is a 409, bad input a
// 400 naming the field; the connection reports disconnected_code (null
// while connected).
func TestPatchConnection(t *testing.T) {
	e := newEnv(t)
	e.addUser("zu_ann")
	e.addUser("zu_bob")
	ann := e.grant(t, "zu_ann", "ext-ann", time.Now().Add(time.Hour))
	e.grant(t, "zu_bob", "ext-bob", time.Now().Add(time.Hour))
	path := "/api/v1/connections/" + ann

	var c map[string]any
	r := e.call(t, http.MethodPatch, path, map[string]any{"metadata": map[string]any{"plan": "pro"}})
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r.decode(t, &c)
	if c["external_user_id"] != "ext-ann" || c["metadata"].(map[string]any)["plan"] != "pro" || c["disconnected_code"] != nil {
		t.Fatalf("after the metadata patch: %v", c)
	}
	r = e.call(t, http.MethodPatch, path, map[string]any{"external_user_id": "ext-anna"})
	r.decode(t, &c)
	if r.status != http.StatusOK || c["external_user_id"] != "ext-anna" || c["metadata"] == nil {
		t.Fatalf("after the external user patch: %d %v", r.status, c)
	}
	e.call(t, http.MethodPatch, path, map[string]any{"external_user_id": "ext-bob"}).wantError(t, http.StatusConflict, "conflict", "external_user_id")
	e.call(t, http.MethodPatch, path, map[string]any{"metadata": []int{1}}).wantError(t, http.StatusBadRequest, "invalid", "metadata")
	e.call(t, http.MethodPatch, path, map[string]any{"external_user_id": 7}).wantError(t, http.StatusBadRequest, "invalid", "external_user_id")
	e.call(t, http.MethodPatch, path, map[string]any{"zoom_user_id": "x"}).wantError(t, http.StatusBadRequest, "invalid", "zoom_user_id")
	e.call(t, http.MethodPatch, path, map[string]any{}).wantError(t, http.StatusBadRequest, "invalid", "")
	e.call(t, http.MethodPatch, "/api/v1/connections/nope", map[string]any{"metadata": nil}).wantError(t, http.StatusNotFound, "not_found", "id")

	r = e.call(t, http.MethodPatch, path, map[string]any{"metadata": nil})
	r.decode(t, &c)
	if r.status != http.StatusOK || c["metadata"] != nil || c["external_user_id"] != "ext-anna" {
		t.Fatalf("after removing metadata: %d %v", r.status, c)
	}
	var list struct{ Connections []map[string]any }
	e.call(t, http.MethodGet, "/api/v1/connections?external_user_id=ext-anna", nil).decode(t, &list)
	if len(list.Connections) != 1 || list.Connections[0]["id"] != ann {
		t.Fatalf("listing by the new external user: %v", list)
	}
}
