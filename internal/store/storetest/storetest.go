// Package storetest is the conformance suite of onbehalf.Store: every
// implementation (bbolt, PostgreSQL) runs it from its own tests, so that
// callers can rely on one behaviour whichever store they get.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, cfg storetest.Config) *storetest.Harness { … })
//	}
//
// The suite uses only the onbehalf.Store interface and the Harness: the
// store's clock, a way to make its writes fail, and a way to close and
// reopen the same database. It never sleeps to order events.
//
// What it expects beyond the interface's comments, so that both stores
// agree: listing cursors are store.EncodeCursor's (anything else is
// EINVALID about "cursor"); a Limit of 0 lists everything; a connection
// moving to another external user drops the metadata it had unless new
// metadata comes with it; a second MarkDisconnected returns the
// connection unchanged with no event; DeliveryDone and DeliveryFailed on a
// delivery that is over change nothing; NoteMinted only moves MintedAt
// forward; connect link IDs are bearer secrets and are not kept in clear.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/clocktest"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Harness is one store under test, as the implementation's open function
// returns it.
type Harness struct {
	// Store is the store under test: open, empty, and its own (no other
	// test sees its data).
	Store onbehalf.Store
	// Clock is the clock the store reads for every time it records or
	// compares (refresh lease expiry included); the suite moves it.
	Clock *clocktest.Clock
	// FailWrites makes every later write of Store fail as if the database
	// had answered err, until it is called with nil. The suite passes
	// syscall.ENOSPC (disk full), syscall.EROFS (read-only) and syscall.EIO;
	// a store on a database server maps them to the server's own failure
	// (PostgreSQL: disk_full, read_only_sql_transaction, io_error). The
	// failure must take the path a real one takes: an ESTORAGE error whose
	// message says "full" (ENOSPC) or "read-only" (EROFS), and Writable
	// saying the same until a write works again.
	FailWrites func(err error)
	// Reopen closes Store and opens the same database again with the same
	// keys, clock and Config, and returns the new store (the suite uses it
	// from then on; the harness closes it at the end of the test).
	Reopen func(t *testing.T) onbehalf.Store
	// Dump, when not nil, returns every byte the database holds (the
	// file, or every row as text), to check that no token or personal data
	// is kept in clear.
	Dump func(t *testing.T) []byte
}

// Config says how the suite wants a store opened.
type Config struct {
	// DeliverEvents: new events are pending delivery (a webhook receiver
	// is configured); otherwise they are only logged.
	DeliverEvents bool
}

// Run runs the whole suite, one subtest at a time; open must return a
// fresh, empty store for each call and close it when the test ends
// (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T, cfg Config) *Harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T, cfg Config) *Harness)
	}{
		{"ConnectCreatesAndRevives", testConnectCreatesAndRevives},
		{"ConnectExternalUserAndMetadata", testConnectExternalUserAndMetadata},
		{"ConnectConcurrentSameUser", testConnectConcurrentSameUser},
		{"ConnectionLookups", testConnectionLookups},
		{"ListConnectionsFilters", testListConnectionsFilters},
		{"ListConnectionsPages", testListConnectionsPages},
		{"ListBadCursor", testListBadCursor},
		{"NoteMinted", testNoteMinted},
		{"CountConnections", testCountConnections},
		{"DeleteConnection", testDeleteConnection},
		{"DeleteByZoomUser", testDeleteByZoomUser},
		{"DeauthorizationBeforeGrant", testDeauthorizationBeforeGrant},
		{"ReplayClaims", testReplayClaims},
		{"Idempotency", testIdempotency},
		{"IdempotentAnswerSealed", testIdempotentAnswerSealed},
		{"UpdateConnection", testUpdateConnection},
		{"TeamConsent", testTeamConsent},
		{"APIKeyUse", testAPIKeyUse},
		{"DueBefore", testDueBefore},
		{"ClaimDue", testClaimDue},
		{"ClaimDueConcurrent", testClaimDueConcurrent},
		{"SaveTokenCompareAndSwap", testSaveTokenCompareAndSwap},
		{"MarkDisconnectedCompareAndSwap", testMarkDisconnectedCompareAndSwap},
		{"RaceReconnectBeforeSaveToken", testRaceReconnectBeforeSaveToken},
		{"RaceReconnectBeforeMarkDisconnected", testRaceReconnectBeforeMarkDisconnected},
		{"RaceDeleteBeforeSaveToken", testRaceDeleteBeforeSaveToken},
		{"ConcurrentSaveTokenOneWins", testConcurrentSaveTokenOneWins},
		{"EventsRecordChanges", testEventsRecordChanges},
		{"EventsAfterPages", testEventsAfterPages},
		{"DeliveriesClaimRetryDone", testDeliveriesClaimRetryDone},
		{"DeliveriesOff", testDeliveriesOff},
		{"AppendEvent", testAppendEvent},
		{"EventSeqAndWatch", testEventSeqAndWatch},
		{"PruneEvents", testPruneEvents},
		{"CreateBotAndLookups", testCreateBotAndLookups},
		{"ListBots", testListBots},
		{"ApplyStatus", testApplyStatus},
		{"RelayLink", testRelayLink},
		{"RecordTokenFetches", testRecordTokenFetches},
		{"APIKeys", testAPIKeys},
		{"ConnectLinks", testConnectLinks},
		{"BindConnectLink", testBindConnectLink},
		{"ConnectLinkByID", testConnectLinkByID},
		{"SecretAndMeta", testSecretAndMeta},
		{"RefreshLease", testRefreshLease},
		{"WriteFailuresAreStorageErrors", testWriteFailuresAreStorageErrors},
		{"FailedWritesChangeNothing", testFailedWritesChangeNothing},
		{"ReopenKeepsEverything", testReopenKeepsEverything},
		{"SealedAtRest", testSealedAtRest},
		{"ImportConnectionsLikeConnect", testImportConnectionsLikeConnect},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// NewClock returns the suite's clock, at 2026-12-01 09:00 UTC: a fixed
// time with no sub-microsecond part, so that a store keeping microseconds
// (PostgreSQL) gives back the times it was given.
func NewClock() *clocktest.Clock {
	return clocktest.New(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
}

var ctx = context.Background()

// zoomUser is a Zoom identity whose personal fields are easy to find in a
// dump.
func zoomUser(id string) onbehalf.ZoomUser {
	return onbehalf.ZoomUser{ID: id, AccountID: "acct-" + id, Email: id + "@example.com", FirstName: "Ada", LastName: "Lovelace"}
}

// pair is a token pair marked n, expiring at exp.
func pair(n string, exp time.Time) onbehalf.Token {
	return onbehalf.Token{AccessToken: "zat_" + n, RefreshToken: "zrt_" + n, Expiry: exp.UTC(), Scope: "user:read:token"}
}

// grant is a fresh grant of Zoom user zu with pair n, valid for an hour
// from the clock's time.
func grant(h *Harness, zu, n string) onbehalf.Authorization {
	return onbehalf.Authorization{User: zoomUser(zu), Token: pair(n, h.Clock.Now().Add(time.Hour))}
}

// connect stores a grant and fails the test on error.
func connect(t *testing.T, st onbehalf.Store, a onbehalf.Authorization) *onbehalf.Connection {
	t.Helper()
	c, _, err := st.Connect(ctx, a)
	if err != nil {
		t.Fatalf("Connect(%s): %v", a.User.ID, err)
	}
	return c
}

// read returns a connection and fails the test on error.
func read(t *testing.T, st onbehalf.Store, id string) *onbehalf.Connection {
	t.Helper()
	c, err := st.Connection(ctx, id)
	if err != nil {
		t.Fatalf("Connection(%s): %v", id, err)
	}
	return c
}

// wantCode fails the test unless err has the given code ("" for nil).
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := onbehalf.ErrorCode(err); got != code {
		t.Fatalf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
}

// lastSeq returns the store's LastEventSeq.
func lastSeq(t *testing.T, st onbehalf.Store) int64 {
	t.Helper()
	n, err := st.LastEventSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// eventsSince returns every event after seq.
func eventsSince(t *testing.T, st onbehalf.Store, seq int64) []onbehalf.Event {
	t.Helper()
	evs, err := st.EventsAfter(ctx, seq, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// onlyEvent returns the one event written since seq, of the given type.
func onlyEvent(t *testing.T, st onbehalf.Store, seq int64, typ string) onbehalf.Event {
	t.Helper()
	evs := eventsSince(t, st, seq)
	if len(evs) != 1 || evs[0].Type != typ {
		t.Fatalf("events since %d: %s, want one %s", seq, eventTypes(evs), typ)
	}
	return evs[0]
}

// noEvents fails the test when an event was written since seq.
func noEvents(t *testing.T, st onbehalf.Store, seq int64, what string) {
	t.Helper()
	if evs := eventsSince(t, st, seq); len(evs) != 0 {
		t.Fatalf("%s wrote events %s, want none", what, eventTypes(evs))
	}
}

// eventTypes lists the types of events, for messages.
func eventTypes(evs []onbehalf.Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, e.Type)
	}
	return "[" + strings.Join(s, " ") + "]"
}

// connData decodes the data of a connection.* event.
func connData(t *testing.T, ev onbehalf.Event) onbehalf.ConnectionEventData {
	t.Helper()
	return eventData[onbehalf.ConnectionEventData](t, ev)
}

// botData decodes the data of a bot.* or token.failed event.
func botData(t *testing.T, ev onbehalf.Event) onbehalf.BotEventData {
	t.Helper()
	return eventData[onbehalf.BotEventData](t, ev)
}

// eventData decodes an event's data.
func eventData[T any](t *testing.T, ev onbehalf.Event) T {
	t.Helper()
	var d T
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		t.Fatalf("event %s data %s: %v", ev.Type, ev.Data, err)
	}
	return d
}

// sameJSON reports whether two JSON values are equal as values.
func sameJSON(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}

// ids returns the IDs of connections, for comparisons.
func ids(cs []*onbehalf.Connection) string {
	var s []string
	for _, c := range cs {
		s = append(s, c.ID)
	}
	return strings.Join(s, ",")
}

// idsOf joins IDs, for comparisons with ids.
func idsOf(cs ...*onbehalf.Connection) string { return ids(cs) }

// eventually polls check until it returns nil or the deadline passes; for
// state a store may settle in the background (a probe).
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
