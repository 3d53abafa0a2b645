package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// newBot is a Recall bot of a connection, as the launch service makes it.
func newBot(connID, platformBotID string) *onbehalf.Bot {
	return &onbehalf.Bot{Platform: "recall", PlatformBotID: platformBotID, ConnectionID: connID,
		MeetingID: "85012345678", BotName: "Notetaker", Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}}
}

// report is a Recall status report.
func report(platformBotID, eventID string, status onbehalf.BotStatus, at time.Time) onbehalf.StatusReport {
	return onbehalf.StatusReport{Platform: "recall", PlatformBotID: platformBotID, EventID: eventID, Status: status,
		Code: "bot." + string(status), At: at}
}

// botIDs joins the IDs of bots, for comparisons.
func botIDs(bs ...*onbehalf.Bot) string {
	var s []string
	for _, b := range bs {
		s = append(s, b.ID)
	}
	return strings.Join(s, ",")
}

// readBot returns a bot and fails the test on error.
func readBot(t *testing.T, st onbehalf.Store, id string) *onbehalf.Bot {
	t.Helper()
	b, err := st.Bot(ctx, id)
	if err != nil {
		t.Fatalf("Bot(%s): %v", id, err)
	}
	return b
}

// withBot opens a store holding one connection and one bot of it.
func withBot(t *testing.T, open func(*testing.T, Config) *Harness) (*Harness, *onbehalf.Connection, *onbehalf.Bot) {
	t.Helper()
	h := open(t, Config{})
	c := connect(t, h.Store, grant(h, "zu1", "1"))
	b := newBot(c.ID, "rb-1")
	if err := h.Store.CreateBot(ctx, b); err != nil {
		t.Fatal(err)
	}
	return h, c, b
}

// testCreateBotAndLookups: a new bot is complete, found both ways, unique,
// and announced.
func testCreateBotAndLookups(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	c := connect(t, st, grant(h, "zu1", "1"))
	seq := lastSeq(t, st)
	t0 := h.Clock.Now()
	b := newBot(c.ID, "rb-1")
	if err := st.CreateBot(ctx, b); err != nil {
		t.Fatal(err)
	}
	if b.ID == "" || b.Status != onbehalf.BotCreated || !b.CreatedAt.Equal(t0) || !b.StatusAt.Equal(t0) || !b.UpdatedAt.Equal(t0) {
		t.Fatalf("created bot %+v", b)
	}
	for _, get := range []func() (*onbehalf.Bot, error){
		func() (*onbehalf.Bot, error) { return st.Bot(ctx, b.ID) },
		func() (*onbehalf.Bot, error) { return st.BotByPlatformID(ctx, "recall", "rb-1") },
	} {
		got, err := get()
		if err != nil || got.ID != b.ID || got.ConnectionID != c.ID || got.MeetingID != b.MeetingID || got.BotName != "Notetaker" ||
			len(got.Kinds) != 1 || got.Kinds[0] != onbehalf.KindOBF || got.Status != onbehalf.BotCreated || !got.CreatedAt.Equal(t0) {
			t.Fatalf("read back %+v %v", got, err)
		}
	}
	d := botData(t, onlyEvent(t, st, seq, onbehalf.EventBotCreated))
	if d.BotID != b.ID || d.ConnectionID != c.ID || d.Platform != "recall" || d.PlatformBotID != "rb-1" || d.Status != onbehalf.BotCreated {
		t.Fatalf("bot.created data %+v", d)
	}
	_, err := st.BotByPlatformID(ctx, "meetstream", "rb-1")
	wantCode(t, "BotByPlatformID on another platform", err, onbehalf.ENOTFOUND)
	_, err = st.Bot(ctx, "nope")
	wantCode(t, "Bot(unknown)", err, onbehalf.ENOTFOUND)

	seq = lastSeq(t, st)
	wantCode(t, "CreateBot with a platform bot ID stored already", st.CreateBot(ctx, newBot(c.ID, "rb-1")), onbehalf.ECONFLICT)
	same := newBot(c.ID, "rb-2")
	same.ID = b.ID
	wantCode(t, "CreateBot with an ID stored already", st.CreateBot(ctx, same), onbehalf.ECONFLICT)
	noEvents(t, st, seq, "refused CreateBots")
	given := newBot(c.ID, "rb-3")
	given.ID = "bot-given-id"
	if err := st.CreateBot(ctx, given); err != nil || readBot(t, st, "bot-given-id").PlatformBotID != "rb-3" {
		t.Fatalf("CreateBot with the caller's ID: %v", err)
	}
}

// testListBots: newest first, filters, and pages stable under inserts.
func testListBots(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{})
	st := h.Store
	c1 := connect(t, st, grant(h, "zu1", "1"))
	c2 := connect(t, st, grant(h, "zu2", "2"))
	mk := func(conn *onbehalf.Connection, platform, pid string) *onbehalf.Bot {
		h.Clock.Advance(time.Second)
		b := newBot(conn.ID, pid)
		b.Platform = platform
		if err := st.CreateBot(ctx, b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	b1, b2, b3 := mk(c1, "recall", "p1"), mk(c2, "recall", "p2"), mk(c1, "attendee", "p3")
	b4, b5 := mk(c1, "recall", "p4"), mk(c2, "attendee", "p5")
	list := func(f onbehalf.BotFilter) ([]*onbehalf.Bot, string) {
		t.Helper()
		got, next, err := st.ListBots(ctx, f)
		if err != nil {
			t.Fatalf("ListBots(%+v): %v", f, err)
		}
		return got, next
	}
	for _, tc := range []struct {
		f    onbehalf.BotFilter
		want string
	}{
		{onbehalf.BotFilter{}, botIDs(b5, b4, b3, b2, b1)},
		{onbehalf.BotFilter{ConnectionID: c1.ID}, botIDs(b4, b3, b1)},
		{onbehalf.BotFilter{Platform: "attendee"}, botIDs(b5, b3)},
		{onbehalf.BotFilter{ConnectionID: c1.ID, Platform: "recall"}, botIDs(b4, b1)},
		{onbehalf.BotFilter{ConnectionID: "none"}, ""},
	} {
		if got, next := list(tc.f); botIDs(got...) != tc.want || next != "" {
			t.Errorf("ListBots(%+v) = %s next %q, want %s", tc.f, botIDs(got...), next, tc.want)
		}
	}
	p1, n1 := list(onbehalf.BotFilter{Limit: 2})
	if botIDs(p1...) != botIDs(b5, b4) || n1 == "" {
		t.Fatalf("page 1: %s %q", botIDs(p1...), n1)
	}
	mk(c1, "recall", "p6") // newer: on no later page
	p2, n2 := list(onbehalf.BotFilter{Limit: 2, Cursor: n1})
	p3, n3 := list(onbehalf.BotFilter{Limit: 2, Cursor: n2})
	if botIDs(p2...) != botIDs(b3, b2) || botIDs(p3...) != botIDs(b1) || n3 != "" {
		t.Fatalf("pages 2 and 3: %s / %s next %q", botIDs(p2...), botIDs(p3...), n3)
	}
	q1, m1 := list(onbehalf.BotFilter{ConnectionID: c1.ID, Limit: 2})
	q2, m2 := list(onbehalf.BotFilter{ConnectionID: c1.ID, Limit: 2, Cursor: m1})
	if len(q1) != 2 || botIDs(q2...) != botIDs(b3, b1) || m2 != "" {
		t.Fatalf("connection pages: %s / %s next %q", botIDs(q1...), botIDs(q2...), m2)
	}
}

// testApplyStatus follows onbehalf.ApplyStatusReport: changes announced,
// duplicates dropped, late reports kept on the timeline only.
func testApplyStatus(t *testing.T, open func(*testing.T, Config) *Harness) {
	h, c, b := withBot(t, open)
	st := h.Store
	_, _, err := st.ApplyStatus(ctx, report("rb-unknown", "x", onbehalf.BotJoining, time.Time{}))
	wantCode(t, "ApplyStatus for an unknown bot", err, onbehalf.ENOTFOUND)

	t0 := h.Clock.Now()
	apply := func(r onbehalf.StatusReport, wantChanged bool, wantStatus onbehalf.BotStatus, wantTimeline int) {
		t.Helper()
		seq := lastSeq(t, st)
		got, changed, err := st.ApplyStatus(ctx, r)
		if err != nil || changed != wantChanged || got.Status != wantStatus || len(got.Timeline) != wantTimeline {
			t.Fatalf("ApplyStatus(%s %s): status %s changed %v timeline %d err %v; want %s %v %d",
				r.Status, r.EventID, got.Status, changed, len(got.Timeline), err, wantStatus, wantChanged, wantTimeline)
		}
		stored := readBot(t, st, b.ID)
		if stored.Status != got.Status || len(stored.Timeline) != len(got.Timeline) || stored.StatusReason != got.StatusReason {
			t.Fatalf("stored %+v, returned %+v", stored, got)
		}
		if !wantChanged {
			noEvents(t, st, seq, "an ApplyStatus that changed no status")
			return
		}
		d := botData(t, onlyEvent(t, st, seq, onbehalf.EventBotStatusChanged))
		if d.BotID != b.ID || d.Status != wantStatus || d.ConnectionID != c.ID {
			t.Fatalf("status_changed data %+v", d)
		}
	}
	apply(report("rb-1", "e1", onbehalf.BotJoining, t0.Add(time.Second)), true, onbehalf.BotJoining, 1)
	apply(report("rb-1", "e1", onbehalf.BotJoining, t0.Add(time.Second)), false, onbehalf.BotJoining, 1) // same event ID
	apply(report("rb-1", "", onbehalf.BotJoining, t0.Add(time.Second)), false, onbehalf.BotJoining, 1)   // same status, code, time
	apply(report("rb-1", "e3", onbehalf.BotInCall, t0.Add(3*time.Second)), true, onbehalf.BotInCall, 2)
	apply(report("rb-1", "e2", onbehalf.BotWaiting, t0.Add(2*time.Second)), false, onbehalf.BotInCall, 3) // late
	done := report("rb-1", "e4", onbehalf.BotDone, t0.Add(4*time.Second))
	done.Message = "The meeting ended."
	apply(done, true, onbehalf.BotDone, 4)
	if got := readBot(t, st, b.ID); got.StatusReason != "The meeting ended." || !got.StatusAt.Equal(t0.Add(4*time.Second)) {
		t.Fatalf("final bot %+v", got)
	}
}

// testRecordTokenFetches: fetches go on their bots' timelines; a served
// fetch moves a new bot to waiting; failures become token.failed; fetches
// of unknown bots are skipped.
func testRecordTokenFetches(t *testing.T, open func(*testing.T, Config) *Harness) {
	h, c, b := withBot(t, open)
	st := h.Store
	seq := lastSeq(t, st)
	now := h.Clock.Advance(time.Second)
	err := st.RecordTokenFetches(ctx, []onbehalf.TokenFetch{
		{ConnectionID: c.ID, BotID: b.ID, Platform: "recall", At: now, Kind: onbehalf.KindOBF, HTTPStatus: 200},
		{ConnectionID: c.ID, BotID: "bot-unknown", Platform: "recall", At: now, Kind: onbehalf.KindOBF, HTTPStatus: 500, Message: "x"},
		{ConnectionID: c.ID, Platform: "meetstream", At: now, Kind: onbehalf.KindZAK, HTTPStatus: 409, Message: "Reconnect at /zoom/oauth."},
		{ConnectionID: c.ID, Platform: "meetstream", At: now, Kind: onbehalf.KindOBF, HTTPStatus: 200},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := readBot(t, st, b.ID)
	if got.Status != onbehalf.BotWaiting || got.StatusReason != onbehalf.WaitingForYou || len(got.Timeline) != 1 ||
		got.Timeline[0].Type != onbehalf.BotEventToken || got.Timeline[0].HTTPStatus != 200 {
		t.Fatalf("bot after a served fetch: %+v", got)
	}
	evs := eventsSince(t, st, seq)
	if eventTypes(evs) != "["+onbehalf.EventBotStatusChanged+" "+onbehalf.EventTokenFailed+"]" {
		t.Fatalf("events %s, want one status change and one token.failed", eventTypes(evs))
	}
	if d := botData(t, evs[0]); d.BotID != b.ID || d.Status != onbehalf.BotWaiting || d.Previous != onbehalf.BotCreated {
		t.Fatalf("status_changed data %+v", d)
	}
	d := botData(t, evs[1])
	if d.ConnectionID != c.ID || d.BotID != "" || d.Kind != onbehalf.KindZAK || d.HTTPStatus != 409 || d.Reason != "Reconnect at /zoom/oauth." || d.Platform != "meetstream" {
		t.Fatalf("token.failed without a bot: %+v", d)
	}

	seq = lastSeq(t, st)
	err = st.RecordTokenFetches(ctx, []onbehalf.TokenFetch{
		{ConnectionID: c.ID, BotID: b.ID, Platform: "recall", At: now.Add(time.Second), Kind: onbehalf.KindOBF, HTTPStatus: 502, Message: "Zoom said 124: Invalid access token."},
	})
	if err != nil {
		t.Fatal(err)
	}
	d = botData(t, onlyEvent(t, st, seq, onbehalf.EventTokenFailed))
	if d.BotID != b.ID || d.PlatformBotID != "rb-1" || d.MeetingID != b.MeetingID || d.HTTPStatus != 502 || d.Kind != onbehalf.KindOBF {
		t.Fatalf("token.failed of a bot: %+v", d)
	}
	if got := readBot(t, st, b.ID); got.Status != onbehalf.BotWaiting || len(got.Timeline) != 2 || got.Timeline[1].Message == "" {
		t.Fatalf("bot after a failed fetch: %+v", got)
	}

	// The same fetch again and again fills one entry: counted, with the
	// time of the last; a different answer starts a new one.
	var again []onbehalf.TokenFetch
	for i := 2; i <= 4; i++ {
		again = append(again, onbehalf.TokenFetch{ConnectionID: c.ID, BotID: b.ID, Platform: "recall", At: now.Add(time.Duration(i) * time.Second),
			Kind: onbehalf.KindOBF, HTTPStatus: 502, Message: "Zoom said 124: Invalid access token."})
	}
	again = append(again, onbehalf.TokenFetch{ConnectionID: c.ID, BotID: b.ID, Platform: "recall", At: now.Add(5 * time.Second), Kind: onbehalf.KindOBF, HTTPStatus: 200})
	if err := st.RecordTokenFetches(ctx, again); err != nil {
		t.Fatal(err)
	}
	got = readBot(t, st, b.ID)
	if len(got.Timeline) != 3 {
		t.Fatalf("timeline after repeated fetches: %+v, want 3 entries", got.Timeline)
	}
	if e := got.Timeline[1]; e.Count != 4 || !e.At.Equal(now.Add(time.Second)) || !e.LastAt.Equal(now.Add(4*time.Second)) {
		t.Fatalf("repeated refusals: count %d, at %v, last %v; want 4, +1s, +4s", e.Count, e.At, e.LastAt)
	}
	if e := got.Timeline[2]; e.HTTPStatus != 200 || e.Count > 1 {
		t.Fatalf("served fetch after refusals: %+v", e)
	}

	seq = lastSeq(t, st)
	if err := st.RecordTokenFetches(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordTokenFetches(ctx, []onbehalf.TokenFetch{{ConnectionID: c.ID, Kind: onbehalf.KindOBF, HTTPStatus: 200}}); err != nil {
		t.Fatal(err)
	}
	noEvents(t, st, seq, "served fetches without a bot")
}

// testRelayLink: a relay report links the bot once (a compare-and-swap)
// and writes its bot.relayed event in the same write; a second relay of
// the same bot changes nothing and writes no event.
func testRelayLink(t *testing.T, open func(*testing.T, Config) *Harness) {
	h, c, b := withBot(t, open)
	st := h.Store
	relay := func(to string) onbehalf.StatusReport {
		ev := onbehalf.NewEvent(onbehalf.EventBotRelayed, h.Clock.Now(), onbehalf.BotEventData{ConnectionID: c.ID, BotID: to, RelayedFrom: b.ID, RelayedTo: to})
		return onbehalf.StatusReport{Platform: "recall", PlatformBotID: "rb-1", RelayTo: to, RelayConnectionID: c.ID,
			EventID: "relay:" + to, At: h.Clock.Now(), RelayEvent: &ev}
	}
	seq := lastSeq(t, st)
	got, changed, err := st.ApplyStatus(ctx, relay("bot_next"))
	if err != nil || changed || got.RelayedTo != "bot_next" {
		t.Fatalf("first relay: relayed to %q, changed %v, err %v", got.RelayedTo, changed, err)
	}
	if d := botData(t, onlyEvent(t, st, seq, onbehalf.EventBotRelayed)); d.BotID != "bot_next" || d.RelayedFrom != b.ID {
		t.Fatalf("bot.relayed data %+v", d)
	}
	seq = lastSeq(t, st)
	got, _, err = st.ApplyStatus(ctx, relay("bot_other"))
	if err != nil || got.RelayedTo != "bot_next" {
		t.Fatalf("second relay: relayed to %q, err %v; want the first kept", got.RelayedTo, err)
	}
	noEvents(t, st, seq, "a relay that lost the compare-and-swap")
	if stored := readBot(t, st, b.ID); stored.RelayedTo != "bot_next" {
		t.Fatalf("stored bot relayed to %q", stored.RelayedTo)
	}
}
