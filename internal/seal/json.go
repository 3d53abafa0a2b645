package seal

import (
	"encoding/json"
	"fmt"
)

// SealJSON seals v as JSON bound to ad with the current key: the one
// encoding of sealed records both stores and the token manager use.
func (k *Keyring) SealJSON(v any, ad string) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return k.Seal(plain, []byte(ad))
}

// OpenJSON opens a value sealed by SealJSON into v. Its errors name ad
// (a record's place, never a secret).
func (k *Keyring) OpenJSON(sealed, ad string, v any) error {
	plain, err := k.Open(sealed, []byte(ad))
	if err != nil {
		return fmt.Errorf("%s: %w", ad, err)
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return fmt.Errorf("decoding sealed %s: %w", ad, err)
	}
	return nil
}
