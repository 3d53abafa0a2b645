package attendee

import (
	"strconv"
	"testing"
	"time"
)

func TestLedgerForgets(t *testing.T) {
	l := newLedger()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	k := ledgerKey("bot_a", []byte("sig"))
	finish, err := l.claim(k, now, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	finish(true)
	if _, err := l.claim(k, now.Add(59*time.Minute), now.Add(time.Hour)); err == nil {
		t.Fatal("replay after the window served")
	}
	// Once the URL has expired, the pair is forgotten (the URL refuses it).
	if _, err := l.claim(ledgerKey("bot_b", []byte("sig")), now.Add(61*time.Minute), now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if l.len() != 1 {
		t.Errorf("%d pairs remembered, want 1", l.len())
	}
	// Keys keep bot and signature apart.
	if ledgerKey("ab", []byte("c")) == ledgerKey("a", []byte("bc")) {
		t.Error("ledger keys collide")
	}
}

func TestLedgerIsBounded(t *testing.T) {
	l := newLedger()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for i := range maxLedger + 10 {
		finish, err := l.claim(ledgerKey(strconv.Itoa(i), []byte("s")), now, now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		finish(i%2 == 0)
	}
	if n, q := l.len(), len(l.queue); n > maxLedger || q > maxLedger {
		t.Errorf("%d pairs, queue %d: over %d", n, q, maxLedger)
	}
}

func TestURLExpiry(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	if got := urlExpiry("1800003600", now); !got.Equal(now.Add(time.Hour)) {
		t.Errorf("exp: %v", got)
	}
	for _, exp := range []string{"", "x", "-5", "99999999999999999999", "4000000000"} {
		if got := urlExpiry(exp, now); !got.Equal(now.Add(maxRemember)) {
			t.Errorf("exp %q: %v, want the cap", exp, got)
		}
	}
}
