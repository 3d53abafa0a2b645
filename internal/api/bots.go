package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/bots"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// botRequest is the body of POST /bots.
type botRequest struct {
	Platform        string          `json:"platform"`
	ConnectionID    string          `json:"connection_id"`
	ConnectionIDs   []string        `json:"connection_ids"`
	MeetingURL      string          `json:"meeting_url"`
	BotName         string          `json:"bot_name"`
	Kinds           []string        `json:"kinds"`
	PlatformOptions json.RawMessage `json:"platform_options"`
	// Relay: when the bot is removed because its person left, send one
	// for the next candidate.
	Relay bool `json:"relay"`
}

// createBot handles POST /bots: the launch service creates the bot on the
// platform, with token URLs of this server, and remembers it.
func (s *server) createBot(c *gin.Context) error {
	var req botRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	switch {
	case req.ConnectionID == "" && req.ConnectionIDs == nil:
		return onbehalf.FieldError("connection_id", "Missing connection_id (or connection_ids): the connection the bot joins on behalf of.")
	case req.MeetingURL == "":
		return onbehalf.FieldError("meeting_url", "Missing meeting_url: the Zoom meeting link (or the invitation text around it).")
	case len(req.MeetingURL) > maxMeetingURL:
		return onbehalf.FieldError("meeting_url", "Bad meeting_url: longer than %d bytes.", maxMeetingURL)
	}
	if err := checkID("connection_id", req.ConnectionID, maxID); err != nil {
		return err
	}
	if err := checkCandidates(req.ConnectionIDs, req.ConnectionIDs != nil); err != nil {
		return err
	}
	if err := checkID("platform", req.Platform, 40); err != nil {
		return err
	}
	kinds, err := parseKinds("kinds", req.Kinds)
	if err != nil {
		return err
	}
	opts, err := checkObject("platform_options", req.PlatformOptions, MaxPlatformOptions)
	if err != nil {
		return err
	}
	b, err := s.o.Bots.Launch(c.Request.Context(), bots.LaunchRequest{
		Platform: req.Platform, ConnectionID: req.ConnectionID, ConnectionIDs: req.ConnectionIDs, MeetingURL: req.MeetingURL,
		BotName: req.BotName, Kinds: kinds, Options: opts, Relay: req.Relay,
	})
	if onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND && (onbehalf.ErrorField(err) == "" || strings.HasPrefix(onbehalf.ErrorField(err), "connection_ids[")) {
		return candidateNotFound(err, "connection_id")
	} else if err != nil {
		return err
	}
	c.Header("Location", s.base+"/bots/"+url.PathEscape(b.ID))
	s.externalUsers(c.Request.Context(), []*onbehalf.Bot{b})
	writeJSON(c, http.StatusCreated, botView(b))
	return nil
}

// getBot handles GET /bots/{id}.
func (s *server) getBot(c *gin.Context) error {
	id := c.Param("id")
	if err := checkID("id", id, maxID); err != nil {
		return err
	}
	if _, err := query(c); err != nil {
		return err
	}
	b, err := s.o.Store.Bot(c.Request.Context(), id)
	if onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND {
		return &onbehalf.Error{Code: onbehalf.ENOTFOUND, Field: "id", Message: "No bot has this ID."}
	} else if err != nil {
		return err
	}
	s.externalUsers(c.Request.Context(), []*onbehalf.Bot{b})
	writeJSON(c, http.StatusOK, botView(b))
	return nil
}

// removeBot handles DELETE /bots/{id}: the platform's bot leaves the
// meeting, its timeline says who removed it (bot.status_changed to done).
// Removing a bot already done or failed changes nothing: 204 again.
func (s *server) removeBot(c *gin.Context) error {
	id := c.Param("id")
	if err := checkID("id", id, maxID); err != nil {
		return err
	}
	if _, err := query(c); err != nil {
		return err
	}
	_, err := s.o.Bots.Remove(c.Request.Context(), id, "API key "+c.GetString(ctxKeyID))
	if onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND {
		return &onbehalf.Error{Code: onbehalf.ENOTFOUND, Field: "id", Message: "No bot has this ID."}
	} else if err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}
