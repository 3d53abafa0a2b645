package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/bots"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
)

// maxMeetingURL bounds a meeting link (or the invitation text around it).
const maxMeetingURL = 8 << 10

// tokenURLsRequest is the body of POST /connections/{id}/token-urls.
type tokenURLsRequest struct {
	Platform string `json:"platform"`
	// ConnectionIDs are the candidates in order of preference; the path's
	// connection must be the first.
	ConnectionIDs []string        `json:"connection_ids"`
	MeetingURL    string          `json:"meeting_url"`
	MeetingID     string          `json:"meeting_id"`
	Kinds         []string        `json:"kinds"`
	TTL           json.RawMessage `json:"ttl"`
}

// tokenURLsReply holds the signed URL of each kind asked for; on platforms
// whose one URL serves several kinds, the same URL stands under each.
type tokenURLsReply struct {
	OBF       string `json:"obf_token_url,omitempty"`
	ZAK       string `json:"zak_token_url,omitempty"`
	Join      string `json:"join_token_url,omitempty"`
	ExpiresAt *stamp `json:"expires_at"`
}

// createTokenURLs handles POST /connections/{id}/token-urls: signed token
// URLs for a bot the product creates itself on a platform, each minting
// only for this connection, this meeting and these kinds, until it
// expires.
func (s *server) createTokenURLs(c *gin.Context) error {
	id := c.Param("id")
	if err := checkID("id", id, maxID); err != nil {
		return err
	}
	var req tokenURLsRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	switch {
	case req.MeetingURL == "" && req.MeetingID == "":
		return onbehalf.FieldError("meeting_url", "Missing meeting: give meeting_url (a Zoom link) or meeting_id (its digits).")
	case len(req.MeetingURL) > maxMeetingURL:
		return onbehalf.FieldError("meeting_url", "Bad meeting_url: longer than %d bytes.", maxMeetingURL)
	}
	if err := checkID("platform", req.Platform, 40); err != nil {
		return err
	}
	if err := checkCandidates(req.ConnectionIDs, req.ConnectionIDs != nil); err != nil {
		return err
	}
	kinds, err := parseKinds("kinds", req.Kinds)
	if err != nil {
		return err
	}
	ttl, err := parseTTL("ttl", req.TTL, s.o.TokenURLTTL)
	if err != nil {
		return err
	}
	urls, err := s.o.Bots.TokenURLs(c.Request.Context(), bots.TokenURLRequest{
		Platform: req.Platform, ConnectionID: id, ConnectionIDs: req.ConnectionIDs, MeetingURL: req.MeetingURL, MeetingID: req.MeetingID, Kinds: kinds, TTL: ttl,
	})
	if onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND {
		return candidateNotFound(err, "id")
	} else if err != nil {
		return err
	}
	out := tokenURLsReply{
		OBF:  onbehalf.URLFor(urls, onbehalf.KindOBF),
		ZAK:  onbehalf.URLFor(urls, onbehalf.KindZAK),
		Join: onbehalf.URLFor(urls, onbehalf.KindJoin),
	}
	if len(urls) > 0 {
		out.ExpiresAt = expiryOf(urls[0].URL)
	}
	writeJSON(c, http.StatusOK, out)
	return nil
}

// expiryOf reads the expiry a signed URL carries.
func expiryOf(u string) *stamp {
	p, err := url.Parse(u)
	if err != nil {
		return nil
	}
	secs, err := strconv.ParseInt(p.Query().Get(tokenurl.ParamExp), 10, 64)
	if err != nil {
		return nil
	}
	return optTime(time.Unix(secs, 0))
}
