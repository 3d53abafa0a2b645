package onbehalf

import "time"

// ApplyStatusReport puts a platform's status report on b's timeline and
// moves b's status to it when it is the latest by the platform's clock.
// A report seen before (same event ID, or same status, codes and time) is
// a duplicate and changes nothing. It reports whether b's status or reason
// changed. Every store calls it inside its write transaction, so that the
// rule is the same everywhere.
func ApplyStatusReport(b *Bot, r StatusReport, now time.Time) (changed, dup bool) {
	at := r.At
	if at.IsZero() {
		at = now
	}
	at = at.UTC()
	for _, e := range b.Timeline {
		if e.Type != BotEventStatus {
			continue
		}
		if (r.EventID != "" && e.EventID == r.EventID) ||
			(e.Status == r.Status && e.Code == r.Code && e.SubCode == r.SubCode && e.At.Equal(at)) {
			return false, true
		}
	}
	b.addEvent(BotEvent{At: at, Type: BotEventStatus, Status: r.Status, Code: r.Code, SubCode: r.SubCode, EventID: r.EventID, Message: r.Message})
	b.UpdatedAt = now.UTC()
	if at.Before(b.StatusAt) {
		return false, false // out of order: kept on the timeline only
	}
	if b.Status == r.Status && b.StatusReason == r.Message {
		b.StatusAt = at
		return false, false
	}
	b.Status, b.StatusReason, b.StatusAt = r.Status, r.Message, at
	return true, false
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
	b.addFetch(BotEvent{At: at, Type: BotEventToken, Kind: f.Kind, HTTPStatus: f.HTTPStatus, Message: f.Message})
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
// same fetch (kind, answer, reason) no later than e, e is counted in it.
func (b *Bot) addFetch(e BotEvent) {
	if n := len(b.Timeline); n > 0 {
		last := &b.Timeline[n-1]
		if last.Type == BotEventToken && last.Kind == e.Kind && last.HTTPStatus == e.HTTPStatus &&
			last.Message == e.Message && !e.At.Before(last.At) && !e.At.Before(last.LastAt) {
			last.Count = max(last.Count, 1) + 1
			last.LastAt = e.At
			return
		}
	}
	b.addEvent(e)
}

// addEvent appends e to the timeline, in time order, keeping at most
// MaxTimeline entries.
func (b *Bot) addEvent(e BotEvent) {
	i := len(b.Timeline)
	for i > 0 && b.Timeline[i-1].At.After(e.At) {
		i--
	}
	b.Timeline = append(b.Timeline, BotEvent{})
	copy(b.Timeline[i+1:], b.Timeline[i:])
	b.Timeline[i] = e
	if n := len(b.Timeline) - MaxTimeline; n > 0 {
		b.Timeline = append(b.Timeline[:0], b.Timeline[n:]...)
	}
}
