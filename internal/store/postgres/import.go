package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store"
)

// connColumns are the columns a new connection row is written with (COPY).
var connColumns = []string{"id", "zoom_user_id", "external_user_id", "state", "sealed_token", "sealed_profile",
	"refresh_hash", "due_at", "created_at", "updated_at", "refreshed_at", "minted_at", "disconnected_at", "disconnected_reason", "granted_at"}

// connValues returns the row of a new connection, in connColumns' order,
// its token and personal data sealed.
func (s *Store) connValues(c *onbehalf.Connection) ([]any, error) {
	tok, prof, err := s.sealConn(c)
	if err != nil {
		return nil, err
	}
	return []any{c.ID, c.ZoomUserID, c.ExternalUserID, string(c.State), tok, prof, s.refreshHash(c), dueOf(c),
		micro(c.CreatedAt), micro(c.UpdatedAt), nullTime(c.RefreshedAt), nullTime(c.MintedAt),
		nullTime(c.DisconnectedAt), c.DisconnectedReason, nullTime(c.GrantedAt)}, nil
}

// ImportConnections stores many grants in one transaction and returns
// their connection IDs, in order. It exists for benchmarks and bulk
// imports (cmd/onbehalf-bench -scale): Connect commits once per
// connection. Each grant is stored as Connect stores it (store.Grant): a
// Zoom user that already has a connection keeps its ID and is revived;
// tokens and personal data are sealed. New connections go in with COPY.
// Unlike Connect it writes no event: an import is not news for the
// product. Either every grant is stored or none is; a Connect of one of
// the Zoom users on another instance during the import fails it.
func (s *Store) ImportConnections(ctx context.Context, items []onbehalf.Authorization) ([]string, error) {
	zoomIDs := make([]string, len(items))
	for i := range items {
		if err := store.CheckAuthorization(items[i]); err != nil {
			return nil, err
		}
		items[i].Token.Expiry = micro(items[i].Token.Expiry)
		zoomIDs[i] = items[i].User.ID
	}
	ids := make([]string, len(items))
	err := s.write(ctx, func(tx pgx.Tx) ([]onbehalf.Event, error) {
		now := s.clock()
		known, err := s.lockByZoomUsers(ctx, tx, zoomIDs)
		if err != nil {
			return nil, err
		}
		fresh := map[string]*onbehalf.Connection{} // new in this import, by Zoom user
		var order []string
		for i, a := range items {
			if i%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			old, isKnown := known[a.User.ID]
			if prev, ok := fresh[a.User.ID]; ok {
				old = prev
			}
			id := ""
			if old == nil {
				if id, err = store.NewID(); err != nil {
					return nil, err
				}
			}
			n, _ := store.Grant(old, a, id, now)
			ids[i] = n.ID
			if isKnown {
				known[a.User.ID] = &n
				continue
			}
			if _, ok := fresh[a.User.ID]; !ok {
				order = append(order, a.User.ID)
			}
			fresh[a.User.ID] = &n
		}
		batch := &pgx.Batch{}
		for _, c := range known {
			args, err := s.updateValues(c)
			if err != nil {
				return nil, err
			}
			batch.Queue(qUpdateConnection.sql, args...)
		}
		if batch.Len() > 0 {
			if err := tx.SendBatch(ctx, batch).Close(); err != nil {
				return nil, err
			}
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"connections"}, connColumns, pgx.CopyFromSlice(len(order), func(i int) ([]any, error) {
			return s.connValues(fresh[order[i]])
		}))
		return nil, err
	})
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		s.cache.drop(id)
	}
	return ids, nil
}

// lockByZoomUsers reads and locks the connections of the given Zoom users,
// by Zoom user.
func (s *Store) lockByZoomUsers(ctx context.Context, tx pgx.Tx, zoomIDs []string) (map[string]*onbehalf.Connection, error) {
	rows, err := tx.Query(ctx, qConnectionsByZoomUsersForUpdate.sql, zoomIDs)
	if err != nil {
		return nil, err
	}
	recs, err := scanConns(rows)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*onbehalf.Connection, len(recs))
	for i := range recs {
		c, err := s.decode(&recs[i], nil)
		if err != nil {
			return nil, err
		}
		out[c.ZoomUserID] = c
	}
	return out, nil
}
