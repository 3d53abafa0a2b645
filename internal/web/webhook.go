package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// maxWebhookBytes bounds a Zoom webhook body.
const maxWebhookBytes = 64 << 10

// zoomEvent is the envelope of a Zoom webhook event.
type zoomEvent struct {
	Event   string `json:"event"`
	Payload struct {
		PlainToken          string `json:"plainToken"`
		UserID              string `json:"user_id"`
		AccountID           string `json:"account_id"`
		ClientID            string `json:"client_id"`
		DeauthorizationTime string `json:"deauthorization_time"`
	} `json:"payload"`
}

// handleZoomWebhook handles "POST /zoom/webhook": Zoom's URL validation and
// signed events, of which app_deauthorized deletes that user's connection.
// Anything unsigned, badly signed or stale is a 401 and changes nothing.
func (s *Server) handleZoomWebhook(c *gin.Context) {
	secret := s.opts.ZoomWebhookSecret
	if secret == "" {
		plain(c, http.StatusNotFound, "Zoom webhooks are not enabled: set ZOOM_WEBHOOK_SECRET_TOKEN (Zoom app → Features → Access → Secret Token).")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxWebhookBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			plain(c, http.StatusRequestEntityTooLarge, "webhook body too large")
			return
		}
		plain(c, http.StatusBadRequest, "could not read the webhook body")
		return
	}
	var ev zoomEvent
	if err := json.Unmarshal(body, &ev); err != nil || ev.Event == "" {
		plain(c, http.StatusBadRequest, "webhook body is not a Zoom event (JSON with an event field)")
		return
	}
	if ev.Event == "endpoint.url_validation" {
		if ev.Payload.PlainToken == "" || len(ev.Payload.PlainToken) > 512 {
			plain(c, http.StatusBadRequest, "url_validation without a usable payload.plainToken")
			return
		}
		c.JSON(http.StatusOK, gin.H{"plainToken": ev.Payload.PlainToken, "encryptedToken": zoomHMAC(secret, ev.Payload.PlainToken)})
		return
	}
	if err := s.verifyZoomSignature(c, body); err != nil {
		s.log.Warn("zoom webhook rejected", "event", ev.Event, "reason", onbehalf.ErrorMessage(err))
		plain(c, statusOf(err), onbehalf.ErrorMessage(err))
		return
	}
	switch ev.Event {
	case "app_deauthorized":
		s.deauthorize(c, ev)
	default:
		s.log.Info("zoom webhook ignored", "event", ev.Event)
		plain(c, http.StatusOK, "ignored")
	}
}

// deauthorize deletes the tokens and personal data of the Zoom user an
// app_deauthorized event names.
func (s *Server) deauthorize(c *gin.Context, ev zoomEvent) {
	if s.opts.ZoomClientID != "" && ev.Payload.ClientID != "" && ev.Payload.ClientID != s.opts.ZoomClientID {
		s.log.Warn("zoom deauthorization for another app ignored")
		plain(c, http.StatusOK, "ignored: another client_id")
		return
	}
	if ev.Payload.UserID == "" {
		plain(c, http.StatusBadRequest, "app_deauthorized without payload.user_id")
		return
	}
	id, err := s.opts.Store.DeleteByZoomUser(c.Request.Context(), ev.Payload.UserID)
	switch onbehalf.ErrorCode(err) {
	case "":
		s.log.Info("zoom deauthorized: connection deleted", "conn", id)
		plain(c, http.StatusOK, "deleted")
	case onbehalf.ENOTFOUND:
		s.log.Info("zoom deauthorized a user with no connection")
		plain(c, http.StatusOK, "no connection for this user")
	default:
		s.logError(c, "deleting deauthorized connection failed", err)
		plain(c, http.StatusInternalServerError, "could not delete the connection; Zoom will retry")
	}
}

// verifyZoomSignature checks x-zm-signature over "v0:{timestamp}:{body}"
// and that the timestamp is within the signature window of now.
func (s *Server) verifyZoomSignature(c *gin.Context, body []byte) error {
	ts := c.GetHeader("x-zm-request-timestamp")
	sig := c.GetHeader("x-zm-signature")
	if ts == "" || sig == "" {
		return onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "missing x-zm-signature or x-zm-request-timestamp")
	}
	if _, err := signedAt(ts, s.now()); err == errBadTimestamp {
		return onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "bad x-zm-request-timestamp")
	} else if err != nil {
		return onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "stale x-zm-request-timestamp (more than 5 minutes off)")
	}
	want := "v0=" + zoomHMAC(s.opts.ZoomWebhookSecret, "v0:"+ts+":"+string(body))
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "bad x-zm-signature")
	}
	return nil
}

// zoomHMAC is hex(HMAC-SHA256(secret, msg)).
func zoomHMAC(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// handleDisconnect handles "POST /zoom/disconnect": it deletes the
// connection's tokens and personal data, revokes the grant at Zoom and
// clears the session.
func (s *Server) handleDisconnect(c *gin.Context) {
	sess := sessions.Default(c)
	id, _ := sess.Get(sessConn).(string)
	sess.Clear()
	_ = sess.Save()
	if id == "" {
		c.Redirect(http.StatusSeeOther, "/")
		return
	}
	conn, err := s.opts.Store.DeleteConnection(c.Request.Context(), id)
	if onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND {
		c.Redirect(http.StatusSeeOther, "/?disconnected=1")
		return
	} else if err != nil {
		s.logError(c, "disconnect failed", err)
		s.renderError(c, "Could not disconnect", err, "/")
		return
	}
	s.log.Info("zoom disconnected by user", "conn", id)
	token := conn.Token.AccessToken
	if token == "" {
		token = conn.Token.RefreshToken
	}
	if s.opts.Revoker != nil && token != "" {
		if err := s.opts.Revoker.Revoke(c.Request.Context(), token); err != nil {
			s.logError(c, "revoking zoom grant failed", err)
			c.Redirect(http.StatusSeeOther, "/?disconnected=1&revoke_failed=1")
			return
		}
	}
	c.Redirect(http.StatusSeeOther, "/?disconnected=1")
}

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}
