package bolt

import (
	"context"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
	bbolt "go.etcd.io/bbolt"
)

// ApplyStatus puts a platform's status report on its bot's timeline as
// onbehalf.ApplyStatusReport says (ENOTFOUND for an unknown bot; a
// duplicate changes nothing and writes nothing) and writes
// bot.status_changed when the status changed.
func (s *Store) ApplyStatus(ctx context.Context, r onbehalf.StatusReport) (*onbehalf.Bot, bool, error) {
	var b *onbehalf.Bot
	var changed bool
	err := s.update(func(tx *bbolt.Tx) error {
		var err error
		if b, err = botByPlatformID(tx, r.Platform, r.PlatformBotID); err != nil {
			return err
		}
		now := s.now().UTC()
		previous := b.Status
		var dup bool
		if changed, dup = onbehalf.ApplyStatusReport(b, r, now); dup {
			return errNoChange
		}
		if r.RelayTo != "" && r.RelayEvent != nil { // the link was made: its event with it
			if err := s.addEvent(tx, *r.RelayEvent); err != nil {
				return err
			}
		}
		return s.saveBot(tx, b, changed, previous, now)
	})
	if err != nil {
		return nil, false, err
	}
	return b, changed, nil
}

// saveBot writes a bot whose timeline changed and, when its status
// changed, bot.status_changed.
func (s *Store) saveBot(tx *bbolt.Tx, b *onbehalf.Bot, changed bool, previous onbehalf.BotStatus, now time.Time) error {
	if err := putJSON(tx.Bucket(bucketBots), []byte(b.ID), b); err != nil {
		return err
	}
	if !changed {
		return nil
	}
	return s.addEvent(tx, onbehalf.NewBotEvent(onbehalf.EventBotStatusChanged, now, b, previous))
}

// RecordTokenFetches puts token fetches on their bots' timelines as
// onbehalf.ApplyTokenFetch says, in one transaction: fetches naming an
// unknown bot are skipped; each status change writes bot.status_changed and
// each failed fetch token.failed (naming the connection, the bot if any,
// the kind, the HTTP status and the reason; never a token). A batch that
// changes nothing writes nothing.
func (s *Store) RecordTokenFetches(ctx context.Context, fetches []onbehalf.TokenFetch) error {
	if len(fetches) == 0 {
		return nil
	}
	return s.update(func(tx *bbolt.Tx) error {
		now := s.now().UTC()
		wrote := false
		// A batch holds many fetches of few bots: each bot is read and
		// written once.
		bots := map[string]*onbehalf.Bot{}
		var order []*onbehalf.Bot
		for _, f := range fetches {
			var b *onbehalf.Bot
			if f.BotID != "" {
				if b = bots[f.BotID]; b == nil {
					var err error
					if b, err = loadBot(tx, f.BotID); onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND {
						continue
					} else if err != nil {
						return err
					}
					bots[f.BotID] = b
					order = append(order, b)
				}
				previous := b.Status
				if onbehalf.ApplyTokenFetch(b, f, now) {
					if err := s.addEvent(tx, onbehalf.NewBotEvent(onbehalf.EventBotStatusChanged, now, b, previous)); err != nil {
						return err
					}
				}
			}
			if f.HTTPStatus/100 != 2 {
				if err := s.addEvent(tx, store.TokenFailedEvent(f, b, now)); err != nil {
					return err
				}
				wrote = true
			}
		}
		for _, b := range order {
			if err := putJSON(tx.Bucket(bucketBots), []byte(b.ID), b); err != nil {
				return err
			}
			wrote = true
		}
		if !wrote {
			return errNoChange
		}
		return nil
	})
}
