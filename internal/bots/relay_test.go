package bots_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/bots"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// relayEnv is env with three connected people and a relay bot of the
// three, in the meeting on the first one's token.
type relayEnv struct {
	*env
	conns []string
	bot   *onbehalf.Bot
}

func newRelayEnv(t *testing.T) *relayEnv {
	t.Helper()
	e := &relayEnv{env: newEnv(t, "")}
	e.conns = []string{e.conn.ID}
	ctx := context.Background()
	for _, u := range []string{"zu_2", "zu_3"} {
		c, _, err := e.st.Connect(ctx, onbehalf.Authorization{
			User:  onbehalf.ZoomUser{ID: u, Email: u + "@example.com"},
			Token: onbehalf.Token{AccessToken: "zat", RefreshToken: "zrt_" + u, Expiry: time.Now().Add(time.Hour)},
		})
		if err != nil {
			t.Fatal(err)
		}
		e.conns = append(e.conns, c.ID)
	}
	e.bot = e.storeBot(t, "bot_first", "recall-first", "", true)
	return e
}

// storeBot stores a relay bot of the three people, as Launch would have
// (its platform bot is not on the fake: only relays are).
func (e *relayEnv) storeBot(t *testing.T, id, platformID, from string, relay bool) *onbehalf.Bot {
	t.Helper()
	b := &onbehalf.Bot{ID: id, Platform: "recall", PlatformBotID: platformID, ConnectionID: e.conns[0], ConnectionIDs: e.conns,
		MeetingID: "85012345678", MeetingURL: "https://zoom.us/j/85012345678?pwd=abc", BotName: "Notes", Kinds: []onbehalf.TokenKind{onbehalf.KindOBF},
		Relay: relay, RelayedFrom: from, Status: onbehalf.BotInCall}
	if err := e.st.CreateBot(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	return b
}

// userLeft is the report that b's person left and Zoom removed it.
func userLeft(b *onbehalf.Bot, eventID string) onbehalf.StatusReport {
	return onbehalf.StatusReport{PlatformBotID: b.PlatformBotID, EventID: eventID, Status: onbehalf.BotDone,
		Code: "call_ended", SubCode: "zoom_obf_authorized_user_left", Failure: onbehalf.JoinUserLeft, At: time.Now()}
}

// relayedEvents returns the data of the bot.relayed events written.
func (e *relayEnv) relayedEvents(t *testing.T) []onbehalf.BotEventData {
	t.Helper()
	evs, err := e.st.EventsAfter(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []onbehalf.BotEventData
	for _, ev := range evs {
		if ev.Type != onbehalf.EventBotRelayed {
			continue
		}
		var d onbehalf.BotEventData
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

func TestRelayWhenThePersonLeft(t *testing.T) {
	e := newRelayEnv(t)
	ctx := context.Background()
	if _, err := e.svc.ReceiveStatus(ctx, "recall", []onbehalf.StatusReport{userLeft(e.bot, "evt_left")}, ""); err != nil {
		t.Fatal(err)
	}
	old, _ := e.st.Bot(ctx, e.bot.ID)
	if old.Failure != onbehalf.JoinUserLeft || old.FailureCode != "call_ended/zoom_obf_authorized_user_left" || old.RelayedTo == "" {
		t.Fatalf("old bot: failure %q %q, relayed to %q", old.Failure, old.FailureCode, old.RelayedTo)
	}
	nb, err := e.st.Bot(ctx, old.RelayedTo)
	if err != nil {
		t.Fatal(err)
	}
	if nb.RelayedFrom != old.ID || nb.ConnectionID != e.conns[1] || !nb.Relay || strings.Join(nb.ConnectionIDs, ",") != e.conns[1]+","+e.conns[2] ||
		nb.MeetingID != old.MeetingID || nb.BotName != old.BotName {
		t.Fatalf("new bot %+v", nb)
	}
	created := e.fake.Created()
	if len(created) != 1 || created[0].ID != nb.PlatformBotID || created[0].MeetingURL != "https://zoom.us/j/85012345678?pwd=abc" {
		t.Fatalf("platform got %+v", created)
	}
	for _, u := range created[0].TokenURLs {
		if !strings.Contains(u, "user_id="+e.conns[1]+"&") {
			t.Fatalf("token URL %q is not for the next candidate", u)
		}
	}
	// Both timelines link the bots.
	if last := old.Timeline[len(old.Timeline)-1]; last.Type != onbehalf.BotEventRelay || last.RelayBotID != nb.ID || last.ConnectionID != e.conns[1] {
		t.Fatalf("old timeline ends with %+v", last)
	}
	if first := nb.Timeline[0]; first.Type != onbehalf.BotEventRelay || first.RelayBotID != old.ID {
		t.Fatalf("new timeline starts with %+v", first)
	}
	ev := e.relayedEvents(t)
	if len(ev) != 1 || ev[0].RelayedFrom != old.ID || ev[0].RelayedTo != nb.ID || ev[0].BotID != nb.ID || ev[0].ConnectionID != e.conns[1] {
		t.Fatalf("bot.relayed: %+v", ev)
	}

	// The same webhook again relays nothing more.
	if _, err := e.svc.ReceiveStatus(ctx, "recall", []onbehalf.StatusReport{userLeft(e.bot, "evt_left")}, ""); err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.Created()); n != 1 || len(e.relayedEvents(t)) != 1 {
		t.Fatalf("a redelivery relayed again: %d bots, %d events", n, len(e.relayedEvents(t)))
	}
}

// Two instances get the report at once (a redelivery, another event ID):
// one relay, one new bot, one bot.relayed.
func TestRelayOnceUnderConcurrentReports(t *testing.T) {
	for round := range 5 {
		e := newRelayEnv(t)
		other := &bots.Service{Store: e.st, Platforms: e.svc.Platforms, BaseURL: e.svc.BaseURL, Signer: e.svc.Signer}
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, svc := range []*bots.Service{e.svc, other} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = svc.ReceiveStatus(ctx, "recall", []onbehalf.StatusReport{userLeft(e.bot, "evt_"+string(rune('a'+i)))}, "")
			}()
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("round %d: %v", round, errs)
		}
		created := e.fake.Created()
		removed := 0
		for _, b := range e.fake.Bots() {
			if b.Removed {
				removed++
			}
		}
		if len(created)-removed != 1 || len(e.relayedEvents(t)) != 1 {
			t.Fatalf("round %d: %d bots created (%d removed), %d bot.relayed; want one relay", round, len(created), removed, len(e.relayedEvents(t)))
		}
		old, _ := e.st.Bot(ctx, e.bot.ID)
		if nb, err := e.st.Bot(ctx, old.RelayedTo); err != nil || nb.RelayedFrom != old.ID {
			t.Fatalf("round %d: link %q: %v", round, old.RelayedTo, err)
		}
	}
}

func TestNoRelay(t *testing.T) {
	ctx := context.Background()
	t.Run("not a relay bot", func(t *testing.T) {
		e := newRelayEnv(t)
		b := e.storeBot(t, "bot_plain", "recall-plain", "", false)
		e.svc.ReceiveStatus(ctx, "recall", []onbehalf.StatusReport{userLeft(b, "evt")}, "")
		if n := len(e.fake.Created()); n != 0 {
			t.Fatalf("%d bots sent", n)
		}
	})
	t.Run("another failure", func(t *testing.T) {
		e := newRelayEnv(t)
		r := userLeft(e.bot, "evt")
		r.Failure, r.SubCode = onbehalf.JoinOther, "bot_kicked_from_call"
		e.svc.ReceiveStatus(ctx, "recall", []onbehalf.StatusReport{r}, "")
		if n := len(e.fake.Created()); n != 0 {
			t.Fatalf("%d bots sent", n)
		}
	})
	t.Run("one candidate", func(t *testing.T) {
		e := newRelayEnv(t)
		b := &onbehalf.Bot{ID: "bot_one", Platform: "recall", PlatformBotID: "recall-one", ConnectionID: e.conns[0],
			MeetingID: "85012345678", Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}, Relay: true, Status: onbehalf.BotInCall}
		if err := e.st.CreateBot(ctx, b); err != nil {
			t.Fatal(err)
		}
		e.svc.ReceiveStatus(ctx, "recall", []onbehalf.StatusReport{userLeft(b, "evt")}, "")
		if n := len(e.fake.Created()); n != 0 {
			t.Fatalf("%d bots sent", n)
		}
	})
	t.Run("relayed too often", func(t *testing.T) {
		e := newRelayEnv(t)
		prev := e.bot.ID
		var last *onbehalf.Bot
		for i := range onbehalf.MaxRelays {
			last = e.storeBot(t, "bot_chain"+string(rune('0'+i)), "recall-chain"+string(rune('0'+i)), prev, true)
			prev = last.ID
		}
		e.svc.ReceiveStatus(ctx, "recall", []onbehalf.StatusReport{userLeft(last, "evt")}, "")
		if n := len(e.fake.Created()); n != 0 {
			t.Fatalf("%d bots sent after %d relays", n, onbehalf.MaxRelays)
		}
		got, _ := e.st.Bot(ctx, last.ID)
		if note := got.Timeline[len(got.Timeline)-1]; note.Code != "relay_skipped" {
			t.Fatalf("timeline ends with %+v, want why it was not relayed", note)
		}
	})
}

// A relay the platform refuses is said on the timeline and may be tried
// again by a redelivery of the webhook.
func TestRelayFailureIsRetried(t *testing.T) {
	e := newRelayEnv(t)
	ctx := context.Background()
	e.fake.FailCreate(503, `{"detail":"busy"}`)
	if _, err := e.svc.ReceiveStatus(ctx, "recall", []onbehalf.StatusReport{userLeft(e.bot, "evt_left")}, ""); err != nil {
		t.Fatal(err)
	}
	old, _ := e.st.Bot(ctx, e.bot.ID)
	if note := old.Timeline[len(old.Timeline)-1]; old.RelayedTo != "" || note.Code != "relay_failed" {
		t.Fatalf("relayed to %q, timeline ends with %+v", old.RelayedTo, note)
	}
	if _, err := e.svc.ReceiveStatus(ctx, "recall", []onbehalf.StatusReport{userLeft(e.bot, "evt_left")}, ""); err != nil {
		t.Fatal(err)
	}
	if old, _ = e.st.Bot(ctx, e.bot.ID); old.RelayedTo == "" || len(e.fake.Created()) != 1 {
		t.Fatalf("the redelivery did not relay: %q, %d bots", old.RelayedTo, len(e.fake.Created()))
	}
}

// The next candidate is the one after whose token the bot last got (its
// token fetches say), wrapping round, never the one who left.
func TestRelayAfterTheConnectionUsed(t *testing.T) {
	e := newRelayEnv(t)
	ctx := context.Background()
	if err := e.st.RecordTokenFetches(ctx, []onbehalf.TokenFetch{{BotID: e.bot.ID, Platform: "recall", ConnectionID: e.conns[1],
		Kind: onbehalf.KindOBF, HTTPStatus: 200, Why: "in a meeting", At: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ReceiveStatus(ctx, "recall", []onbehalf.StatusReport{userLeft(e.bot, "evt_left")}, ""); err != nil {
		t.Fatal(err)
	}
	old, _ := e.st.Bot(ctx, e.bot.ID)
	nb, err := e.st.Bot(ctx, old.RelayedTo)
	if err != nil {
		t.Fatal(err)
	}
	if nb.ConnectionID != e.conns[2] || strings.Join(nb.ConnectionIDs, ",") != e.conns[2]+","+e.conns[0] {
		t.Fatalf("relayed to %s with candidates %v; want %s then %s", nb.ConnectionID, nb.ConnectionIDs, e.conns[2], e.conns[0])
	}
}

// A relay to a teammate lends only the teammate's OBF token: a bot sent
// with the sender's ZAK and host join token is relayed with OBF alone.
func TestRelayLendsOnlyTheOBFToken(t *testing.T) {
	e := newRelayEnv(t)
	e.svc.AllowZAK = true
	ctx := context.Background()
	b := &onbehalf.Bot{ID: "bot_kinds", Platform: "recall", PlatformBotID: "recall-kinds", ConnectionID: e.conns[0], ConnectionIDs: e.conns,
		MeetingID: "85012345678", MeetingURL: "https://zoom.us/j/85012345678", BotName: "Notes",
		Kinds: []onbehalf.TokenKind{onbehalf.KindOBF, onbehalf.KindZAK, onbehalf.KindJoin}, Relay: true, Status: onbehalf.BotInCall}
	if err := e.st.CreateBot(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ReceiveStatus(ctx, "recall", []onbehalf.StatusReport{userLeft(b, "evt_kinds")}, ""); err != nil {
		t.Fatal(err)
	}
	old, _ := e.st.Bot(ctx, b.ID)
	nb, err := e.st.Bot(ctx, old.RelayedTo)
	if err != nil {
		t.Fatalf("not relayed: %v (%+v)", err, old.Timeline)
	}
	if len(nb.Kinds) != 1 || nb.Kinds[0] != onbehalf.KindOBF {
		t.Fatalf("the bot relayed to a teammate gets %v", nb.Kinds)
	}
	created := e.fake.Created()
	if urls := created[len(created)-1].TokenURLs; len(urls) != 1 || urls[onbehalf.KindOBF] == "" {
		t.Fatalf("the platform got token URLs %v", urls)
	}
}
