package seal

import (
	"bytes"
	"strings"
	"testing"
)

func mustKey(t testing.TB) []byte {
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenRotate(t *testing.T) {
	k1, k2 := mustKey(t), mustKey(t)
	old, _ := NewKeyring(k1)
	s1, err := old.Seal([]byte("zrt_secret"), []byte("conn1"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s1, "zrt_secret") || SealedKeyID(s1) != KeyID(k1) {
		t.Fatalf("sealed %q", s1)
	}
	// Rotation: new key first, old after. Old values open; new ones use k2.
	both, _ := NewKeyring(k2, k1)
	if got, err := both.Open(s1, []byte("conn1")); err != nil || string(got) != "zrt_secret" {
		t.Fatalf("open old: %q %v", got, err)
	}
	s2, _ := both.Seal([]byte("zrt_new"), []byte("conn1"))
	if SealedKeyID(s2) != KeyID(k2) || both.Current() != KeyID(k2) {
		t.Fatal("new values must be sealed with the first key")
	}
	// Wrong associated data, wrong key, damaged value.
	if _, err := both.Open(s1, []byte("conn2")); err == nil {
		t.Fatal("opened with the wrong associated data")
	}
	only2, _ := NewKeyring(k2)
	if _, err := only2.Open(s1, []byte("conn1")); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Fatalf("missing key: %v", err)
	}
	bad := s1[:len(s1)-2] + "AA"
	if _, err := old.Open(bad, []byte("conn1")); err == nil {
		t.Fatal("opened a damaged value")
	}
	for _, junk := range []string{"", "nocolon", KeyID(k1) + ":", KeyID(k1) + ":!!!"} {
		if _, err := old.Open(junk, nil); err == nil {
			t.Fatalf("opened %q", junk)
		}
	}
}

func TestNonceIsFresh(t *testing.T) {
	k, _ := NewKeyring(mustKey(t))
	a, _ := k.Seal([]byte("x"), nil)
	b, _ := k.Seal([]byte("x"), nil)
	if a == b {
		t.Fatal("same plaintext sealed twice gives the same value")
	}
}

func TestBadKeys(t *testing.T) {
	if _, err := NewKeyring(); err == nil {
		t.Fatal("empty keyring")
	}
	if _, err := NewKeyring(bytes.Repeat([]byte{1}, 16)); err == nil {
		t.Fatal("short key")
	}
}

func BenchmarkOpen(b *testing.B) {
	k, _ := NewKeyring(mustKey(b))
	s, _ := k.Seal([]byte(`{"access_token":"zat_0123456789abcdef0123456789abcdef","refresh_token":"zrt_0123456789abcdef"}`), []byte("conn"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Open(s, []byte("conn")); err != nil {
			b.Fatal(err)
		}
	}
}
