package bolt

import (
	"bytes"
	"context"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
	bbolt "go.etcd.io/bbolt"
)

// ListConnections lists connections by filter, oldest first (by creation
// time, then ID), and the cursor of the next page ("" after the last).
// A Limit of 0 or less lists everything.
func (s *Store) ListConnections(ctx context.Context, f onbehalf.ConnectionFilter) ([]*onbehalf.Connection, string, error) {
	if f.State != "" && f.State != onbehalf.StateConnected && f.State != onbehalf.StateDisconnected {
		return nil, "", onbehalf.FieldError("state", "Unknown state %q: use connected or disconnected.", f.State)
	}
	after, err := cursorKey(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	var out []*onbehalf.Connection
	err = s.view(func(tx *bbolt.Tx) error {
		out = nil
		var ferr error
		take := func(suffix, state []byte) bool {
			if f.State != "" && string(state) != string(f.State) {
				return true
			}
			_, id := splitTimeKey(suffix)
			c, err := s.read(tx, id)
			if err != nil {
				ferr = err
				return false
			}
			out = append(out, c)
			return f.Limit <= 0 || len(out) <= f.Limit
		}
		switch {
		case f.ZoomUserID != "":
			id := tx.Bucket(bucketByZoomUser).Get([]byte(f.ZoomUserID))
			if id == nil {
				return nil
			}
			c, err := s.read(tx, string(id))
			if err != nil {
				return err
			}
			if f.ExternalUserID == "" || c.ExternalUserID == f.ExternalUserID {
				if k := timeKey(c.CreatedAt, c.ID); after == nil || bytes.Compare(k, after) > 0 {
					take(k, []byte(c.State))
				}
			}
		case f.ExternalUserID != "":
			scanIndex(tx.Bucket(bucketConnsByExternal), prefixKey(nil, f.ExternalUserID), after, false, take)
		default:
			scanIndex(tx.Bucket(bucketConnsByCreated), nil, after, false, take)
		}
		return ferr
	})
	if err != nil {
		return nil, "", err
	}
	out, next := store.PageOf(out, f.Limit, func(x *onbehalf.Connection) (time.Time, string) { return x.CreatedAt, x.ID })
	return out, next, nil
}

// cursorKey turns a listing cursor into the index position it names (nil
// for none).
func cursorKey(cursor string) ([]byte, error) {
	if cursor == "" {
		return nil, nil
	}
	at, id, err := store.DecodeCursor(cursor)
	if err != nil {
		return nil, err
	}
	return timeKey(at, id), nil
}

// scanIndex walks the entries of b whose keys start with prefix, in key
// order (reverse: backwards), from just past the position after (a suffix
// of the key, nil: from the first), calling fn with each key's suffix and
// value until it returns false.
func scanIndex(b *bbolt.Bucket, prefix, after []byte, reverse bool, fn func(suffix, v []byte) bool) {
	c := b.Cursor()
	var k, v []byte
	if !reverse {
		start := append(bytes.Clone(prefix), after...)
		k, v = c.Seek(start)
		if after != nil && bytes.Equal(k, start) {
			k, v = c.Next()
		}
	} else {
		bound := prefixEnd(prefix)
		if after != nil {
			bound = append(bytes.Clone(prefix), after...)
		}
		if bound != nil {
			k, v = c.Seek(bound)
		}
		if k == nil {
			k, v = c.Last()
		}
		for k != nil && bound != nil && bytes.Compare(k, bound) >= 0 {
			k, v = c.Prev()
		}
	}
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = step(c, reverse) {
		if !fn(k[len(prefix):], v) {
			return
		}
	}
}

// step moves a cursor one entry forwards or backwards.
func step(c *bbolt.Cursor, reverse bool) ([]byte, []byte) {
	if reverse {
		return c.Prev()
	}
	return c.Next()
}

// prefixEnd returns the smallest key greater than every key starting with
// prefix, or nil when there is none (an empty prefix, or all 0xff).
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// CountConnections counts connections by state (every state present,
// zero included).
func (s *Store) CountConnections(ctx context.Context) (map[onbehalf.ConnState]int, error) {
	out := map[onbehalf.ConnState]int{}
	err := s.view(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		for _, st := range []onbehalf.ConnState{onbehalf.StateConnected, onbehalf.StateDisconnected} {
			out[st] = readCount(meta, countPrefix+string(st))
		}
		return nil
	})
	return out, err
}

// DueBefore lists connected connections whose access token expires before
// the given time, soonest first, at most limit, whoever claimed them
// (ClaimDue).
func (s *Store) DueBefore(ctx context.Context, before time.Time, limit int) ([]onbehalf.Due, error) {
	var out []onbehalf.Due
	end := timeKey(before, "")
	err := s.view(func(tx *bbolt.Tx) error {
		out = nil
		if limit <= 0 {
			return nil
		}
		scanIndex(tx.Bucket(bucketByExpiry), nil, nil, false, func(k, _ []byte) bool {
			if bytes.Compare(k, end) >= 0 {
				return false
			}
			at, id := splitTimeKey(k)
			out = append(out, onbehalf.Due{ConnID: id, Expiry: at})
			return len(out) < limit
		})
		return nil
	})
	return out, err
}
