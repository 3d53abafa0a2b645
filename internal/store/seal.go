package store

// Associated data of sealed values: where a value belongs, so that one
// copied to another record does not open. Both stores write the same, so
// that a value means one thing whichever store holds it.

// SecretAD binds a generated secret to its name.
func SecretAD(name string) string { return "meta:" + name }

// LinkAD binds a connect link's metadata to its key.
func LinkAD(key string) string { return "link:" + key }

// EventAD binds an event's data to its ID.
func EventAD(id string) string { return "event:" + id }

// IdemAD binds an idempotent answer (which may hold a person's email and
// name) to its idempotency key.
func IdemAD(key string) string { return "idem:" + key }
