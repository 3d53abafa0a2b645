package bolt

import (
	"context"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
	bbolt "go.etcd.io/bbolt"
)

// platformKey is a bot's entry in the index by platform bot ID.
func platformKey(platform, platformBotID string) []byte {
	return prefixKey(nil, platform, platformBotID)
}

// CreateBot stores a new bot (store.NewBot fills in what is missing: an
// ID, CreatedAt, UpdatedAt, Status and StatusAt) and writes bot.created.
// A bot ID or platform bot ID already stored is ECONFLICT.
func (s *Store) CreateBot(ctx context.Context, b *onbehalf.Bot) error {
	if err := store.CheckBot(b); err != nil {
		return err
	}
	var n onbehalf.Bot
	err := s.update(func(tx *bbolt.Tx) error {
		now := s.now().UTC()
		var err error
		if n, err = store.NewBot(*b, now); err != nil {
			return err
		}
		bots := tx.Bucket(bucketBots)
		if bots.Get([]byte(n.ID)) != nil {
			return onbehalf.Errorf(onbehalf.ECONFLICT, "A bot with this ID exists already.")
		}
		byPlatform := tx.Bucket(bucketBotsByPlatform)
		if byPlatform.Get(platformKey(n.Platform, n.PlatformBotID)) != nil {
			return onbehalf.Errorf(onbehalf.ECONFLICT, "This platform's bot is stored already.")
		}
		if err := byPlatform.Put(platformKey(n.Platform, n.PlatformBotID), []byte(n.ID)); err != nil {
			return err
		}
		created := timeKey(n.CreatedAt, n.ID)
		if err := tx.Bucket(bucketBotsByCreated).Put(created, []byte(n.Platform)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketBotsByConn).Put(prefixKey(created, n.ConnectionID), []byte(n.Platform)); err != nil {
			return err
		}
		if err := putJSON(bots, []byte(n.ID), &n); err != nil {
			return err
		}
		return s.addEvent(tx, onbehalf.NewBotEvent(onbehalf.EventBotCreated, now, &n, ""))
	})
	if err != nil {
		return err
	}
	*b = n
	return nil
}

// loadBot reads a bot inside tx.
func loadBot(tx *bbolt.Tx, id string) (*onbehalf.Bot, error) {
	var b onbehalf.Bot
	if ok, err := getJSON(tx.Bucket(bucketBots), []byte(id), &b); err != nil {
		return nil, err
	} else if !ok {
		return nil, store.ErrNoBot()
	}
	return &b, nil
}

// botByPlatformID reads a bot by its platform's ID inside tx.
func botByPlatformID(tx *bbolt.Tx, platform, platformBotID string) (*onbehalf.Bot, error) {
	id := tx.Bucket(bucketBotsByPlatform).Get(platformKey(platform, platformBotID))
	if id == nil {
		return nil, store.ErrNoBot()
	}
	return loadBot(tx, string(id))
}

// Bot returns a bot by this server's ID.
func (s *Store) Bot(ctx context.Context, id string) (*onbehalf.Bot, error) {
	var b *onbehalf.Bot
	err := s.view(func(tx *bbolt.Tx) (err error) {
		b, err = loadBot(tx, id)
		return err
	})
	return b, err
}

// BotByPlatformID returns a bot by its platform's ID.
func (s *Store) BotByPlatformID(ctx context.Context, platform, platformBotID string) (*onbehalf.Bot, error) {
	var b *onbehalf.Bot
	err := s.view(func(tx *bbolt.Tx) (err error) {
		b, err = botByPlatformID(tx, platform, platformBotID)
		return err
	})
	return b, err
}

// ListBots lists bots by filter, newest first (by creation time, then
// ID), and the cursor of the next page ("" after the last). A Limit of 0 or
// less lists everything.
func (s *Store) ListBots(ctx context.Context, f onbehalf.BotFilter) ([]*onbehalf.Bot, string, error) {
	after, err := cursorKey(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	var out []*onbehalf.Bot
	err = s.view(func(tx *bbolt.Tx) error {
		out = nil
		var ferr error
		take := func(suffix, platform []byte) bool {
			if f.Platform != "" && string(platform) != f.Platform {
				return true
			}
			_, id := splitTimeKey(suffix)
			b, err := loadBot(tx, id)
			if err != nil {
				ferr = err
				return false
			}
			out = append(out, b)
			return f.Limit <= 0 || len(out) <= f.Limit
		}
		if f.ConnectionID != "" {
			scanIndex(tx.Bucket(bucketBotsByConn), prefixKey(nil, f.ConnectionID), after, true, take)
		} else {
			scanIndex(tx.Bucket(bucketBotsByCreated), nil, after, true, take)
		}
		return ferr
	})
	if err != nil {
		return nil, "", err
	}
	out, next := store.PageOf(out, f.Limit, func(x *onbehalf.Bot) (time.Time, string) { return x.CreatedAt, x.ID })
	return out, next, nil
}
