package bots

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Relay: Zoom removes a bot that joined on an OBF token when the token's
// user leaves, although others may still be in the meeting. A bot created
// with Relay whose platform reports exactly that (a final report whose
// failure is onbehalf.JoinUserLeft) is replaced by a new bot on the same
// platform and meeting, for the next of its candidates.
//
// Status webhooks come more than once, and to several instances at once,
// so a relay must happen once. Two guards, both in the store every
// instance shares:
//
//  1. A claim (ReplayStore.ClaimDelivery on a key derived from the bot's
//     ID) taken before the platform is asked for the new bot: of several
//     instances relaying the same bot, one gets it; the others do
//     nothing. A relay that fails gives the claim back, so that a
//     redelivered webhook may try again.
//  2. The link on the old bot (RelayedTo) is a compare-and-swap inside
//     the store's write (onbehalf.ApplyStatusReport with RelayTo): were a
//     second new bot made all the same (a claim that expired), it loses,
//     and is removed from the platform.

// RelayClaimTTL is how long the claim on a bot's relay is held: longer
// than any platform redelivers a webhook.
const RelayClaimTTL = 24 * time.Hour

// relayKey is the claim key of bot id's relay.
func relayKey(id string) string {
	sum := sha256.Sum256([]byte("relay\x00" + id))
	return hex.EncodeToString(sum[:])
}

// wantsRelay reports whether report r about b (as stored after it) asks
// for a relay.
func wantsRelay(b *onbehalf.Bot, r onbehalf.StatusReport) bool {
	return b != nil && b.Relay && b.RelayedTo == "" && r.Failure == onbehalf.JoinUserLeft && r.Status.Final()
}

// relay replaces b, removed because its person left, by a bot for its
// next candidate. It returns the new bot, nil when there is none to send
// (no further candidate, MaxRelays reached, another instance relays it);
// why it did not relay goes on b's timeline. Errors are the platform's or
// the store's, also on b's timeline.
func (s *Service) relay(ctx context.Context, b *onbehalf.Bot) (*onbehalf.Bot, error) {
	if n := s.relayCount(ctx, b); n >= onbehalf.MaxRelays {
		s.relayNote(ctx, b, "relay_skipped", fmt.Sprintf("Not relayed: the bots of this meeting were relayed %d times already, the most there can be.", n))
		return nil, nil
	}
	candidates := nextCandidates(b)
	if len(candidates) == 0 {
		if len(b.ConnectionIDs) > 1 {
			s.relayNote(ctx, b, "relay_skipped", "Not relayed: the bot has no other candidate.")
		}
		return nil, nil
	}
	now := s.now()
	key := relayKey(b.ID)
	first, err := s.Store.ClaimDelivery(ctx, key, now.Add(RelayClaimTTL))
	if err != nil || !first {
		return nil, err // !first: another instance relays b
	}
	nb, conn, err := s.sendRelay(ctx, b, candidates)
	if err != nil || nb == nil {
		if rerr := s.Store.ReleaseDelivery(ctx, key); rerr != nil {
			s.logger().Error("relay claim not given back", "bot", b.ID, "err", rerr)
		}
		if err != nil {
			s.relayNote(ctx, b, "relay_failed", "The relay to the next person failed: "+onbehalf.ErrorMessage(err))
		}
		return nil, err
	}
	// Link the old bot to the new one: a compare-and-swap in the store,
	// which writes bot.relayed in the same transaction when it links.
	msg := fmt.Sprintf("Relayed to bot %s, on behalf of connection %s: the person this bot joined for left the meeting.", nb.ID, conn)
	ev := onbehalf.NewEvent(onbehalf.EventBotRelayed, now, onbehalf.BotEventData{
		ConnectionID: conn, ExternalUserID: nb.ExternalUserID, BotID: nb.ID, Platform: nb.Platform, PlatformBotID: nb.PlatformBotID,
		MeetingID: nb.MeetingID, Status: nb.Status, RelayedFrom: b.ID, RelayedTo: nb.ID,
	})
	old, _, err := s.Store.ApplyStatus(ctx, onbehalf.StatusReport{Platform: b.Platform, PlatformBotID: b.PlatformBotID,
		RelayTo: nb.ID, RelayConnectionID: conn, EventID: "relay:" + nb.ID, Message: msg, At: now, RelayEvent: &ev})
	if err != nil {
		return nb, err
	}
	if old.RelayedTo != nb.ID {
		// Another relay of b won: this bot is one too many.
		s.logger().Warn("relay lost to another; removing the extra bot", "bot", b.ID, "extra", nb.ID, "kept", old.RelayedTo)
		if _, err := s.Remove(ctx, nb.ID, "this server (a duplicate relay)"); err != nil {
			s.logger().Error("extra relay bot not removed from its platform", "bot", nb.ID, "err", err)
		}
		return nil, nil
	}
	s.logger().Info("bot relayed", "bot", b.ID, "to", nb.ID, "conn", conn)
	return nb, nil
}

// sendRelay launches the bot that replaces b, for the first of candidates
// that can still mint b's tokens; it returns the bot and its connection
// (nil when no candidate can).
func (s *Service) sendRelay(ctx context.Context, b *onbehalf.Bot, candidates []string) (*onbehalf.Bot, string, error) {
	meetingURL := b.MeetingURL
	if meetingURL == "" {
		meetingURL = b.MeetingID // bots made before the URL was kept: the ID
	}
	var last error
	for i, conn := range candidates {
		// A candidate other than the sender lends only its OBF token (all
		// a teammate said yes to): never a ZAK that signs the bot in as
		// them, nor a host join token.
		kinds := b.Kinds
		if conn != b.ConnectionID {
			kinds = []onbehalf.TokenKind{onbehalf.KindOBF}
		}
		if _, _, err := s.connection(ctx, conn, kinds); err != nil {
			last = err // disconnected, deleted, lacking a scope: the next one
			continue
		}
		if !s.lends(ctx, b, conn) {
			last = onbehalf.Errorf(onbehalf.EFORBIDDEN, "a teammate no longer says yes")
			continue
		}
		// The new bot's candidates are conn and the ones after it, those
		// still connected: its token URL is signed for them, so that it
		// can be relayed again.
		var rest []string
		for _, id := range candidates[i:] {
			if id == conn || s.usable(ctx, id, []onbehalf.TokenKind{onbehalf.KindOBF}) && s.lends(ctx, b, id) { // as candidates() asks of all but the first
				rest = append(rest, id)
			}
		}
		if len(rest) < 2 {
			rest = nil
		}
		nb, err := s.Launch(ctx, LaunchRequest{
			Platform: b.Platform, ConnectionID: conn, ConnectionIDs: rest, MeetingURL: meetingURL, BotName: b.BotName, Kinds: kinds, Relay: true,
			teamOf: b.TeamOf,
			relayed: func(nb *onbehalf.Bot) {
				nb.RelayedFrom = b.ID
				nb.Timeline = append(nb.Timeline, onbehalf.BotEvent{At: nb.CreatedAt, Type: onbehalf.BotEventRelay, RelayBotID: b.ID, ConnectionID: conn,
					Message: fmt.Sprintf("Relayed from bot %s: the person it joined for left the meeting.", b.ID)})
			},
		})
		return nb, conn, err
	}
	if last != nil {
		return nil, "", fmt.Errorf("no other candidate can be used: %w", last)
	}
	return nil, "", nil
}

// nextCandidates are the connections a relay of b may use, in order: the
// candidates after the one whose token b last got, then those before it;
// never that one (its person just left).
func nextCandidates(b *onbehalf.Bot) []string {
	ids := b.ConnectionIDs
	if len(ids) < 2 {
		return nil
	}
	used := usedConnection(b)
	i := slices.Index(ids, used)
	if i < 0 {
		return slices.Clone(ids)
	}
	return append(slices.Clone(ids[i+1:]), ids[:i]...)
}

// usedConnection is the connection whose token b last got: the newest
// served token fetch that names one, else b's first candidate.
func usedConnection(b *onbehalf.Bot) string {
	for i := len(b.Timeline) - 1; i >= 0; i-- {
		e := b.Timeline[i]
		if e.Type == onbehalf.BotEventToken && e.HTTPStatus/100 == 2 && e.ConnectionID != "" {
			return e.ConnectionID
		}
	}
	return b.ConnectionID
}

// relayCount is how many relays led to b (its chain of RelayedFrom), at
// most MaxRelays.
func (s *Service) relayCount(ctx context.Context, b *onbehalf.Bot) int {
	n := 0
	for id := b.RelayedFrom; id != "" && n < onbehalf.MaxRelays; n++ {
		prev, err := s.Store.Bot(ctx, id)
		if err != nil {
			return n + 1 // a predecessor is gone: count it, stop
		}
		id = prev.RelayedFrom
	}
	return n
}

// relayNote puts why b was not relayed on its timeline (b is final: the
// report changes nothing else).
func (s *Service) relayNote(ctx context.Context, b *onbehalf.Bot, code, msg string) {
	_, _, err := s.Store.ApplyStatus(ctx, onbehalf.StatusReport{Platform: b.Platform, PlatformBotID: b.PlatformBotID,
		Status: b.Status, Code: code, Message: msg, At: s.now()})
	if err != nil {
		s.logger().Error("relay note not written", "bot", b.ID, "err", err)
	}
}

// usable reports whether connection id can mint kinds now.
func (s *Service) usable(ctx context.Context, id string, kinds []onbehalf.TokenKind) bool {
	_, _, err := s.connection(ctx, id, kinds)
	return err == nil
}

// lends reports whether connection id may lend its token to a relay of b:
// always for a bot of the sender's own connections, else only a teammate
// who still says yes (the sender needs no yes).
func (s *Service) lends(ctx context.Context, b *onbehalf.Bot, id string) bool {
	return b.TeamOf == "" || id == b.TeamOf || s.CheckTeammate(ctx, b.TeamOf, id) == nil
}
