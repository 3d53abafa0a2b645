package store

import (
	"context"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	bolt "go.etcd.io/bbolt"
)

// ConnectionImport is one connection for ImportConnections: a Zoom user
// and the token pair it authorized.
type ConnectionImport struct {
	User  onbehalf.ZoomUser
	Token onbehalf.Token
}

// ImportConnections stores many connections in one write transaction and
// returns their IDs, in order. It exists for benchmarks and bulk imports
// (cmd/onbehalf-bench -scale): UpsertConnection commits and fsyncs once per
// connection, which takes minutes for 100,000 of them.
//
// Each connection is stored exactly as UpsertConnection stores it: a Zoom
// user that already has a connection keeps its ID and is revived; tokens
// and personal data are sealed; the Zoom user and expiry indexes and the
// key use counts are kept (both use upsert). Either every connection is stored or none is (a
// cancelled ctx stops the import and stores nothing).
func (s *Store) ImportConnections(ctx context.Context, items []ConnectionImport) ([]string, error) {
	for _, it := range items {
		if it.User.ID == "" {
			return nil, onbehalf.Errorf(onbehalf.EINVALID, "Zoom user has no ID.")
		}
	}
	now := s.now().UTC()
	ids := make([]string, len(items))
	err := s.db.Update(func(tx *bolt.Tx) error {
		for i, it := range items {
			if i%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			c, err := s.upsert(tx, it.User, it.Token, now)
			if err != nil {
				return err
			}
			ids[i] = c.ID
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}
