package swh

import "time"

// Seen is the replay cache of Verify for verifiers of other schemes whose
// signature covers no ID and no time (MeetStream signs the body alone):
// the caller names a delivery by what was signed (a hash of the body) and
// claims it until it could no longer be told apart from a new one. It is
// in memory and per process, as Verify's is, and bounded the same way.
type Seen struct{ c *replayCache }

// NewSeen returns an empty cache.
func NewSeen() *Seen { return &Seen{c: newReplayCache(maxReplayIDs)} }

// Claim remembers id until the given time and reports whether it may be
// used at now (not remembered, or no longer).
func (s *Seen) Claim(id string, until, now time.Time) bool {
	return s.c.claim(id, until, now, "")
}
