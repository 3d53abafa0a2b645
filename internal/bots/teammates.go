package bots

import (
	"context"
	"fmt"
	"slices"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Teammates: a person may say yes to "let my teammates' bots join on my
// behalf" on their own page (Connection.TeamConsent). Teammates are the
// people connected from the same Zoom account (Connection.AccountID); the
// launch form offers those who said yes as further candidates of a bot
// (LaunchRequest.Teammates), and the token handler asks again at each
// fetch (CheckTeammate), so that withdrawing the yes takes effect at the
// next one.
//
// Listing teammates reads the connected connections page by page: the
// Zoom account ID is sealed with the personal data in both stores, so no
// index can select by it. That is one pass over the connections per launch
// page and person page; an install of many thousands of connections would
// want a keyed index of accounts.

// teamPage is the page size of the pass over the connections.
const teamPage = 500

// Teammates returns the connected connections of c's Zoom account other
// than c, oldest first: those who said yes can be candidates of c's bots.
// A connection whose account is unknown has no teammates.
func (s *Service) Teammates(ctx context.Context, c *onbehalf.Connection) ([]*onbehalf.Connection, error) {
	if c.AccountID == "" {
		return nil, nil
	}
	var out []*onbehalf.Connection
	f := onbehalf.ConnectionFilter{State: onbehalf.StateConnected, Limit: teamPage}
	for {
		list, next, err := s.Store.ListConnections(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, x := range list {
			if x.ID != c.ID && x.AccountID == c.AccountID {
				out = append(out, x)
			}
		}
		if next == "" {
			return out, nil
		}
		f.Cursor = next
	}
}

// SetTeamConsent records a person's yes (or no) to their teammates' bots.
func (s *Service) SetTeamConsent(ctx context.Context, id string, yes bool) (*onbehalf.Connection, error) {
	c, err := s.Store.UpdateConnection(ctx, id, onbehalf.ConnectionPatch{TeamConsent: &yes})
	if err == nil {
		s.logger().Info("teammate consent changed", "conn", id, "yes", yes)
	}
	return c, err
}

// CheckTeammate reports whether connection id may still serve a bot of
// first's as a teammate: it said yes, and it is of first's Zoom account.
// The refusal is EFORBIDDEN and says why (tokenserve skips the candidate).
func (s *Service) CheckTeammate(ctx context.Context, first, id string) error {
	a, err := s.Store.Connection(ctx, first)
	if err != nil {
		return err
	}
	b, err := s.Store.Connection(ctx, id)
	if err != nil {
		return err
	}
	return teammate(a, b)
}

// teammate is CheckTeammate's rule.
func teammate(first, c *onbehalf.Connection) error {
	switch {
	case !c.TeamConsent:
		return onbehalf.Errorf(onbehalf.EFORBIDDEN, "This person has not said yes (or withdrew it) to their teammates' bots joining on their behalf.")
	case c.AccountID == "" || c.AccountID != first.AccountID:
		return onbehalf.Errorf(onbehalf.EFORBIDDEN, "This person is not connected from the same Zoom account.")
	}
	return nil
}

// checkTeammates checks, for a bot sent with teammates, every candidate
// after the first (the sender).
func checkTeammates(cs []*onbehalf.Connection) error {
	for i, c := range cs[1:] {
		if err := teammate(cs[0], c); err != nil {
			return onField(err, fmt.Sprintf("connection_ids[%d]", i+1))
		}
	}
	return nil
}

// BotsUsing returns the newest bots of c's teammates that got c's token
// (their timelines say whose token each fetch got), newest first, at most
// limit.
func (s *Service) BotsUsing(ctx context.Context, c *onbehalf.Connection, limit int) ([]*onbehalf.Bot, error) {
	mates, err := s.Teammates(ctx, c)
	if err != nil {
		return nil, err
	}
	var out []*onbehalf.Bot
	for _, m := range mates {
		list, _, err := s.Store.ListBots(ctx, onbehalf.BotFilter{ConnectionID: m.ID, Limit: limit})
		if err != nil {
			return nil, err
		}
		for _, b := range list {
			if slices.ContainsFunc(b.Timeline, func(e onbehalf.BotEvent) bool {
				return e.Type == onbehalf.BotEventToken && e.ConnectionID == c.ID && e.HTTPStatus/100 == 2
			}) {
				out = append(out, b)
			}
		}
	}
	slices.SortFunc(out, func(a, b *onbehalf.Bot) int { return b.CreatedAt.Compare(a.CreatedAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// teamOf is the person whose teammates a bot borrows tokens from ("" when
// none): the sender of a bot sent with teammates, or, for a relay of one,
// the original sender, whom every candidate but themselves must still be
// a consenting teammate of now (and at each fetch: TeamOf on the bot).
func (s *Service) teamOf(ctx context.Context, req LaunchRequest, cs []*onbehalf.Connection) (string, error) {
	switch {
	case req.teamOf != "":
		anchor, err := s.Store.Connection(ctx, req.teamOf)
		if err != nil {
			return "", err
		}
		borrowed := false
		for i, c := range cs {
			if c.ID == anchor.ID {
				continue
			}
			if err := teammate(anchor, c); err != nil {
				return "", onField(err, fmt.Sprintf("connection_ids[%d]", i))
			}
			borrowed = true
		}
		if !borrowed {
			return "", nil // back to the sender alone: nothing borrowed
		}
		return anchor.ID, nil
	case req.Teammates && len(cs) > 1:
		return cs[0].ID, nil
	}
	return "", nil
}
