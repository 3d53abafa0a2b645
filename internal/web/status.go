package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
)

// maxStatusBytes bounds a status webhook body.
const maxStatusBytes = 256 << 10

// handleStatusWebhook handles "POST /webhooks/:platform": a platform's bot
// status webhook. It is verified before it is read — either it came to
// the per-bot URL this server signed for the bot, or it carries the
// platform's own signature — then its reports go on the bots' timelines.
// A bad signature, an unknown bot or an unreadable body is a 4xx and
// changes nothing.
func (s *Server) handleStatusWebhook(c *gin.Context) {
	ctx := c.Request.Context()
	name := c.Param("platform")
	var p onbehalf.Platform
	for _, x := range s.opts.Platforms {
		if x.Name() == name {
			p = x
		}
	}
	recv, ok := onbehalf.AsPlatform[onbehalf.StatusReceiver](p)
	if p == nil || !ok {
		plain(c, http.StatusNotFound, "No such platform on this server (or it is not configured).")
		return
	}
	body, ok := readWebhook(c, maxStatusBytes)
	if !ok {
		return
	}
	q := c.Request.URL.Query()
	var err error
	bound := ""
	if sig := q.Get(tokenurl.ParamSig); sig != "" || q.Has(tokenurl.ParamBot) {
		bound = q.Get(tokenurl.ParamBot)
		err = s.opts.Signer.VerifyStatus(name, bound, sig)
	} else {
		err = recv.VerifyStatusWebhook(c.Request, body)
	}
	if err != nil {
		s.log.DebugContext(ctx, "status webhook refused", "platform", name, "reason", onbehalf.ErrorMessage(err))
		plain(c, onbehalf.HTTPStatus(err), onbehalf.ErrorMessage(err))
		return
	}
	reports, err := recv.ParseStatusWebhook(c.Request, body)
	if err != nil {
		plain(c, onbehalf.HTTPStatus(err), onbehalf.ErrorMessage(err))
		return
	}
	changed, err := s.opts.Bots.ReceiveStatus(ctx, name, reports, bound)
	if err != nil {
		if onbehalf.HTTPStatus(err) >= 500 {
			s.logError(c, "storing a status webhook failed", err)
		}
		plain(c, onbehalf.HTTPStatus(err), onbehalf.ErrorMessage(err))
		return
	}
	for _, b := range changed {
		s.log.InfoContext(ctx, "bot status changed", "bot", b.ID, "platform", name, "status", b.Status)
	}
	plain(c, http.StatusOK, "ok")
}
