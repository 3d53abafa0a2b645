package api

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// connectionPatch is the body of PATCH /connections/{id}: a JSON merge
// patch of the two fields the product owns. An absent field stays; null
// removes it; a value replaces it (metadata as a whole object).
type connectionPatch struct {
	ExternalUserID json.RawMessage `json:"external_user_id"`
	Metadata       json.RawMessage `json:"metadata"`
}

// patchConnection handles PATCH /connections/{id}: it changes the
// connection's external_user_id and metadata, never its grant. An
// external_user_id another connection has is a 409.
func (s *server) patchConnection(c *gin.Context) error {
	id := c.Param("id")
	if err := checkID("id", id, maxID); err != nil {
		return err
	}
	if _, err := query(c); err != nil {
		return err
	}
	var req connectionPatch
	if err := decode(c, &req); err != nil {
		return err
	}
	var p onbehalf.ConnectionPatch
	if req.ExternalUserID != nil {
		var ext *string
		if err := json.Unmarshal(req.ExternalUserID, &ext); err != nil {
			return onbehalf.FieldError("external_user_id", "Bad external_user_id: it must be a string or null.")
		}
		if ext == nil {
			ext = new(string)
		}
		if err := checkExternalUserID("external_user_id", *ext, false); err != nil {
			return err
		}
		p.ExternalUserID = ext
	}
	if req.Metadata != nil {
		meta, err := checkObject("metadata", req.Metadata, MaxMetadata)
		if err != nil {
			return err
		}
		if meta == nil {
			meta = json.RawMessage("null")
		}
		p.Metadata = &meta
	}
	if p.ExternalUserID == nil && p.Metadata == nil {
		return onbehalf.Errorf(onbehalf.EINVALID, "Nothing to change: send external_user_id and/or metadata.")
	}
	conn, err := s.o.Store.UpdateConnection(c.Request.Context(), id, p)
	if onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND {
		return errNoConnection("id")
	} else if err != nil {
		return err
	}
	writeJSON(c, http.StatusOK, connectionView(conn))
	return nil
}
