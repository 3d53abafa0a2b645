package bots

import (
	"context"
	"fmt"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Candidates: a bot (or a token URL) may name several connections in order
// of preference (connection_ids). Zoom lets a bot in on an OBF token only
// while that token's user is in the meeting, so the token handler serves,
// at each fetch, the OBF token of one of them (tokenserve chooses). Only
// OBF tokens are chosen among candidates: a ZAK or a host join token is
// always the first connection's.

// candidates checks a candidate list: 1 to onbehalf.MaxCandidates
// distinct connections, each connected and able to mint OBF tokens, the
// first also the other kinds. ids empty means the one connection id. It
// returns the connections in order and the kinds the bot gets. A bad
// candidate is an error on field connection_ids[i] (connection_id when the
// list was not given).
func (s *Service) candidates(ctx context.Context, id string, ids []string, kinds []onbehalf.TokenKind) ([]*onbehalf.Connection, []onbehalf.TokenKind, error) {
	if len(ids) == 0 {
		c, kinds, err := s.connection(ctx, id, kinds)
		if err != nil {
			return nil, nil, err
		}
		return []*onbehalf.Connection{c}, kinds, nil
	}
	switch {
	case id != "" && id != ids[0]:
		return nil, nil, onbehalf.FieldError("connection_ids[0]", "connection_ids must start with the connection the request names (%s).", onbehalf.Clip(id, 40))
	case len(ids) > onbehalf.MaxCandidates:
		return nil, nil, onbehalf.FieldError("connection_ids", "Too many connection_ids: %d at most.", onbehalf.MaxCandidates)
	}
	out := make([]*onbehalf.Connection, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	var first []onbehalf.TokenKind
	for i, cid := range ids {
		field := fmt.Sprintf("connection_ids[%d]", i)
		if seen[cid] {
			return nil, nil, onbehalf.FieldError(field, "connection_ids names this connection twice.")
		}
		seen[cid] = true
		want := kinds
		if i > 0 {
			want = []onbehalf.TokenKind{onbehalf.KindOBF} // only OBF tokens are chosen among candidates
		}
		c, k, err := s.connection(ctx, cid, want)
		if err != nil {
			return nil, nil, onField(err, field)
		}
		if i == 0 {
			first = k
		}
		out = append(out, c)
	}
	return out, first, nil
}

// onField puts err on field, so that the error names the candidate that
// is not usable; its code stays (ENOTFOUND, EDISCONNECTED, …).
func onField(err error, field string) error {
	return &onbehalf.Error{Code: onbehalf.ErrorCode(err), Field: field, Message: field + ": " + onbehalf.ErrorMessage(err), Err: err}
}

// candidateIDs returns the IDs of a list of more than one connection, nil
// for one (a bot or URL of one connection keeps the shape it always had).
func candidateIDs(cs []*onbehalf.Connection) []string {
	if len(cs) < 2 {
		return nil
	}
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}
