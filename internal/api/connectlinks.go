package api

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// ConnectLinkTTL is how long a connect link works.
const ConnectLinkTTL = time.Hour

// connectLinkRequest is the body of POST /connect-links.
type connectLinkRequest struct {
	ExternalUserID string          `json:"external_user_id"`
	Metadata       json.RawMessage `json:"metadata"`
	ReturnTo       string          `json:"return_to"`
}

// connectLinkJSON is a connect link in a reply. URL, the only field that
// grants anything, is in the creation's reply alone: the store keeps only
// its secret's hash.
type connectLinkJSON struct {
	ID             string              `json:"id"`
	URL            string              `json:"url,omitempty"`
	ExternalUserID string              `json:"external_user_id"`
	Metadata       json.RawMessage     `json:"metadata"`
	ReturnTo       *string             `json:"return_to"`
	Status         onbehalf.LinkStatus `json:"status"`
	ConnectionID   *string             `json:"connection_id"`
	CreatedAt      *stamp              `json:"created_at"`
	ExpiresAt      stamp               `json:"expires_at"`
	UsedAt         *stamp              `json:"used_at"`
	RevokedAt      *stamp              `json:"revoked_at"`
}

// connectLinkView renders a link at now.
func connectLinkView(l *onbehalf.ConnectLink, now time.Time) connectLinkJSON {
	meta := l.Metadata
	if len(meta) == 0 {
		meta = json.RawMessage("null")
	}
	return connectLinkJSON{
		ID:             l.ID,
		ExternalUserID: l.ExternalUserID,
		Metadata:       meta,
		ReturnTo:       optString(l.ReturnTo),
		Status:         l.Status(now),
		ConnectionID:   optString(l.ConnectionID),
		CreatedAt:      optTime(l.CreatedAt),
		ExpiresAt:      stamp(l.ExpiresAt),
		UsedAt:         optTime(l.UsedAt),
		RevokedAt:      optTime(l.RevokedAt),
	}
}

// newLinkID makes a connect link's public ID: "cl_" and 32 hex digits,
// the shape the stores give links made before IDs.
func newLinkID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand panics on failure)
	return "cl_" + hex.EncodeToString(b)
}

// createConnectLink handles POST /connect-links: a one-time link, valid
// ConnectLinkTTL, that starts the Zoom OAuth flow for one of the product's
// users (served by the web layer at /connect/{secret}). The reply names
// the link by an ID, for GET and DELETE /connect-links/{id}; the URL's
// secret is in this reply only.
func (s *server) createConnectLink(c *gin.Context) error {
	var req connectLinkRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := checkExternalUserID("external_user_id", req.ExternalUserID, true); err != nil {
		return err
	}
	meta, err := checkObject("metadata", req.Metadata, MaxMetadata)
	if err != nil {
		return err
	}
	if err := checkReturnTo(req.ReturnTo, s.o.ReturnOrigins); err != nil {
		return err
	}
	if s.o.OAuth == nil {
		return errZoomOff()
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics on failure)
	now := s.o.Now()
	l := onbehalf.ConnectLink{
		ID:             newLinkID(),
		Secret:         base64.RawURLEncoding.EncodeToString(b),
		ExternalUserID: req.ExternalUserID,
		Metadata:       meta,
		ReturnTo:       req.ReturnTo,
		CreatedAt:      now.UTC().Truncate(time.Millisecond),
		ExpiresAt:      now.Add(ConnectLinkTTL).UTC().Truncate(time.Second),
	}
	if err := s.o.Store.CreateConnectLink(c.Request.Context(), l); err != nil {
		return err
	}
	v := connectLinkView(&l, now)
	v.URL = s.o.BaseURL + "/connect/" + l.Secret
	c.Header("Location", s.base+"/connect-links/"+url.PathEscape(l.ID))
	writeJSON(c, http.StatusCreated, v)
	return nil
}

// getConnectLink handles GET /connect-links/{id}: where the link stands
// (pending, used, expired, revoked) and the connection it made.
func (s *server) getConnectLink(c *gin.Context) error {
	id, err := linkID(c)
	if err != nil {
		return err
	}
	l, err := s.o.Store.ConnectLinkByID(c.Request.Context(), id)
	if err != nil {
		return linkErr(err)
	}
	writeJSON(c, http.StatusOK, connectLinkView(l, s.o.Now()))
	return nil
}

// revokeConnectLink handles DELETE /connect-links/{id}: the link stops
// working at once (a browser that opens it gets a page that says so) and
// reads "revoked" from then on, which the reply shows. Revoking it again
// answers the same; a used link is a 409 (delete its connection instead).
func (s *server) revokeConnectLink(c *gin.Context) error {
	id, err := linkID(c)
	if err != nil {
		return err
	}
	now := s.o.Now().UTC().Truncate(time.Millisecond)
	l, err := s.o.Store.RevokeConnectLink(c.Request.Context(), id, now)
	if err != nil {
		return linkErr(err)
	}
	s.log.Info("connect link revoked", "id", id, "by", c.GetString(ctxKeyID))
	writeJSON(c, http.StatusOK, connectLinkView(l, now))
	return nil
}

// linkID reads and checks the path's link ID.
func linkID(c *gin.Context) (string, error) {
	id := c.Param("id")
	if err := checkID("id", id, maxID); err != nil {
		return "", err
	}
	if _, err := query(c); err != nil {
		return "", err
	}
	return id, nil
}

// linkErr words the store's unknown link for the API.
func linkErr(err error) error {
	if onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND {
		return &onbehalf.Error{Code: onbehalf.ENOTFOUND, Field: "id", Message: "No connect link has this ID (or it expired over a day ago and was deleted)."}
	}
	return err
}
