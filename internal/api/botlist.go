package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
)

// Listing page sizes of bots.
const (
	defaultBotLimit = 50
	maxBotLimit     = 200
	// maxBotScan bounds the bots one filtered page reads: a page whose
	// filters match few bots stops there, shorter than limit, with a
	// next_cursor to go on from.
	maxBotScan = 2000
)

// botList is the reply of GET /bots.
type botList struct {
	Bots       []botJSON `json:"bots"`
	NextCursor *string   `json:"next_cursor"`
}

// botQuery holds the filters of GET /bots the store does not apply.
type botQuery struct {
	status         onbehalf.BotStatus
	externalUserID string
	meetingID      string
	// after is inclusive, before exclusive (created_at).
	after, before time.Time
}

// empty reports whether no filter is set.
func (q botQuery) empty() bool {
	return q.status == "" && q.externalUserID == "" && q.meetingID == "" && q.after.IsZero() && q.before.IsZero()
}

// match reports whether b passes every filter.
func (q botQuery) match(b *onbehalf.Bot) bool {
	return (q.status == "" || b.Status == q.status) &&
		(q.externalUserID == "" || b.ExternalUserID == q.externalUserID) &&
		(q.meetingID == "" || b.MeetingID == q.meetingID) &&
		(q.after.IsZero() || !b.CreatedAt.Before(q.after)) &&
		(q.before.IsZero() || b.CreatedAt.Before(q.before))
}

// botStatuses are the values of ?status=.
var botStatuses = []onbehalf.BotStatus{onbehalf.BotCreated, onbehalf.BotJoining, onbehalf.BotWaiting, onbehalf.BotInCall, onbehalf.BotDone, onbehalf.BotFailed}

// parseBotQuery reads and checks the filters of GET /bots.
func parseBotQuery(get func(string) string) (botQuery, error) {
	q := botQuery{status: onbehalf.BotStatus(get("status")), externalUserID: get("external_user_id"), meetingID: get("meeting_id")}
	if q.status != "" {
		ok := false
		for _, st := range botStatuses {
			ok = ok || st == q.status
		}
		if !ok {
			return q, onbehalf.FieldError("status", "Bad status: one of created, joining, waiting, in_call, done, failed.")
		}
	}
	if err := checkExternalUserID("external_user_id", q.externalUserID, false); err != nil {
		return q, err
	}
	if q.meetingID != "" {
		if err := onbehalf.CheckMeetingID("meeting_id", q.meetingID); err != nil {
			return q, err
		}
	}
	var err error
	if q.after, err = timeParam("created_after", get("created_after")); err != nil {
		return q, err
	}
	if q.before, err = timeParam("created_before", get("created_before")); err != nil {
		return q, err
	}
	if !q.after.IsZero() && !q.before.IsZero() && !q.after.Before(q.before) {
		return q, onbehalf.FieldError("created_before", "created_before must be later than created_after.")
	}
	return q, nil
}

// timeParam reads an RFC 3339 time ("" is the zero time).
func timeParam(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, onbehalf.FieldError(field, "Bad %s: an RFC 3339 time, e.g. 2025-01-31T09:00:00Z.", field)
	}
	return t, nil
}

// listBots handles GET /bots: newest first, one page at a time, each bot
// with its timeline. connection_id and platform are the store's filters;
// status, external_user_id, meeting_id, created_after and created_before
// are applied here, over the store's pages.
func (s *server) listBots(c *gin.Context) error {
	q, err := query(c, "connection_id", "platform", "status", "external_user_id", "meeting_id", "created_after", "created_before", "limit", "cursor")
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
	bq, err := parseBotQuery(q.Get)
	if err != nil {
		return err
	}
	list, next, err := s.filterBots(c.Request.Context(), f, bq)
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

// filterBots returns up to f.Limit bots of the store's listing that q
// matches, and the cursor after the last bot read ("" at the end). It
// reads at most maxBotScan bots; the listing is newest first, so it stops
// at the first bot created before q.after.
func (s *server) filterBots(ctx context.Context, f onbehalf.BotFilter, q botQuery) ([]*onbehalf.Bot, string, error) {
	if q.empty() {
		list, next, err := s.o.Store.ListBots(ctx, f)
		if err == nil {
			s.externalUsers(ctx, list)
		}
		return list, next, err
	}
	limit := f.Limit
	f.Limit = maxBotLimit
	var out []*onbehalf.Bot
	for scanned := 0; ; {
		page, next, err := s.o.Store.ListBots(ctx, f)
		if err != nil {
			return nil, "", err
		}
		if q.externalUserID != "" {
			s.externalUsers(ctx, page)
		}
		for i, b := range page {
			if !q.after.IsZero() && b.CreatedAt.Before(q.after) {
				return s.withUsers(ctx, out), "", nil
			}
			if !q.match(b) {
				continue
			}
			out = append(out, b)
			if len(out) == limit {
				if i == len(page)-1 && next == "" {
					return s.withUsers(ctx, out), "", nil
				}
				return s.withUsers(ctx, out), store.EncodeCursor(b.CreatedAt, b.ID), nil
			}
		}
		scanned += len(page)
		if next == "" || scanned >= maxBotScan {
			return s.withUsers(ctx, out), next, nil
		}
		f.Cursor = next
	}
}

// withUsers fills the external users of list and returns it.
func (s *server) withUsers(ctx context.Context, list []*onbehalf.Bot) []*onbehalf.Bot {
	s.externalUsers(ctx, list)
	return list
}

// externalUsers fills in the external user of bots stored before bots
// kept it, from their connections (one lookup per connection). A
// connection deleted since leaves it "".
func (s *server) externalUsers(ctx context.Context, list []*onbehalf.Bot) {
	seen := map[string]string{}
	for _, b := range list {
		if b.ExternalUserID != "" || b.ConnectionID == "" {
			continue
		}
		ext, ok := seen[b.ConnectionID]
		if !ok {
			if c, err := s.o.Store.Connection(ctx, b.ConnectionID); err == nil {
				ext = c.ExternalUserID
			}
			seen[b.ConnectionID] = ext
		}
		b.ExternalUserID = ext
	}
}
