package bolt

import (
	"io"

	bbolt "go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the whole database file while the
// store serves: a bbolt read transaction sees one committed state, and
// writers carry on beside it. begin is called first with the copy's size
// in bytes and returns where to write it (an HTTP answer sets its
// Content-Length from it). The tokens in the copy stay sealed with the
// store's keys (the key file beside the database, or
// TOKEN_ENCRYPTION_KEY): a copy is only restorable with them.
func (s *Store) Backup(begin func(size int64) io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(begin(tx.Size()))
		return err
	})
	return n, err
}
