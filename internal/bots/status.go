package bots

import (
	"context"
	"slices"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// ReceiveStatus stores the status reports of one verified status webhook.
// boundBot, when not "", is the bot the per-bot status URL was signed for:
// reports about any other bot are refused. A report about a bot this
// server did not create is ENOTFOUND; nothing of the webhook is stored
// then. A report that a relay bot was removed because its person left
// sends the bot for the next candidate (relay.go), once however often the
// report comes. It returns the bots whose status changed.
func (s *Service) ReceiveStatus(ctx context.Context, platform string, reports []onbehalf.StatusReport, boundBot string) ([]*onbehalf.Bot, error) {
	if boundBot != "" {
		b, err := s.Store.Bot(ctx, boundBot)
		if err != nil || b.Platform != platform {
			return nil, onbehalf.Errorf(onbehalf.ENOTFOUND, "Unknown bot: this server did not create it.")
		}
		for _, r := range reports {
			if r.PlatformBotID != "" && r.PlatformBotID != b.PlatformBotID {
				return nil, onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Status webhook refused: it is about another bot than the one its URL was made for.")
			}
		}
		for i := range reports {
			reports[i].PlatformBotID = b.PlatformBotID
		}
	}
	// Check every report's bot first, so that a webhook about an unknown
	// bot stores nothing.
	for _, r := range reports {
		if _, err := s.Store.BotByPlatformID(ctx, platform, r.PlatformBotID); err != nil {
			if onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND {
				return nil, onbehalf.Errorf(onbehalf.ENOTFOUND, "Unknown bot: this server did not create it.")
			}
			return nil, err
		}
	}
	var changed, relays []*onbehalf.Bot
	for _, r := range reports {
		r.Platform = platform
		r.RelayTo, r.RelayConnectionID = "", "" // only this server relays
		b, ok, err := s.Store.ApplyStatus(ctx, r)
		if err != nil {
			return changed, err
		}
		if ok {
			changed = append(changed, b)
		}
		// A duplicate report may still relay: the first delivery's relay
		// may have failed, or be running on another instance (the claim
		// makes it happen once).
		if wantsRelay(b, r) && !slices.ContainsFunc(relays, func(o *onbehalf.Bot) bool { return o.ID == b.ID }) {
			relays = append(relays, b)
		}
	}
	for _, b := range relays {
		if _, err := s.relay(ctx, b); err != nil {
			// The report is stored; the relay's failure is on the bot's
			// timeline. The webhook is not failed for it.
			s.logger().Warn("relay failed", "bot", b.ID, "err", err)
		}
	}
	if len(changed) > 0 || len(relays) > 0 {
		s.notify()
	}
	return changed, nil
}
