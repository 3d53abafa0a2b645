package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/connect"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Listing page sizes of connections.
const (
	defaultConnLimit = 50
	maxConnLimit     = 500
)

// maxCode bounds an authorization code.
const maxCode = 1024

// HeaderRevokeError is set on a DELETE /connections/{id} reply when the
// connection was deleted but Zoom could not be told to revoke the grant:
// its value says why.
const HeaderRevokeError = "Onbehalf-Revoke-Error"

// connectionRequest is the body of POST /connections.
type connectionRequest struct {
	Code           string          `json:"code"`
	RedirectURI    string          `json:"redirect_uri"`
	ExternalUserID string          `json:"external_user_id"`
	Metadata       json.RawMessage `json:"metadata"`
}

// createConnection handles POST /connections, for a backend that owns the
// Zoom redirect: it exchanges the code Zoom sent there, reads the Zoom
// user and stores the grant through the one connect flow (package
// connect): a grant that cannot be kept is given back to Zoom, and a Zoom
// user connected for another external user is a 409 (connection.conflict).
func (s *server) createConnection(c *gin.Context) error {
	var req connectionRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	switch {
	case req.Code == "":
		return onbehalf.FieldError("code", "Missing code: the authorization code Zoom sent to your redirect URI.")
	case len(req.Code) > maxCode:
		return onbehalf.FieldError("code", "Bad code: longer than %d bytes.", maxCode)
	case req.RedirectURI == "":
		return onbehalf.FieldError("redirect_uri", "Missing redirect_uri: the redirect URI your authorization request named.")
	}
	if u, err := url.Parse(req.RedirectURI); err != nil || len(req.RedirectURI) > maxReturnTo || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return onbehalf.FieldError("redirect_uri", "Bad redirect_uri: the absolute http(s) URL your authorization request named.")
	}
	if err := checkExternalUserID("external_user_id", req.ExternalUserID, false); err != nil {
		return err
	}
	meta, err := checkObject("metadata", req.Metadata, MaxMetadata)
	if err != nil {
		return err
	}
	if s.o.OAuth == nil {
		return errZoomOff()
	}
	svc := connect.Service{Zoom: s.o.OAuth, Connector: s.o.Connector, Logger: s.log}
	res, err := svc.Connect(c.Request.Context(), connect.Request{
		Exchange: func(ctx context.Context) (onbehalf.Token, error) {
			return s.o.OAuth.ExchangeRedirect(ctx, req.Code, req.RedirectURI)
		},
		ExternalUserID: req.ExternalUserID, Metadata: meta,
	})
	if err != nil {
		return err
	}
	c.Header("Location", s.base+"/connections/"+url.PathEscape(res.Conn.ID))
	writeJSON(c, http.StatusCreated, connectionView(res.Conn))
	return nil
}

// connectionList is the reply of GET /connections.
type connectionList struct {
	Connections []connectionJSON `json:"connections"`
	NextCursor  *string          `json:"next_cursor"`
}

// listConnections handles GET /connections: filters, oldest first, one
// page at a time.
func (s *server) listConnections(c *gin.Context) error {
	q, err := query(c, "external_user_id", "zoom_user_id", "state", "limit", "cursor")
	if err != nil {
		return err
	}
	f := onbehalf.ConnectionFilter{ExternalUserID: q.Get("external_user_id"), ZoomUserID: q.Get("zoom_user_id"),
		State: onbehalf.ConnState(q.Get("state")), Cursor: q.Get("cursor")}
	if err := checkExternalUserID("external_user_id", f.ExternalUserID, false); err != nil {
		return err
	}
	if err := checkID("zoom_user_id", f.ZoomUserID, maxID); err != nil {
		return err
	}
	if f.State != "" && f.State != onbehalf.StateConnected && f.State != onbehalf.StateDisconnected {
		return onbehalf.FieldError("state", "Bad state: use connected or disconnected.")
	}
	if f.Limit, err = limitParam(q.Get("limit"), defaultConnLimit, maxConnLimit); err != nil {
		return err
	}
	conns, next, err := s.o.Store.ListConnections(c.Request.Context(), f)
	if err != nil {
		return err
	}
	out := connectionList{Connections: make([]connectionJSON, len(conns)), NextCursor: optString(next)}
	for i, conn := range conns {
		out.Connections[i] = connectionView(conn)
	}
	writeJSON(c, http.StatusOK, out)
	return nil
}

// getConnection handles GET /connections/{id}.
func (s *server) getConnection(c *gin.Context) error {
	conn, err := s.connection(c)
	if err != nil {
		return err
	}
	writeJSON(c, http.StatusOK, connectionView(conn))
	return nil
}

// connection reads the connection the path names.
func (s *server) connection(c *gin.Context) (*onbehalf.Connection, error) {
	id := c.Param("id")
	if err := checkID("id", id, maxID); err != nil {
		return nil, err
	}
	if _, err := query(c); err != nil {
		return nil, err
	}
	conn, err := s.o.Store.Connection(c.Request.Context(), id)
	if onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND {
		return nil, errNoConnection("id")
	}
	return conn, err
}

// deleteConnection handles DELETE /connections/{id}: the connection, its
// tokens and its personal data are deleted (connection.deleted), and the
// grant is revoked at Zoom. When Zoom cannot be told, the deletion stands:
// the reply is still 204, with HeaderRevokeError saying why.
func (s *server) deleteConnection(c *gin.Context) error {
	id := c.Param("id")
	if err := checkID("id", id, maxID); err != nil {
		return err
	}
	if _, err := query(c); err != nil {
		return err
	}
	_, revokeErr, err := s.o.Connector.Disconnect(c.Request.Context(), id)
	if onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND {
		return errNoConnection("id")
	} else if err != nil {
		return err
	}
	if revokeErr != nil {
		s.log.WarnContext(c.Request.Context(), "connection deleted, but revoking its zoom grant failed", "conn", id, "err", revokeErr)
		c.Header(HeaderRevokeError, strings.Map(func(r rune) rune {
			if r < ' ' || r == 0x7f {
				return -1
			}
			return r
		}, onbehalf.ErrorMessage(revokeErr)))
	}
	c.Status(http.StatusNoContent)
	return nil
}

// errNoConnection is the error of an unknown connection ID in field.
func errNoConnection(field string) error {
	return &onbehalf.Error{Code: onbehalf.ENOTFOUND, Field: field, Message: "No connection has this ID (it may have been deleted)."}
}

// errZoomOff is the error of calls that need the Zoom app.
func errZoomOff() error {
	return onbehalf.Errorf(onbehalf.EUNAVAILABLE, "Zoom is not configured on this server: set ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET, then restart.")
}
