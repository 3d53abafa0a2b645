package bots

import (
	"context"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// RemovedCode is the code of the timeline entry a removal puts on a bot
// (DELETE /api/v1/bots/{id}): the status report this server writes itself
// when it made the platform's bot leave.
const RemovedCode = "removed"

// Remove makes a bot leave its meeting: the platform is asked to remove
// it, then the bot is done on its timeline with a "removed" entry saying
// who asked (by), and bot.status_changed is written. A bot already done or
// failed is returned as it is, without asking the platform (removing is
// idempotent). An unknown bot is ENOTFOUND; the platform not knowing the
// bot, or refusing, is EUPSTREAM with its status and message.
func (s *Service) Remove(ctx context.Context, id, by string) (*onbehalf.Bot, error) {
	b, err := s.Store.Bot(ctx, id)
	if err != nil {
		return nil, err
	}
	if b.Status.Final() {
		return b, nil
	}
	p, err := s.platform(b.Platform)
	if err != nil {
		return nil, err
	}
	if err := p.RemoveBot(ctx, b.PlatformBotID); err != nil {
		if onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND {
			// Our bot exists; the platform's does not: a platform fault
			// (or another account), not a missing bot of this server.
			err = &onbehalf.Error{Code: onbehalf.EUPSTREAM, Message: onbehalf.ErrorMessage(err), Err: err}
		}
		return nil, err
	}
	msg := "Removed from the meeting at the request of " + by + "."
	if by == "" {
		msg = "Removed from the meeting through the API."
	}
	nb, changed, err := s.Store.ApplyStatus(ctx, onbehalf.StatusReport{
		Platform: b.Platform, PlatformBotID: b.PlatformBotID,
		Status: onbehalf.BotDone, Code: RemovedCode, Message: msg, At: s.now().UTC(),
	})
	if err != nil {
		// The platform's bot leaves whatever; its webhooks will say so.
		s.logger().Error("bot removed on the platform but not recorded", "bot", b.ID, "err", err)
		return nil, err
	}
	if changed {
		s.notify()
	}
	s.logger().Info("bot removed", "bot", b.ID, "platform", b.Platform, "by", by)
	return nb, nil
}

// platform returns the configured platform named name; a bot whose
// platform is no longer configured cannot be removed (EUNAVAILABLE).
func (s *Service) platform(name string) (onbehalf.Platform, error) {
	for _, p := range s.Platforms {
		if p.Name() == name {
			return p, nil
		}
	}
	return nil, onbehalf.Errorf(onbehalf.EUNAVAILABLE, "The bot's platform %q is not configured any more: set its API key to remove the bot.", name)
}
