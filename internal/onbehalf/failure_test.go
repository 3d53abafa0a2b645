package onbehalf

import "testing"

// A report's failure goes on the timeline and, when it moves the status,
// on the bot with the platform's raw code beside it; a later final report
// does not overwrite why the bot ended.
func TestApplyStatusReportKeepsTheFailure(t *testing.T) {
	b := newBot()
	apply(t, b, StatusReport{Status: BotInCall, Code: "in_call_recording", At: t0.Add(1)}, t0, true, BotInCall)
	if b.Failure != "" || b.FailureCode != "" {
		t.Fatalf("in call: failure %q %q, want none", b.Failure, b.FailureCode)
	}
	apply(t, b, StatusReport{Status: BotDone, Code: "call_ended", SubCode: "zoom_obf_authorized_user_left", Failure: JoinUserLeft, At: t0.Add(2)}, t0, true, BotDone)
	if b.Failure != JoinUserLeft || b.FailureCode != "call_ended/zoom_obf_authorized_user_left" {
		t.Fatalf("left: failure %q %q", b.Failure, b.FailureCode)
	}
	if e := b.Timeline[len(b.Timeline)-1]; e.Failure != JoinUserLeft {
		t.Fatalf("timeline entry %+v has no failure", e)
	}
	apply(t, b, StatusReport{Status: BotDone, Code: "done", At: t0.Add(3)}, t0, false, BotDone)
	if b.Failure != JoinUserLeft {
		t.Fatalf("a later final report overwrote the failure: %q", b.Failure)
	}
}

// A relay report is a compare-and-swap on RelayedTo: the first sets it
// and goes on the timeline, any other is a duplicate that changes nothing.
func TestApplyStatusReportRelayOnce(t *testing.T) {
	b := newBot()
	b.Status = BotDone
	changed, dup := ApplyStatusReport(b, StatusReport{RelayTo: "bot_2", RelayConnectionID: "conn_b", Message: "relayed"}, t0)
	if changed || dup || b.RelayedTo != "bot_2" {
		t.Fatalf("first relay: changed %v dup %v relayed_to %q", changed, dup, b.RelayedTo)
	}
	e := b.Timeline[len(b.Timeline)-1]
	if e.Type != BotEventRelay || e.RelayBotID != "bot_2" || e.ConnectionID != "conn_b" {
		t.Fatalf("timeline entry %+v", e)
	}
	n := len(b.Timeline)
	changed, dup = ApplyStatusReport(b, StatusReport{RelayTo: "bot_3", Message: "relayed"}, t0)
	if changed || !dup || b.RelayedTo != "bot_2" || len(b.Timeline) != n {
		t.Fatalf("second relay: changed %v dup %v relayed_to %q, %d entries (want %d)", changed, dup, b.RelayedTo, len(b.Timeline), n)
	}
	if b.Status != BotDone {
		t.Fatalf("a relay moved the status to %s", b.Status)
	}
}

// A bot of several candidates keeps whose token each fetch got; fetches
// of different people are not counted as one.
func TestApplyTokenFetchNamesTheCandidate(t *testing.T) {
	b := newBot()
	b.ConnectionIDs = []string{"conn_a", "conn_b"}
	ApplyTokenFetch(b, TokenFetch{Kind: KindOBF, HTTPStatus: 200, ConnectionID: "conn_a", Why: "first"}, t0.Add(1))
	ApplyTokenFetch(b, TokenFetch{Kind: KindOBF, HTTPStatus: 200, ConnectionID: "conn_b", Why: "next after conn_a"}, t0.Add(2))
	if len(b.Timeline) != 2 || b.Timeline[1].ConnectionID != "conn_b" || b.Timeline[1].Why != "next after conn_a" {
		t.Fatalf("timeline %+v", b.Timeline)
	}
	one := newBot()
	ApplyTokenFetch(one, TokenFetch{Kind: KindOBF, HTTPStatus: 200, ConnectionID: "conn_a"}, t0.Add(1))
	if one.Timeline[0].ConnectionID != "" {
		t.Fatalf("a bot of one connection names it on every fetch: %+v", one.Timeline[0])
	}
}
