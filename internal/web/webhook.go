package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/swh"
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
// its events, of which app_deauthorized deletes that user's connection.
//
// Every request, endpoint.url_validation included, must carry a valid
// x-zm-signature with a fresh x-zm-request-timestamp, checked before
// anything looks at the body's content: the validation answer is an HMAC
// with the same secret over a value the caller chooses, so answering an
// unsigned validation would sign any event an attacker asks for.
//
// An app_deauthorized is acted on once: the same request delivered again
// (to any instance, while its signature is fresh) is answered 200 and
// changes nothing (claimZoomDelivery), and one older than the user's
// current grant keeps the connection (deauthorize).
func (s *Server) handleZoomWebhook(c *gin.Context) {
	secret := s.opts.ZoomWebhookSecret
	if secret == "" {
		plain(c, http.StatusNotFound, "Zoom webhooks are not enabled: set ZOOM_WEBHOOK_SECRET_TOKEN (Zoom app → Features → Access → Secret Token).")
		return
	}
	body, ok := readWebhook(c, maxWebhookBytes)
	if !ok {
		return
	}
	signedAt, err := s.verifyZoomSignature(c, body)
	if err != nil {
		s.log.DebugContext(c.Request.Context(), "zoom webhook rejected", "reason", onbehalf.ErrorMessage(err))
		plain(c, onbehalf.HTTPStatus(err), onbehalf.ErrorMessage(err))
		return
	}
	var ev zoomEvent
	if err := json.Unmarshal(body, &ev); err != nil || ev.Event == "" {
		plain(c, http.StatusBadRequest, "webhook body is not a Zoom event (JSON with an event field)")
		return
	}
	switch ev.Event {
	case "endpoint.url_validation":
		if ev.Payload.PlainToken == "" || len(ev.Payload.PlainToken) > 512 {
			plain(c, http.StatusBadRequest, "url_validation without a usable payload.plainToken")
			return
		}
		c.JSON(http.StatusOK, gin.H{"plainToken": ev.Payload.PlainToken, "encryptedToken": zoomHMAC(secret, ev.Payload.PlainToken)})
	case "app_deauthorized":
		release, ok := s.claimZoomDelivery(c, signedAt, body)
		if !ok {
			return
		}
		if !s.deauthorize(c, ev) {
			release()
		}
	default:
		s.log.InfoContext(c.Request.Context(), "zoom webhook ignored", "event", onbehalf.Clip(ev.Event, 64))
		plain(c, http.StatusOK, "ignored")
	}
}

// claimZoomDelivery claims a signed delivery in the shared replay store
// until its signature goes stale, so that the same request delivered
// again, to any instance, changes nothing. The key is a hash of what the
// signature covers (timestamp and body): a retry Zoom signs afresh is a new
// delivery, judged by its content (deauthorize). ok is false when the
// request has been answered (a replay: 200; the store failing: 503);
// release forgets the claim after the action failed, so that the same
// request can be retried.
func (s *Server) claimZoomDelivery(c *gin.Context, signedAt time.Time, body []byte) (release func(), ok bool) {
	ctx := c.Request.Context()
	if s.opts.Replay == nil {
		return func() {}, true
	}
	sum := sha256.Sum256([]byte("zoom webhook\x00" + c.GetHeader("x-zm-request-timestamp") + "\x00" + string(body)))
	key := "zoom:" + hex.EncodeToString(sum[:])
	first, err := s.opts.Replay.ClaimDelivery(ctx, key, signedAt.Add(swh.Window))
	switch {
	case err != nil:
		s.logError(c, "checking a Zoom webhook for replay failed", err)
		plain(c, http.StatusServiceUnavailable, "could not record the webhook; Zoom will retry")
		return nil, false
	case !first:
		s.log.InfoContext(ctx, "zoom webhook ignored: delivered before (a replay)")
		plain(c, http.StatusOK, "ignored: already delivered")
		return nil, false
	}
	return func() {
		if err := s.opts.Replay.ReleaseDelivery(context.WithoutCancel(ctx), key); err != nil {
			s.logError(c, "releasing a Zoom webhook's replay claim failed", err)
		}
	}, true
}

// deauthorize deletes the tokens and personal data of the Zoom user an
// app_deauthorized event names, when the event names this app and is not
// older than the connection's current grant (a late retry or a replay of a
// deauthorization that came before a reconnect is ignored). It reports
// whether the event was dealt with (false: 4xx or 5xx, nothing changed).
func (s *Server) deauthorize(c *gin.Context, ev zoomEvent) bool {
	ctx := c.Request.Context()
	if ev.Payload.ClientID == "" || !hmac.Equal([]byte(ev.Payload.ClientID), []byte(s.opts.ZoomClientID)) {
		s.log.WarnContext(ctx, "zoom deauthorization ignored: it does not name this app's client_id")
		plain(c, http.StatusOK, "ignored: not this app's client_id")
		return true
	}
	if ev.Payload.UserID == "" {
		plain(c, http.StatusBadRequest, "app_deauthorized without payload.user_id")
		return false
	}
	at, err := time.Parse(time.RFC3339Nano, ev.Payload.DeauthorizationTime)
	if err != nil {
		// Without a time the event cannot be dated: it applies, as Zoom
		// means it to.
		s.log.WarnContext(ctx, "zoom deauthorization without a readable deauthorization_time: applied whatever the grant's time",
			"deauthorization_time", onbehalf.Clip(ev.Payload.DeauthorizationTime, 64))
		at = time.Time{}
	}
	conn, err := s.opts.Connector.Deauthorize(ctx, ev.Payload.UserID, at)
	switch onbehalf.ErrorCode(err) {
	case "":
		s.log.InfoContext(ctx, "zoom deauthorized: connection deleted", "conn", conn.ID)
		plain(c, http.StatusOK, "deleted")
	case onbehalf.ENOTFOUND:
		s.log.InfoContext(ctx, "zoom deauthorized a user with no connection")
		plain(c, http.StatusOK, "no connection for this user")
	case onbehalf.ECONFLICT:
		s.log.InfoContext(ctx, "zoom deauthorization ignored: the user connected again after it", "deauthorization_time", at)
		plain(c, http.StatusOK, "ignored: the user connected again after this deauthorization")
	default:
		s.logError(c, "deleting deauthorized connection failed", err)
		plain(c, http.StatusServiceUnavailable, "could not delete the connection; Zoom will retry")
		return false
	}
	return true
}

// readWebhook reads a webhook's body, at most max bytes; on failure it has
// answered (413 or 400) and ok is false.
func readWebhook(c *gin.Context, max int64) (body []byte, ok bool) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, max))
	if err == nil {
		return body, true
	}
	if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
		plain(c, http.StatusRequestEntityTooLarge, "webhook body too large")
	} else {
		plain(c, http.StatusBadRequest, "could not read the webhook body")
	}
	return nil, false
}

// verifyZoomSignature checks x-zm-signature over "v0:{timestamp}:{body}"
// and that the timestamp is within the signature window of now, and
// returns the time the request was signed.
func (s *Server) verifyZoomSignature(c *gin.Context, body []byte) (time.Time, error) {
	ts := c.GetHeader("x-zm-request-timestamp")
	sig := c.GetHeader("x-zm-signature")
	if ts == "" || sig == "" {
		return time.Time{}, onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "missing x-zm-signature or x-zm-request-timestamp")
	}
	at, err := swh.SignedAt(ts, s.now())
	if errors.Is(err, swh.ErrBadTimestamp) {
		return time.Time{}, onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "bad x-zm-request-timestamp")
	} else if err != nil {
		return time.Time{}, onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "stale x-zm-request-timestamp (more than 5 minutes off)")
	}
	want := "v0=" + zoomHMAC(s.opts.ZoomWebhookSecret, "v0:"+ts+":"+string(body))
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return time.Time{}, onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "bad x-zm-signature")
	}
	return at, nil
}

// zoomHMAC is hex(HMAC-SHA256(secret, msg)).
func zoomHMAC(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}
