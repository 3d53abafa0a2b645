package onbehalf

import (
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var t0 = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

func newBot() *Bot {
	return &Bot{ID: "bot_1", Status: BotCreated, StatusAt: t0, CreatedAt: t0}
}

// apply applies r at now and checks whether the status changed and what
// it is.
func apply(t *testing.T, b *Bot, r StatusReport, now time.Time, wantChanged bool, want BotStatus) {
	t.Helper()
	n := len(b.Timeline)
	changed, dup := ApplyStatusReport(b, r, now)
	if dup || changed != wantChanged || b.Status != want {
		t.Fatalf("%s (at %v): changed %v dup %v status %s; want changed %v status %s", r.Status, r.At, changed, dup, b.Status, wantChanged, want)
	}
	if len(b.Timeline) != n+1 {
		t.Fatalf("%s: not put on the timeline", r.Status)
	}
}

// TestFinalIsFinal: after done (or failed) no report of any kind moves
// the status, with or without a platform timestamp.
func TestFinalIsFinal(t *testing.T) {
	for _, final := range []BotStatus{BotDone, BotFailed} {
		for _, stamped := range []bool{false, true} {
			b := newBot()
			at := func(d time.Duration) time.Time {
				if stamped {
					return t0.Add(d)
				}
				return time.Time{}
			}
			apply(t, b, StatusReport{EventID: "1", Status: BotInCall, At: at(time.Second)}, t0.Add(time.Second), true, BotInCall)
			apply(t, b, StatusReport{EventID: "2", Status: final, Message: "The meeting ended.", At: at(2 * time.Second)}, t0.Add(2*time.Second), true, final)
			for i, later := range []BotStatus{BotJoining, BotWaiting, BotInCall, BotCreated, BotDone, BotFailed, "unknown"} {
				if later == final {
					continue
				}
				apply(t, b, StatusReport{EventID: "l" + strconv.Itoa(i), Status: later, Message: "later", At: at(time.Hour)}, t0.Add(time.Hour), false, final)
			}
			if b.StatusReason != "The meeting ended." || !b.StatusAt.Equal(t0.Add(2*time.Second)) {
				t.Fatalf("final bot moved: %+v", b)
			}
			// A served token fetch does not revive it either.
			if ApplyTokenFetch(b, TokenFetch{Kind: KindOBF, HTTPStatus: 200, At: t0.Add(2 * time.Hour)}, t0.Add(2*time.Hour)) || b.Status != final {
				t.Fatalf("token fetch moved a %s bot to %s", final, b.Status)
			}
		}
	}
}

// TestDoneThenJoiningStaysDone is the reported case: done, then a late
// joining without a timestamp.
func TestDoneThenJoiningStaysDone(t *testing.T) {
	b := newBot()
	apply(t, b, StatusReport{Status: BotDone}, t0.Add(time.Minute), true, BotDone)
	apply(t, b, StatusReport{Status: BotJoining}, t0.Add(2*time.Minute), false, BotDone)
}

// TestFinalEndsWhateverItsTime: a final report whose platform time is
// before the current status still ends the bot.
func TestFinalEndsWhateverItsTime(t *testing.T) {
	b := newBot()
	apply(t, b, StatusReport{EventID: "1", Status: BotInCall, At: t0.Add(time.Minute)}, t0.Add(time.Minute), true, BotInCall)
	apply(t, b, StatusReport{EventID: "2", Status: BotFailed, At: t0.Add(30 * time.Second)}, t0.Add(2*time.Minute), true, BotFailed)
}

// TestUnstampedNeverBackwards: without platform timestamps the order of
// arrival decides, but never backwards; with them, the platform's clock
// decides.
func TestUnstampedNeverBackwards(t *testing.T) {
	b := newBot()
	now := t0
	next := func() time.Time { now = now.Add(time.Second); return now }
	apply(t, b, StatusReport{Status: BotJoining}, next(), true, BotJoining)
	apply(t, b, StatusReport{Status: BotInCall, Message: "recording"}, next(), true, BotInCall)
	apply(t, b, StatusReport{Status: BotJoining}, next(), false, BotInCall)
	apply(t, b, StatusReport{Status: BotWaiting}, next(), false, BotInCall)
	apply(t, b, StatusReport{Status: BotInCall, Message: "not recording"}, next(), true, BotInCall) // same rank: arrival decides
	if b.StatusReason != "not recording" {
		t.Fatalf("reason %q", b.StatusReason)
	}
	// With timestamps the platform's clock orders them: a bot put back
	// into the waiting room after it was in the call.
	apply(t, b, StatusReport{EventID: "w", Status: BotWaiting, At: next()}, now, true, BotWaiting)
	apply(t, b, StatusReport{EventID: "old", Status: BotJoining, At: t0}, next(), false, BotWaiting) // older than the status
}

// TestMessagesClipped: a 60 KB message is stored clipped, on a character
// boundary, on the timeline and as the status reason.
func TestMessagesClipped(t *testing.T) {
	b := newBot()
	long := "x" + strings.Repeat("é", 30<<10) // 60 KB, the cut falls inside an é
	apply(t, b, StatusReport{Status: BotFailed, Message: long}, t0.Add(time.Second), true, BotFailed)
	ApplyTokenFetch(b, TokenFetch{Kind: KindOBF, HTTPStatus: 502, Message: long, At: t0.Add(2 * time.Second)}, t0.Add(2*time.Second))
	for _, m := range []string{b.StatusReason, b.Timeline[0].Message, b.Timeline[1].Message} {
		if len(m) > MaxTimelineMessage+len("…") || len(m) < MaxTimelineMessage-4 || !utf8.ValidString(m) || !strings.HasPrefix(long, strings.TrimSuffix(m, "…")) {
			t.Fatalf("message of %d bytes, valid %v", len(m), utf8.ValidString(m))
		}
	}
	// The same long message again is the same fetch: counted, not added.
	ApplyTokenFetch(b, TokenFetch{Kind: KindOBF, HTTPStatus: 502, Message: long, At: t0.Add(3 * time.Second)}, t0.Add(3*time.Second))
	if len(b.Timeline) != 2 || b.Timeline[1].Count != 2 {
		t.Fatalf("timeline %d entries, count %d", len(b.Timeline), b.Timeline[1].Count)
	}
}

// TestEvictionKeepsFirstAndFinal: 300 distinct reports keep the first
// entry and the final report; the timeline stays bounded even under a
// flood of final reports.
func TestEvictionKeepsFirstAndFinal(t *testing.T) {
	b := newBot()
	apply(t, b, StatusReport{EventID: "first", Status: BotJoining, At: t0.Add(time.Second)}, t0, true, BotJoining)
	apply(t, b, StatusReport{EventID: "end", Status: BotDone, Message: "The meeting ended.", At: t0.Add(2 * time.Second)}, t0, true, BotDone)
	for i := range 300 {
		at := t0.Add(time.Duration(3+i) * time.Second)
		ApplyStatusReport(b, StatusReport{EventID: "r" + strconv.Itoa(i), Status: BotInCall, At: at}, at)
	}
	if len(b.Timeline) != MaxTimeline {
		t.Fatalf("timeline has %d entries, want %d", len(b.Timeline), MaxTimeline)
	}
	if b.Timeline[0].EventID != "first" || b.Timeline[1].EventID != "end" || b.Timeline[MaxTimeline-1].EventID != "r299" {
		t.Fatalf("kept %s, %s … %s", b.Timeline[0].EventID, b.Timeline[1].EventID, b.Timeline[MaxTimeline-1].EventID)
	}
	// More final reports than the timeline holds: still bounded, the first
	// entry still there.
	for i := range MaxTimeline + 50 {
		at := t0.Add(time.Hour + time.Duration(i)*time.Second)
		ApplyStatusReport(b, StatusReport{EventID: "f" + strconv.Itoa(i), Status: BotFailed, At: at}, at)
	}
	if len(b.Timeline) != MaxTimeline || b.Timeline[0].EventID != "first" || b.Status != BotDone {
		t.Fatalf("after a flood: %d entries, first %s, status %s", len(b.Timeline), b.Timeline[0].EventID, b.Status)
	}
}
