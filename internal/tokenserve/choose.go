package tokenserve

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Choosing among candidates. A token URL of several connections (version
// 4) answers each fetch with the OBF token of one of them, because Zoom
// lets a bot in on an OBF token only while the token's user is in the
// meeting:
//
//  1. the candidates Zoom reports in a meeting come first (presence, when
//     the grant holds the optional scope; presence names no meeting, so it
//     only orders), then the others, each group in the URL's order;
//  2. a later fetch by the same bot (the platform is retrying: the user of
//     the token it got was not let in) takes the next candidate in that
//     order not yet tried; when all were tried, a new round starts;
//  3. a candidate whose token cannot be minted (disconnected, deleted,
//     Zoom refused) is skipped, with the reason, and the next is tried in
//     the same fetch;
//  4. a platform that takes a list (onbehalf.TokenListTaker: Attendee) gets every
//     candidate's token at once, in the order of 1, and tries them itself.
//
// Only OBF tokens are chosen; the other kinds a URL serves are the first
// connection's. Every fetch goes on the bot's timeline with whose token it
// got (TokenFetch.ConnectionID) and why (TokenFetch.Why).
//
// Where a bot is in its rounds is kept in memory, by bot (or, for a URL
// made without a bot, by URL and the platform's bot ID), and for a bot
// also read back from its timeline, the newer of the two winning entry by
// entry: with several instances behind a load balancer, a retry that lands
// on another instance still moves on (the timeline is written within a
// fraction of a second, and platforms retry seconds apart). A URL made
// without a bot has no timeline: another instance starts it over at the
// first candidate.

// Presence tells whether Zoom reports a connection's user in a meeting
// (tokens.Manager); known is false when it cannot tell. It must answer
// quickly (cached), and never fails.
type Presence interface {
	InMeeting(ctx context.Context, connID string) (in, known bool)
}

// Teammates checks, at each fetch, a candidate offered as a teammate of
// the URL's first connection (bots.Service): it must still consent. The
// refusal is EFORBIDDEN; the candidate is then skipped.
type Teammates interface {
	CheckTeammate(ctx context.Context, first, id string) error
}

// Bounds of the per-bot rounds kept in memory.
const (
	// roundTTL: a bot that fetched nothing for this long starts over (a
	// platform gives up on a user long before).
	roundTTL = 2 * time.Hour
	// maxRounds bounds the entries kept.
	maxRounds = 10_000
)

// served is one candidate a fetch got (or skipped), at a time.
type served struct {
	conn string
	at   time.Time
}

// rounds keeps, by key, the candidates served to a bot.
type rounds struct {
	mu sync.Mutex
	m  map[string][]served
}

// load returns the candidates served under key, oldest first.
func (r *rounds) load(key string, now time.Time) []served {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.m[key]
	if len(h) > 0 && now.Sub(h[len(h)-1].at) > roundTTL {
		delete(r.m, key)
		return nil
	}
	return slices.Clone(h)
}

// store keeps h under key, at most MaxCandidates*2 entries.
func (r *rounds) store(key string, h []served, now time.Time) {
	if len(h) > 2*onbehalf.MaxCandidates {
		h = h[len(h)-2*onbehalf.MaxCandidates:]
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string][]served{}
	}
	if _, ok := r.m[key]; !ok && len(r.m) >= maxRounds {
		for k, v := range r.m {
			if len(v) == 0 || now.Sub(v[len(v)-1].at) > roundTTL {
				delete(r.m, k)
			}
		}
		if len(r.m) >= maxRounds {
			clear(r.m)
		}
	}
	r.m[key] = h
}

// candidate is a candidate in the order of a fetch, with the reason of its
// place.
type candidate struct {
	id        string
	inMeeting bool
}

// order puts the candidates Zoom reports in a meeting first, each group
// in the URL's order. Presence is asked for every candidate at once.
func (s *Server) order(ctx context.Context, ids []string) []candidate {
	out := make([]candidate, len(ids))
	for i, id := range ids {
		out[i].id = id
	}
	if s.o.Presence != nil {
		var wg sync.WaitGroup
		for i := range out {
			wg.Go(func() { out[i].inMeeting, _ = s.o.Presence.InMeeting(ctx, out[i].id) })
		}
		wg.Wait()
	}
	slices.SortStableFunc(out, func(a, b candidate) int {
		switch {
		case a.inMeeting == b.inMeeting:
			return 0
		case a.inMeeting:
			return -1
		}
		return 1
	})
	return out
}

// next picks the first candidate of order not served in the current round
// of h (a round ends when every candidate was served once). fresh is true
// when a new round starts (or the first).
func next(order []candidate, h []served, exclude map[string]bool) (c candidate, fresh bool, ok bool) {
	tried := currentRound(h, len(order))
	for _, c := range order {
		if !tried[c.id] && !exclude[c.id] {
			return c, len(tried) == 0, true
		}
	}
	for _, c := range order { // all tried: a new round
		if !exclude[c.id] {
			return c, true, true
		}
	}
	return candidate{}, false, false
}

// currentRound replays h in rounds of n candidates and returns those of
// the last, unfinished round.
func currentRound(h []served, n int) map[string]bool {
	tried := map[string]bool{}
	for _, e := range h {
		if len(tried) >= n || tried[e.conn] {
			clear(tried)
		}
		tried[e.conn] = true
	}
	if len(tried) >= n {
		clear(tried)
	}
	return tried
}

// history returns what a bot was served, from memory and, for a bot this
// server knows, from its timeline (another instance may have served it).
func (s *Server) history(req *request, key string, cands []string, now time.Time) []served {
	h := s.rounds.load(key, now)
	b, err := s.lookupBot(req)
	if err != nil {
		return h
	}
	for _, e := range b.Timeline {
		if e.Type != onbehalf.BotEventToken || e.Kind != onbehalf.KindOBF || e.ConnectionID == "" || !slices.Contains(cands, e.ConnectionID) {
			continue
		}
		if !slices.ContainsFunc(h, func(x served) bool { return x.conn == e.ConnectionID && x.at.Equal(e.At) }) {
			h = append(h, served{conn: e.ConnectionID, at: e.At})
		}
	}
	slices.SortStableFunc(h, func(a, b served) int { return a.at.Compare(b.at) })
	return h
}

// chooseOBF serves the OBF token of one candidate (or, to a TokenListTaker,
// of every candidate) and records each fetch with whose token and why.
func (s *Server) chooseOBF(req *request) ([]onbehalf.MintedToken, error) {
	ctx, g := req.r.Context(), req.grant
	order := s.order(ctx, g.Candidates)
	if lt, ok := onbehalf.AsPlatform[onbehalf.TokenListTaker](req.p); ok && lt.TakesTokenList() {
		return s.mintList(req, order)
	}
	key := cmp.Or(g.BotID, req.sig+"\x00"+req.claims.PlatformBotID)
	now := s.o.Now()
	h := s.history(req, key, g.Candidates, now)
	var prev string
	if len(h) > 0 {
		prev = h[len(h)-1].conn
	}
	failed := map[string]bool{}
	var skipped []string
	var firstErr error
	for {
		c, fresh, ok := next(order, h, failed)
		if !ok {
			s.rounds.store(key, h, now)
			return nil, firstErr
		}
		at := s.o.Now()
		h = append(h, served{conn: c.id, at: at})
		tok, err := s.mintFor(req, c.id, onbehalf.KindOBF)
		if err == nil {
			why := reasonFor(c, fresh, prev, len(order))
			if len(skipped) > 0 {
				why += "; skipped " + strings.Join(skipped, "; ")
			}
			s.recordFor(req, c.id, onbehalf.KindOBF, nil, why, at)
			s.rounds.store(key, h, now)
			return []onbehalf.MintedToken{{Kind: onbehalf.KindOBF, Token: tok}}, nil
		}
		s.recordFor(req, c.id, onbehalf.KindOBF, err, "skipped: its token could not be minted", at)
		failed[c.id] = true
		firstErr = cmp.Or(firstErr, err)
		skipped = append(skipped, fmt.Sprintf("%s (%s)", c.id, onbehalf.Clip(onbehalf.ErrorMessage(err), 120)))
		if !skippable(err) {
			s.rounds.store(key, h, now)
			return nil, err
		}
	}
}

// skippable reports whether a candidate's failure lets the same fetch try
// the next one: the candidate cannot serve (disconnected, deleted, Zoom
// refused, its consent withdrawn, its request budget spent). A timeout or an unavailable store is answered, so that the
// platform's retry (which moves on) comes soon.
func skippable(err error) bool {
	switch onbehalf.ErrorCode(err) {
	case onbehalf.EDISCONNECTED, onbehalf.ENOTFOUND, onbehalf.EUPSTREAM, onbehalf.EFORBIDDEN, onbehalf.ETOOMANY:
		return true
	}
	return false
}

// reasonFor says why candidate c was served.
func reasonFor(c candidate, fresh bool, prev string, n int) string {
	switch {
	case c.inMeeting:
		return "Zoom reports this user in a meeting"
	case prev == "":
		return "first choice"
	case fresh:
		return fmt.Sprintf("all %d candidates were tried: starting over", n)
	}
	return "next after " + prev + " (the platform fetched again: that user was not let in)"
}

// mintList mints every candidate's OBF token at once, in order, leaving
// out those that fail; it fails only when none could be minted.
func (s *Server) mintList(req *request, order []candidate) ([]onbehalf.MintedToken, error) {
	toks := make([]string, len(order))
	errs := make([]error, len(order))
	var wg sync.WaitGroup
	for i, c := range order {
		wg.Go(func() { toks[i], errs[i] = s.mintFor(req, c.id, onbehalf.KindOBF) })
	}
	wg.Wait()
	var out []onbehalf.MintedToken
	var firstErr error
	at := s.o.Now()
	for i, c := range order { // failures first: the timeline's newest entry is what the bot got
		if errs[i] != nil {
			firstErr = cmp.Or(firstErr, errs[i])
			s.recordFor(req, c.id, onbehalf.KindOBF, errs[i], "left out of the list: its token could not be minted", at)
		}
	}
	for i, c := range order {
		if errs[i] != nil {
			continue
		}
		why := fmt.Sprintf("token %d of the list the platform tries in turn", len(out)+1)
		if c.inMeeting {
			why += " (Zoom reports this user in a meeting)"
		}
		s.recordFor(req, c.id, onbehalf.KindOBF, nil, why, at)
		out = append(out, onbehalf.MintedToken{Kind: onbehalf.KindOBF, Token: toks[i]})
	}
	if len(out) == 0 {
		return nil, firstErr
	}
	return out, nil
}

// mintMulti serves a URL of several candidates: the OBF token chosen
// among them, the other kinds the first connection's.
func (s *Server) mintMulti(req *request) ([]onbehalf.MintedToken, error) {
	var out []onbehalf.MintedToken
	var firstErr error
	for _, k := range req.grant.Kinds {
		var toks []onbehalf.MintedToken
		var err error
		if k == onbehalf.KindOBF {
			toks, err = s.chooseOBF(req)
		} else {
			var tok string
			tok, err = s.mintFor(req, req.grant.ConnID, k)
			s.recordFor(req, req.grant.ConnID, k, err, "", s.o.Now())
			toks = []onbehalf.MintedToken{{Kind: k, Token: tok}}
		}
		if err != nil {
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		out = append(out, toks...)
	}
	if len(out) == 0 {
		return nil, firstErr
	}
	return out, nil
}
