package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"golang.org/x/sync/errgroup"

	"github.com/onbehalf/onbehalf/internal/meetingurl"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// MaxBatch bounds the participants of one batch.
const MaxBatch = 100

// zakLifetime is how long a ZAK lives (Zoom: 2 hours).
const zakLifetime = 7200

// tokenRequest is the body of POST /tokens: who, which kind, for which
// meeting.
type tokenRequest struct {
	who
	Kind       onbehalf.TokenKind `json:"kind"`
	MeetingID  string             `json:"meeting_id"`
	MeetingURL string             `json:"meeting_url"`
}

// tokenReply is the reply of POST /tokens: the only reply of the API that
// holds a Zoom token.
type tokenReply struct {
	Token     string             `json:"token"`
	Kind      onbehalf.TokenKind `json:"kind"`
	ExpiresIn int                `json:"expires_in,omitempty"`
}

// mintToken handles POST /tokens: a token minted now, for a connection
// (by connection_id, zoom_user_id or external_user_id) or, in account
// mode, for a user of the account (zoom_user_id or email).
func (s *server) mintToken(c *gin.Context) error {
	var req tokenRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if len(req.MeetingURL) > maxMeetingURL {
		return onbehalf.FieldError("meeting_url", "Bad meeting_url: longer than %d bytes.", maxMeetingURL)
	}
	meetingID, err := meetingurl.ResolveID(req.MeetingURL, req.MeetingID)
	if err != nil {
		return err
	}
	req.MeetingID = meetingID
	if err := checkKindMeeting(req.Kind, req.MeetingID); err != nil {
		return err
	}
	if err := req.check(""); err != nil {
		return err
	}
	tok, err := s.mint(c.Request.Context(), req.who, "", req.Kind, req.MeetingID)
	if err != nil {
		return err
	}
	out := tokenReply{Token: tok, Kind: req.Kind}
	if req.Kind == onbehalf.KindZAK {
		out.ExpiresIn = zakLifetime
	}
	writeJSON(c, http.StatusOK, out)
	return nil
}

// checkKindMeeting checks a kind and the meeting it needs.
func checkKindMeeting(kind onbehalf.TokenKind, meetingID string) error {
	switch {
	case kind == "":
		return onbehalf.FieldError("kind", "Missing kind: obf, zak or join.")
	case !kind.Valid():
		return onbehalf.FieldError("kind", "Unknown kind %q: use obf, zak or join.", onbehalf.Clip(string(kind), 20))
	case kind.NeedsMeeting() || meetingID != "":
		return onbehalf.CheckMeetingID("meeting_id", meetingID)
	}
	return nil
}

// batchRequest is the body of POST /tokens/batch: one meeting, its host
// (a ZAK) and its participants (an OBF token each).
// Items are decoded one by one, so that errors name the item.
type batchRequest struct {
	MeetingID    string            `json:"meeting_id"`
	Host         json.RawMessage   `json:"host"`
	Participants []json.RawMessage `json:"participants"`
}

// batchItem is one person's outcome: a token, or the error of that item
// alone.
type batchItem struct {
	Who   who        `json:"who"`
	Token string     `json:"token,omitempty"`
	Error *errorJSON `json:"error,omitempty"`
}

// batchReply is the reply of POST /tokens/batch; host is null when none
// was asked for.
type batchReply struct {
	Host         *batchItem  `json:"host"`
	Participants []batchItem `json:"participants"`
}

// mintBatch handles POST /tokens/batch: the host's ZAK and every
// participant's OBF token for one meeting, minted concurrently (at most
// BatchConcurrency at once), each item failing on its own. Participants
// sharing a connection share its refresh (the manager's single flight).
// The whole input is checked first: a malformed item fails the request,
// before anything is minted.
func (s *server) mintBatch(c *gin.Context) error {
	var req batchRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := onbehalf.CheckMeetingID("meeting_id", req.MeetingID); err != nil {
		return err
	}
	if len(req.Participants) > MaxBatch {
		return onbehalf.FieldError("participants", "Too many participants: at most %d in one batch (got %d).", MaxBatch, len(req.Participants))
	}
	var host *who
	if h := bytes.TrimSpace(req.Host); len(h) > 0 && string(h) != "null" {
		host = new(who)
		if err := decodeWho(h, host, "host"); err != nil {
			return err
		}
	}
	people := make([]who, len(req.Participants))
	for i, raw := range req.Participants {
		if err := decodeWho(raw, &people[i], fmt.Sprintf("participants[%d]", i)); err != nil {
			return err
		}
	}
	if host == nil && len(people) == 0 {
		return onbehalf.FieldError("participants", "Nothing to mint: give a host, participants, or both.")
	}
	n := len(people)
	if host != nil {
		n++
	}
	if err := s.takeMore(c, n-1); err != nil { // the request took one
		return err
	}

	ctx := c.Request.Context()
	out := batchReply{Participants: make([]batchItem, len(people))}
	var g errgroup.Group
	g.SetLimit(s.o.BatchConcurrency)
	item := func(dst *batchItem, w who, prefix string, kind onbehalf.TokenKind) {
		dst.Who = w
		tok, err := s.mint(ctx, w, prefix, kind, req.MeetingID)
		if err != nil {
			e := errorOf(err)
			dst.Error = &e
			s.logError(ctx, "batch item failed", err, "item", prefix)
			return
		}
		dst.Token = tok
	}
	if host != nil {
		out.Host = &batchItem{}
		g.Go(func() error { item(out.Host, *host, "host.", onbehalf.KindZAK); return nil })
	}
	for i, p := range people {
		g.Go(func() error {
			item(&out.Participants[i], p, fmt.Sprintf("participants[%d].", i), onbehalf.KindOBF)
			return nil
		})
	}
	_ = g.Wait() // items fail on their own
	writeJSON(c, http.StatusOK, out)
	return nil
}

// decodeWho reads and checks one person of a batch, named field.
func decodeWho(raw []byte, w *who, field string) error {
	if err := decodeObject(raw, w, field); err != nil {
		return err
	}
	return w.check(field + ".")
}
