package api

import (
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/bots"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Listing page sizes of bots.
const (
	defaultBotLimit = 50
	maxBotLimit     = 200
)

// botRequest is the body of POST /bots.
type botRequest struct {
	Platform        string          `json:"platform"`
	ConnectionID    string          `json:"connection_id"`
	MeetingURL      string          `json:"meeting_url"`
	BotName         string          `json:"bot_name"`
	Kinds           []string        `json:"kinds"`
	PlatformOptions json.RawMessage `json:"platform_options"`
}

// createBot handles POST /bots: the launch service creates the bot on the
// platform, with token URLs of this server, and remembers it.
func (s *server) createBot(c *gin.Context) error {
	var req botRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	switch {
	case req.ConnectionID == "":
		return onbehalf.FieldError("connection_id", "Missing connection_id: the connection the bot joins on behalf of.")
	case req.MeetingURL == "":
		return onbehalf.FieldError("meeting_url", "Missing meeting_url: the Zoom meeting link (or the invitation text around it).")
	case len(req.MeetingURL) > maxMeetingURL:
		return onbehalf.FieldError("meeting_url", "Bad meeting_url: longer than %d bytes.", maxMeetingURL)
	}
	if err := checkID("connection_id", req.ConnectionID, maxID); err != nil {
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
		Platform: req.Platform, ConnectionID: req.ConnectionID, MeetingURL: req.MeetingURL,
		BotName: req.BotName, Kinds: kinds, Options: opts,
	})
	if onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND && onbehalf.ErrorField(err) == "" {
		return errNoConnection("connection_id")
	} else if err != nil {
		return err
	}
	c.Header("Location", s.base+"/bots/"+url.PathEscape(b.ID))
	writeJSON(c, http.StatusCreated, botView(b))
	return nil
}

// botList is the reply of GET /bots.
type botList struct {
	Bots       []botJSON `json:"bots"`
	NextCursor *string   `json:"next_cursor"`
}

// listBots handles GET /bots: newest first, one page at a time, each bot
// with its timeline.
func (s *server) listBots(c *gin.Context) error {
	q, err := query(c, "connection_id", "platform", "limit", "cursor")
	if err != nil {
		return err
	}
	f := onbehalf.BotFilter{ConnectionID: q.Get("connection_id"), Platform: q.Get("platform"), Cursor: q.Get("cursor")}
	if err := checkID("connection_id", f.ConnectionID, maxID); err != nil {
		return err
	}
	if err := checkID("platform", f.Platform, 40); err != nil {
		return err
	}
	if f.Limit, err = limitParam(q.Get("limit"), defaultBotLimit, maxBotLimit); err != nil {
		return err
	}
	list, next, err := s.o.Store.ListBots(c.Request.Context(), f)
	if err != nil {
		return err
	}
	out := botList{Bots: make([]botJSON, len(list)), NextCursor: optString(next)}
	for i, b := range list {
		out.Bots[i] = botView(b)
	}
	writeJSON(c, http.StatusOK, out)
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
	writeJSON(c, http.StatusOK, botView(b))
	return nil
}
