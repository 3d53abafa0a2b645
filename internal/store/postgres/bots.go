package postgres

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
)

// CreateBot stores a new bot (store.NewBot fills in what is missing) and
// writes bot.created. A bot ID or platform bot ID already stored is
// ECONFLICT.
func (s *Store) CreateBot(ctx context.Context, b *onbehalf.Bot) error {
	if err := store.CheckBot(b); err != nil {
		return err
	}
	var n onbehalf.Bot
	err := s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		now := s.clock()
		var err error
		if n, err = store.NewBot(*b, now); err != nil {
			return nil, err
		}
		n.CreatedAt = micro(n.CreatedAt)
		n.StatusAt = micro(n.StatusAt)
		ok, err := s.insertBot(ctx, tx, &n)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, onbehalf.Errorf(onbehalf.ECONFLICT, "A bot with this ID or platform bot ID exists already.")
		}
		return []onbehalf.Event{onbehalf.NewBotEvent(onbehalf.EventBotCreated, now, &n, "")}, nil
	})
	if err != nil {
		return err
	}
	*b = n
	return nil
}

// insertBot inserts a bot as it is; ok is false when its ID or platform
// bot ID is taken.
func (s *Store) insertBot(ctx context.Context, tx pgx.Tx, b *onbehalf.Bot) (bool, error) {
	data, err := json.Marshal(b)
	if err != nil {
		return false, err
	}
	return one(tx.QueryRow(ctx, qInsertBot.sql, b.ID, b.Platform, b.PlatformBotID, b.ConnectionID, micro(b.CreatedAt), data), new(bool))
}

// scanBot reads a bot's data column; found is false when there is none.
func scanBot(row pgx.Row) (*onbehalf.Bot, bool, error) {
	var data []byte
	found, err := one(row, &data)
	if err != nil || !found {
		return nil, found, err
	}
	var b onbehalf.Bot
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, true, err
	}
	return &b, true, nil
}

// Bot returns a bot by this server's ID.
func (s *Store) Bot(ctx context.Context, id string) (*onbehalf.Bot, error) {
	return s.readBot(ctx, qBotByID, id)
}

// BotByPlatformID returns a bot by its platform's ID.
func (s *Store) BotByPlatformID(ctx context.Context, platform, platformBotID string) (*onbehalf.Bot, error) {
	return s.readBot(ctx, qBotByPlatformID, platform, platformBotID)
}

// readBot reads one bot with q.
func (s *Store) readBot(ctx context.Context, q namedQuery, args ...any) (*onbehalf.Bot, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed()
	}
	b, found, err := scanBot(s.pool.QueryRow(ctx, q.sql, args...))
	if err != nil {
		return nil, s.readErr(ctx, err)
	}
	if !found {
		return nil, store.ErrNoBot()
	}
	return b, nil
}

// ListBots lists bots by filter, newest first (by creation time, then
// ID), and the cursor of the next page ("" after the last). A Limit of 0 or
// less lists everything.
func (s *Store) ListBots(ctx context.Context, f onbehalf.BotFilter) ([]*onbehalf.Bot, string, error) {
	at, before, err := cursorOf(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	if s.closed.Load() {
		return nil, "", store.ErrClosed()
	}
	q, args := qListBots, []any{f.Platform, at, before, pageLimit(f.Limit), f.Cursor == ""}
	if f.ConnectionID != "" {
		q, args = qListBotsByConnection, append(args, f.ConnectionID)
	}
	rows, err := s.pool.Query(ctx, q.sql, args...)
	if err != nil {
		return nil, "", s.readErr(ctx, err)
	}
	defer rows.Close()
	var out []*onbehalf.Bot
	for rows.Next() {
		b, _, err := scanBot(rows)
		if err != nil {
			return nil, "", s.readErr(ctx, err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, "", s.readErr(ctx, err)
	}
	out, next := store.PageOf(out, f.Limit, func(x *onbehalf.Bot) (time.Time, string) { return x.CreatedAt, x.ID })
	return out, next, nil
}

// ApplyStatus puts a platform's status report on its bot's timeline as
// onbehalf.ApplyStatusReport says (ENOTFOUND for an unknown bot; a
// duplicate changes nothing and writes nothing) and writes
// bot.status_changed when the status changed. The bot's row is locked
// meanwhile, so that reports arriving at two instances at once both land.
func (s *Store) ApplyStatus(ctx context.Context, r onbehalf.StatusReport) (*onbehalf.Bot, bool, error) {
	var b *onbehalf.Bot
	var changed bool
	err := s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		var found bool
		var err error
		if b, found, err = scanBot(tx.QueryRow(ctx, qBotByPlatformIDForUpdate.sql, r.Platform, r.PlatformBotID)); err != nil {
			return nil, err
		} else if !found {
			return nil, store.ErrNoBot()
		}
		now := s.clock()
		r.At = micro(r.At)
		previous := b.Status
		var dup bool
		if changed, dup = onbehalf.ApplyStatusReport(b, r, now); dup {
			return nil, errNoChange
		}
		if err := s.updateBot(ctx, tx, b); err != nil {
			return nil, err
		}
		var evs []onbehalf.Event
		if r.RelayTo != "" && r.RelayEvent != nil { // the link was made: its event with it
			evs = append(evs, *r.RelayEvent)
		}
		if changed {
			evs = append(evs, onbehalf.NewBotEvent(onbehalf.EventBotStatusChanged, now, b, previous))
		}
		return evs, nil
	})
	if err != nil {
		return nil, false, err
	}
	return b, changed, nil
}

// updateBot writes a bot back.
func (s *Store) updateBot(ctx context.Context, tx pgx.Tx, b *onbehalf.Bot) error {
	data, err := json.Marshal(b)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, qUpdateBot.sql, b.ID, data)
	return err
}

// RecordTokenFetches puts token fetches on their bots' timelines as
// onbehalf.ApplyTokenFetch says, in one transaction: fetches naming an
// unknown bot are skipped; each status change writes bot.status_changed and
// each failed fetch token.failed, in the order of the fetches. The bots
// are locked first, in ID order. A batch that changes nothing writes
// nothing.
func (s *Store) RecordTokenFetches(ctx context.Context, fetches []onbehalf.TokenFetch) error {
	if len(fetches) == 0 {
		return nil
	}
	var ids []string
	for _, f := range fetches {
		if f.BotID != "" && !slices.Contains(ids, f.BotID) {
			ids = append(ids, f.BotID)
		}
	}
	return s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		bots, err := s.lockBots(ctx, tx, ids)
		if err != nil {
			return nil, err
		}
		now := s.clock()
		var evs []onbehalf.Event
		touched := map[string]bool{}
		for _, f := range fetches {
			f.At = micro(f.At)
			b := bots[f.BotID]
			if f.BotID != "" && b == nil {
				continue // an unknown bot: skipped
			}
			if b != nil {
				previous := b.Status
				if onbehalf.ApplyTokenFetch(b, f, now) {
					evs = append(evs, onbehalf.NewBotEvent(onbehalf.EventBotStatusChanged, now, b, previous))
				}
				touched[b.ID] = true
			}
			if f.HTTPStatus/100 != 2 {
				evs = append(evs, store.TokenFailedEvent(f, b, now))
			}
		}
		if len(touched) == 0 && len(evs) == 0 {
			return nil, errNoChange
		}
		for _, id := range ids {
			if touched[id] {
				if err := s.updateBot(ctx, tx, bots[id]); err != nil {
					return nil, err
				}
			}
		}
		return evs, nil
	})
}

// lockBots reads and locks the bots with the given IDs (unknown ones are
// left out).
func (s *Store) lockBots(ctx context.Context, tx pgx.Tx, ids []string) (map[string]*onbehalf.Bot, error) {
	out := map[string]*onbehalf.Bot{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := tx.Query(ctx, qBotsForUpdate.sql, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		b, _, err := scanBot(rows)
		if err != nil {
			return nil, err
		}
		out[b.ID] = b
	}
	return out, rows.Err()
}
