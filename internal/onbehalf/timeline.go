package onbehalf

import "time"

// MaxTimelineMessage bounds the message of a timeline entry (and a bot's
// status reason), in bytes: a platform's error text can be any size, and
// a bot's record is read and written whole on every report.
const MaxTimelineMessage = 2 << 10

// ApplyStatusReport puts a platform's status report on b's timeline and
// says whether it moves b's status. A report seen before (same event ID,
// or same status, codes and time) is a duplicate and changes nothing. The
// rules, the same in every store (each calls this inside its write
// transaction):
//
//   - A final status (done, failed) is final: any later report, with or
//     without a timestamp, goes on the timeline only.
//   - A final report ends a bot that is not final yet, whatever its time.
//   - A report with the platform's timestamp moves the status when it is
//     not older than the current status (the platform's clock orders them).
//   - A report without a timestamp is ordered by arrival, but never moves
//     the status backwards (statusRank): a joining after in_call is kept
//     on the timeline only.
//   - A report that moves the status sets b's Failure and FailureCode
//     from the report (a report without a failure clears them), so that
//     they always say why the current status came.
//
// A report with RelayTo set is not the platform's: it is this server's
// relay of b (see StatusReport.RelayTo) and follows applyRelay's rules.
//
// It reports whether b's status or reason changed.
func ApplyStatusReport(b *Bot, r StatusReport, now time.Time) (changed, dup bool) {
	if r.RelayTo != "" {
		return applyRelay(b, r, now)
	}
	stamped := !r.At.IsZero()
	at := r.At
	if !stamped {
		at = now
	}
	at = at.UTC()
	msg := Clip(r.Message, MaxTimelineMessage)
	for _, e := range b.Timeline {
		if e.Type != BotEventStatus {
			continue
		}
		if (r.EventID != "" && e.EventID == r.EventID) ||
			(e.Status == r.Status && e.Code == r.Code && e.SubCode == r.SubCode && e.At.Equal(at)) {
			return false, true
		}
	}
	b.addEvent(BotEvent{At: at, Type: BotEventStatus, Status: r.Status, Code: r.Code, SubCode: r.SubCode, EventID: r.EventID, Failure: r.Failure, Message: msg})
	b.UpdatedAt = now.UTC()
	switch {
	case b.Status.Final():
		return false, false // final: kept on the timeline only
	case r.Status.Final():
		// ends the bot, even if its time is before the current status's
	case stamped && at.Before(b.StatusAt):
		return false, false // out of order: kept on the timeline only
	case !stamped && statusRank(r.Status) < statusRank(b.Status):
		return false, false // backwards without a timestamp: timeline only
	}
	b.Failure, b.FailureCode = r.Failure, failureCode(r)
	if b.Status == r.Status && b.StatusReason == msg {
		b.StatusAt = at
		return false, false
	}
	b.Status, b.StatusReason, b.StatusAt = r.Status, msg, at
	return true, false
}

// failureCode is the raw code kept beside a report's failure: the
// platform's code and sub-code ("fatal/zoom_obf_token_invalid"), "" when
// the report names no failure.
func failureCode(r StatusReport) string {
	switch {
	case r.Failure == "":
		return ""
	case r.SubCode == "":
		return r.Code
	case r.Code == "":
		return r.SubCode
	}
	return r.Code + "/" + r.SubCode
}

// applyRelay links b to the bot that replaces it (r.RelayTo): a
// compare-and-swap inside the store's write, so that of several
// instances relaying b at once only one wins. When b has no RelayedTo
// yet it is set and the relay goes on the timeline (changed is false:
// the status does not move); when b already has one, the report is a
// duplicate and changes nothing, and the caller, reading b back, sees
// which relay won.
func applyRelay(b *Bot, r StatusReport, now time.Time) (changed, dup bool) {
	if b.RelayedTo != "" {
		return false, true
	}
	at := r.At
	if at.IsZero() {
		at = now
	}
	b.RelayedTo = r.RelayTo
	b.addEvent(BotEvent{At: at.UTC(), Type: BotEventRelay, RelayBotID: r.RelayTo, ConnectionID: r.RelayConnectionID,
		EventID: r.EventID, Message: Clip(r.Message, MaxTimelineMessage)})
	b.UpdatedAt = now.UTC()
	return false, false
}

// statusRank orders statuses as a bot goes through them; final statuses
// rank highest. A status outside the vocabulary ranks lowest.
func statusRank(s BotStatus) int {
	switch s {
	case BotCreated:
		return 1
	case BotJoining:
		return 2
	case BotWaiting:
		return 3
	case BotInCall:
		return 4
	case BotDone, BotFailed:
		return 5
	}
	return 0
}

// ApplyTokenFetch puts a token fetch on b's timeline. A served fetch tells
// that the bot is about to join: a bot not yet further than joining is
// then waiting for its person. It reports whether b's status changed.
func ApplyTokenFetch(b *Bot, f TokenFetch, now time.Time) (changed bool) {
	at := f.At
	if at.IsZero() {
		at = now
	}
	at = at.UTC()
	e := BotEvent{At: at, Type: BotEventToken, Kind: f.Kind, HTTPStatus: f.HTTPStatus, Message: Clip(f.Message, MaxTimelineMessage)}
	if f.Why != "" || len(b.ConnectionIDs) > 1 {
		// Whose token, among several candidates, and why that one (what
		// a relay reads to pick the next).
		e.ConnectionID, e.Why = f.ConnectionID, Clip(f.Why, MaxTimelineMessage)
	}
	b.addFetch(e)
	b.UpdatedAt = now.UTC()
	if f.HTTPStatus/100 != 2 || at.Before(b.StatusAt) {
		return false
	}
	if b.Status != BotCreated && b.Status != BotJoining {
		return false
	}
	b.Status, b.StatusReason, b.StatusAt = BotWaiting, WaitingForYou, at
	return true
}

// WaitingForYou is the reason of a bot that fetched its token: with an OBF
// token it can only join while its person is in the meeting.
const WaitingForYou = "The bot got its token and is joining: it can only get in while you are in the meeting."

// addFetch puts token fetch e on the timeline: when the newest entry is the
// same fetch (kind, answer, reason, connection) no later than e, e is
// counted in it.
func (b *Bot) addFetch(e BotEvent) {
	if n := len(b.Timeline); n > 0 {
		last := &b.Timeline[n-1]
		if last.Type == BotEventToken && last.Kind == e.Kind && last.HTTPStatus == e.HTTPStatus &&
			last.Message == e.Message && last.ConnectionID == e.ConnectionID && last.Why == e.Why &&
			!e.At.Before(last.At) && !e.At.Before(last.LastAt) {
			last.Count = max(last.Count, 1) + 1
			last.LastAt = e.At
			return
		}
	}
	b.addEvent(e)
}

// addEvent inserts e into the timeline, in time order, then evicts.
func (b *Bot) addEvent(e BotEvent) {
	i := len(b.Timeline)
	for i > 0 && b.Timeline[i-1].At.After(e.At) {
		i--
	}
	b.Timeline = append(b.Timeline, BotEvent{})
	copy(b.Timeline[i+1:], b.Timeline[i:])
	b.Timeline[i] = e
	b.evict()
}

// evict keeps at most MaxTimeline entries. It drops the oldest entries
// but keeps the first (how the bot started) and the final status reports
// (how it ended); only a flood of final reports, more than the timeline
// holds, drops the oldest of those too.
func (b *Bot) evict() {
	excess := len(b.Timeline) - MaxTimeline
	if excess <= 0 {
		return
	}
	n := len(b.Timeline)
	kept := b.Timeline[:1] // filtered in place: kept never passes the reader
	for _, e := range b.Timeline[1:] {
		if excess > 0 && !(e.Type == BotEventStatus && e.Status.Final()) {
			excess--
			continue
		}
		kept = append(kept, e)
	}
	if excess > 0 {
		kept = append(kept[:1], kept[1+excess:]...)
	}
	clear(b.Timeline[len(kept):n]) // drop the strings the evicted entries held
	b.Timeline = kept
}
