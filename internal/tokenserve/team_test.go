package tokenserve_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/tokenserve"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
)

// consents says yes for the connections in yes, towards any anchor, and
// keeps every question asked.
type consents struct {
	mu    sync.Mutex
	yes   map[string]bool
	asked []string
}

func (c *consents) CheckTeammate(_ context.Context, first, id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked = append(c.asked, first+">"+id)
	if !c.yes[id] {
		return onbehalf.Errorf(onbehalf.EFORBIDDEN, "no yes")
	}
	return nil
}

// TestTeammateAnchor: a teammates URL of a relayed bot (one candidate, a
// teammate of the sender) asks that teammate's yes towards the sender at
// each fetch, so that withdrawing it stops the next fetch; a bot sent by
// the first candidate asks only of the others.
func TestTeammateAnchor(t *testing.T) {
	b := &bots{m: map[string]*onbehalf.Bot{
		"bot_relayed": {ID: "bot_relayed", TeamOf: "sender"},
		"bot_sent":    {ID: "bot_sent", ConnectionIDs: []string{"sender", "c2"}, TeamOf: "sender"},
	}}
	yes := &consents{yes: map[string]bool{"c2": true, "c3": true}}
	s := tokenserve.New(tokenserve.Options{Signer: signer, Minter: &connMinter{}, Recorder: b, Bots: b, Teammates: yes, Now: clockAt()})
	relayed := signer.URL("", route.Path, tokenurl.Params{Platform: "json", Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}, ConnID: "c3",
		MeetingID: "85012345678", BotID: "bot_relayed", Candidates: []string{"c3"}, Teammates: true})
	if code, tok := fetchOBF(t, s, jsonPlatform{}, relayed); code != 200 || tok != "c3-obf" {
		t.Fatalf("relayed bot: %d %q", code, tok)
	}
	yes.mu.Lock()
	yes.yes["c3"] = false // withdrawn
	yes.mu.Unlock()
	if code, _ := fetchOBF(t, s, jsonPlatform{}, relayed); code != 403 {
		t.Fatalf("after the withdrawal: %d, want 403", code)
	}
	sent := signer.URL("", route.Path, tokenurl.Params{Platform: "json", Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}, ConnID: "sender",
		MeetingID: "85012345678", BotID: "bot_sent", Candidates: []string{"sender", "c2"}, Teammates: true})
	if code, tok := fetchOBF(t, s, jsonPlatform{}, sent); code != 200 || tok != "sender-obf" {
		t.Fatalf("sender's own token: %d %q", code, tok)
	}
	yes.mu.Lock()
	defer yes.mu.Unlock()
	for _, q := range yes.asked {
		if q != "sender>c3" {
			t.Fatalf("asked %v, want only the teammate towards the sender", yes.asked)
		}
	}
	if len(yes.asked) != 2 {
		t.Fatalf("asked %v, want two questions", yes.asked)
	}
}

// countingBots counts the bot reads of a request.
type countingBots struct {
	*bots
	mu sync.Mutex
	n  int
}

func (c *countingBots) Bot(ctx context.Context, id string) (*onbehalf.Bot, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.bots.Bot(ctx, id)
}

// TestBotReadOncePerFetch: a fetch of a teammates URL that takes the
// whole list (Attendee) reads its bot once, however many candidates are
// minted and checked.
func TestBotReadOncePerFetch(t *testing.T) {
	b := &countingBots{bots: &bots{m: map[string]*onbehalf.Bot{"bot_t": {ID: "bot_t", ConnectionIDs: three, TeamOf: "c1"}}}}
	yes := &consents{yes: map[string]bool{"c2": true, "c3": true}}
	s := tokenserve.New(tokenserve.Options{Signer: signer, Minter: &connMinter{}, Recorder: b.bots, Bots: b, Teammates: yes, Now: clockAt()})
	u := signer.URL("", route.Path, tokenurl.Params{Platform: "json", Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}, ConnID: "c1",
		MeetingID: "85012345678", BotID: "bot_t", Candidates: three, Teammates: true})
	if code, tok := fetchOBF(t, s, listPlatform{}, u); code != 200 || tok != "c1-obf,c2-obf,c3-obf" {
		t.Fatalf("fetch: %d %q", code, tok)
	}
	if b.n != 1 {
		t.Fatalf("the bot was read %d times in one fetch, want 1", b.n)
	}
}

// TestDisconnectedMessageReads: the reason of a dead connection, quoted
// in the answer and on the timeline, loses its final period inside the
// parentheses (no ".)." for a person to read).
func TestDisconnectedMessageReads(t *testing.T) {
	b := &bots{m: map[string]*onbehalf.Bot{"bot_d": {ID: "bot_d"}}}
	m := &connMinter{fail: map[string]error{"c1": onbehalf.Errorf(onbehalf.EDISCONNECTED, "Zoom refused refreshing the token: invalid_grant (Invalid Token!).")}}
	s := tokenserve.New(tokenserve.Options{Signer: signer, Minter: m, Recorder: b, Bots: b, Now: clockAt()})
	u := signer.URL("", route.Path, tokenurl.Params{Platform: "json", Kinds: []onbehalf.TokenKind{onbehalf.KindOBF}, ConnID: "c1",
		MeetingID: "85012345678", BotID: "bot_d"})
	if code, _ := fetchOBF(t, s, jsonPlatform{}, u); code != 409 {
		t.Fatalf("fetch of a dead connection: %d, want 409", code)
	}
	tl := b.m["bot_d"].Timeline
	if len(tl) != 1 || !strings.Contains(tl[0].Message, "(Zoom refused refreshing the token: invalid_grant (Invalid Token!)). ") || strings.Contains(tl[0].Message, ".).") {
		t.Fatalf("timeline %+v", tl)
	}
}
