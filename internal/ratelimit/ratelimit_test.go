package ratelimit

import (
	"strconv"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestLimiterBurstRefillAndWait(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := New(1, 3, 100) // 1/s, burst 3
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow("a", now); !ok {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	ok, wait := l.Allow("a", now)
	if ok || wait != time.Second {
		t.Fatalf("past the burst: ok=%v wait=%s, want refused for 1s", ok, wait)
	}
	// A refused request takes nothing: still one second to wait.
	if _, wait := l.Allow("a", now); wait != time.Second {
		t.Fatalf("second refusal: wait %s", wait)
	}
	if ok, _ := l.Allow("b", now); !ok {
		t.Fatal("another key is limited too")
	}
	if ok, _ := l.Allow("a", now.Add(999*time.Millisecond)); ok {
		t.Fatal("refilled early")
	}
	if ok, _ := l.Allow("a", now.Add(time.Second)); !ok {
		t.Fatal("not refilled after 1s")
	}
}

func TestLimiterBounded(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := New(1, 30, 1000)
	// Spoofed addresses, each new: the table never exceeds its bound.
	for i := 0; i < 50_000; i++ {
		l.Allow("10.0."+strconv.Itoa(i/256)+"."+strconv.Itoa(i%256), now.Add(time.Duration(i)*time.Microsecond))
	}
	if n := l.Len(); n != 1000 {
		t.Fatalf("holds %d keys, want the bound 1000", n)
	}
	// Entries idle long enough to have refilled are dropped.
	l.Allow("fresh", now.Add(time.Hour))
	if n := l.Len(); n != 1 {
		t.Fatalf("after an idle hour: %d keys", n)
	}
	// A busy key survives a flood of new ones (it is used most recently).
	l = New(rate.Every(time.Hour), 2, 10)
	l.Allow("busy", now)
	l.Allow("busy", now)
	for i := 0; i < 100; i++ {
		l.Allow("k"+strconv.Itoa(i), now)
		if i%5 == 0 {
			if ok, _ := l.Allow("busy", now); ok {
				t.Fatal("busy key was forgotten and got a fresh bucket")
			}
		}
	}
}

func TestIPKey(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7":          "203.0.113.7",
		"::ffff:203.0.113.7":   "203.0.113.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"2001:db8:1:3::1":      "2001:db8:1:3::/64",
		"fe80::1%eth0":         "fe80::/64",
		"not an ip":            "not an ip",
		"":                     "",
	} {
		if got := IPKey(in); got != want {
			t.Errorf("IPKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPerMinute(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	if PerMinute(0, 10) != nil {
		t.Fatal("0 per minute must turn the limit off")
	}
	l := PerMinute(60, 10)
	for i := 0; i < 60; i++ {
		if ok, _ := l.Allow("ip", now); !ok {
			t.Fatalf("request %d of a minute's burst refused", i)
		}
	}
	if ok, wait := l.Allow("ip", now); ok || wait != time.Second {
		t.Fatalf("61st: ok=%v wait=%s", ok, wait)
	}
}
