package seal

import (
	"strings"
	"testing"
)

// TestJSON: a value sealed as JSON opens into its type at its place only,
// and the error names the place, never the value.
func TestJSON(t *testing.T) {
	key, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	type rec struct{ Token string }
	sealed, err := k.SealJSON(rec{Token: "zat_secret"}, "conn:1")
	if err != nil || strings.Contains(sealed, "zat_secret") {
		t.Fatalf("sealed %q, %v", sealed, err)
	}
	var got rec
	if err := k.OpenJSON(sealed, "conn:1", &got); err != nil || got.Token != "zat_secret" {
		t.Fatalf("opened %+v, %v", got, err)
	}
	err = k.OpenJSON(sealed, "conn:2", &got)
	if err == nil || !strings.HasPrefix(err.Error(), "conn:2: ") || strings.Contains(err.Error(), "zat_") {
		t.Fatalf("opened at another place: %v", err)
	}
	notJSON, _ := k.Seal([]byte("not json"), []byte("conn:1"))
	if err := k.OpenJSON(notJSON, "conn:1", &got); err == nil || !strings.Contains(err.Error(), "decoding sealed conn:1") {
		t.Fatalf("not JSON: %v", err)
	}
}
