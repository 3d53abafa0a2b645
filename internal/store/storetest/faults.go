package storetest

import (
	"bytes"
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// testWriteFailuresAreStorageErrors: a write the database cannot make is
// ESTORAGE saying why, Writable says so meanwhile, reads keep working,
// and a write that works again makes the store healthy.
func testWriteFailuresAreStorageErrors(t *testing.T, open func(*testing.T, Config) *Harness) {
	for _, tc := range []struct {
		name string
		err  error
		word string
	}{
		{"DiskFull", syscall.ENOSPC, "full"},
		{"ReadOnly", syscall.EROFS, "read-only"},
		{"IOError", syscall.EIO, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := open(t, Config{})
			st := h.Store
			c := connect(t, st, grant(h, "zu1", "1"))
			seq := lastSeq(t, st)
			h.FailWrites(tc.err)
			_, _, err := st.Connect(ctx, grant(h, "zu2", "2"))
			wantCode(t, "Connect while writes fail", err, onbehalf.ESTORAGE)
			msg := onbehalf.ErrorMessage(err)
			if !strings.Contains(msg, tc.word) || strings.Contains(msg, "zat_") || strings.Contains(msg, "zrt_") {
				t.Fatalf("message %q: want one that says %q and holds no token", msg, tc.word)
			}
			w := st.Writable(ctx)
			wantCode(t, "Writable while writes fail", w, onbehalf.ESTORAGE)
			if onbehalf.ErrorMessage(w) != msg {
				t.Fatalf("Writable says %q, the write said %q", onbehalf.ErrorMessage(w), msg)
			}
			if got := read(t, st, c.ID); got.Token != c.Token {
				t.Fatalf("read while writes fail: %+v", got)
			}
			if err := st.Ping(ctx); err != nil {
				t.Fatalf("Ping while writes fail: %v", err)
			}
			_, err = st.ConnectionByZoomUser(ctx, "zu2")
			wantCode(t, "the failed Connect's connection", err, onbehalf.ENOTFOUND)
			noEvents(t, st, seq, "a failed Connect")

			h.FailWrites(nil)
			if _, err := st.SaveToken(ctx, c.ID, "zrt_1", pair("2", h.Clock.Now().Add(time.Hour))); err != nil {
				t.Fatalf("SaveToken once writes work again: %v", err)
			}
			eventually(t, "Writable once writes work again", func() error { return st.Writable(ctx) })
		})
	}
}

// testFailedWritesChangeNothing: every write method, failing, leaves
// neither its change nor its event.
func testFailedWritesChangeNothing(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{DeliverEvents: true})
	st := h.Store
	a := grant(h, "zu1", "1")
	a.ExternalUserID = "X"
	c := connect(t, st, a)
	c2 := connect(t, st, grant(h, "zu2", "2"))
	b := newBot(c.ID, "rb-1")
	must(t, st.CreateBot(ctx, b))
	must(t, st.CreateAPIKey(ctx, apiKey("k1id", "one")))
	l1 := link(h, "link-one-0123456789abcdef")
	must(t, st.CreateConnectLink(ctx, l1))
	must(t, st.SetMeta(ctx, "m", "v"))
	evs := eventsSince(t, st, 0)
	must(t, st.DeliveryDone(ctx, evs[0].ID, h.Clock.Now()))
	seq := lastSeq(t, st)
	now := h.Clock.Advance(time.Minute)
	exp := now.Add(time.Hour)

	h.FailWrites(syscall.ENOSPC)
	for name, op := range map[string]func() error{
		"Connect(new)":     func() error { _, _, err := st.Connect(ctx, grant(h, "zu3", "3")); return err },
		"Connect(known)":   func() error { _, _, err := st.Connect(ctx, grant(h, "zu1", "9")); return err },
		"SaveToken":        func() error { _, err := st.SaveToken(ctx, c.ID, "zrt_1", pair("9", exp)); return err },
		"MarkDisconnected": func() error { _, err := st.MarkDisconnected(ctx, c.ID, "zrt_1", "x"); return err },
		"DeleteConnection": func() error { _, err := st.DeleteConnection(ctx, c2.ID); return err },
		"DeleteByZoomUser": func() error { _, err := st.DeleteByZoomUser(ctx, "zu2", time.Time{}); return err },
		"NoteMinted":       func() error { return st.NoteMinted(ctx, map[string]time.Time{c.ID: now}) },
		"CreateBot":        func() error { return st.CreateBot(ctx, newBot(c.ID, "rb-2")) },
		"ApplyStatus": func() error {
			_, _, err := st.ApplyStatus(ctx, report("rb-1", "e1", onbehalf.BotJoining, now))
			return err
		},
		"RecordTokenFetches": func() error {
			return st.RecordTokenFetches(ctx, []onbehalf.TokenFetch{{ConnectionID: c.ID, BotID: b.ID, HTTPStatus: 200}})
		},
		"RecordTokenFetches2": func() error {
			return st.RecordTokenFetches(ctx, []onbehalf.TokenFetch{{ConnectionID: c.ID, HTTPStatus: 500}})
		},
		"CreateAPIKey":      func() error { return st.CreateAPIKey(ctx, apiKey("k2id", "two")) },
		"RevokeAPIKey":      func() error { return st.RevokeAPIKey(ctx, "k1id") },
		"CreateConnectLink": func() error { return st.CreateConnectLink(ctx, link(h, "link-two-0123456789abcdef")) },
		"UseConnectLink":    func() error { _, err := st.UseConnectLink(ctx, l1.Secret, now); return err },
		"SetMeta":           func() error { return st.SetMeta(ctx, "m", "w") },
		"Secret": func() error {
			_, err := st.Secret(ctx, "new", func() (string, error) { return "lost", nil })
			return err
		},
		"ClaimDeliveries": func() error { _, err := st.ClaimDeliveries(ctx, now, time.Minute, 10); return err },
		"DeliveryFailed":  func() error { return st.DeliveryFailed(ctx, evs[1].ID, now, now, "x") },
		"DeliveryDone":    func() error { return st.DeliveryDone(ctx, evs[1].ID, now) },
		"PruneEvents":     func() error { _, err := st.PruneEvents(ctx, now.Add(time.Hour)); return err },
	} {
		wantCode(t, name+" while the disk is full", op(), onbehalf.ESTORAGE)
	}
	h.FailWrites(nil)

	if got := read(t, st, c.ID); got.Token != c.Token || !got.Connected() || !got.MintedAt.IsZero() || got.ExternalUserID != "X" {
		t.Fatalf("connection changed by failed writes: %+v", got)
	}
	read(t, st, c2.ID)
	_, err := st.ConnectionByZoomUser(ctx, "zu3")
	wantCode(t, "the failed Connect's connection", err, onbehalf.ENOTFOUND)
	if got := readBot(t, st, b.ID); got.Status != onbehalf.BotCreated || len(got.Timeline) != 0 {
		t.Fatalf("bot changed by failed writes: %+v", got)
	}
	_, err = st.BotByPlatformID(ctx, "recall", "rb-2")
	wantCode(t, "the failed CreateBot's bot", err, onbehalf.ENOTFOUND)
	noEvents(t, st, seq, "failed writes")
	if got := eventsSince(t, st, 0); len(got) != len(evs) {
		t.Fatalf("%d events after failed writes, want %d (nothing pruned)", len(got), len(evs))
	}
	pending(t, st, len(evs)-1)
	if _, err := st.APIKeyByHash(ctx, apiKey("k1id", "").Hash); err != nil {
		t.Fatalf("revoked by a failed write: %v", err)
	}
	_, err = st.APIKeyByHash(ctx, apiKey("k2id", "").Hash)
	wantCode(t, "the failed CreateAPIKey's key", err, onbehalf.ENOTFOUND)
	if got, err := st.ConnectLink(ctx, l1.Secret); err != nil || !got.UsedAt.IsZero() {
		t.Fatalf("link after failed writes: %+v %v", got, err)
	}
	_, err = st.ConnectLink(ctx, "link-two-0123456789abcdef")
	wantCode(t, "the failed CreateConnectLink's link", err, onbehalf.ENOTFOUND)
	if v, _, _ := st.Meta(ctx, "m"); v != "v" {
		t.Fatalf("meta after a failed SetMeta: %q", v)
	}
	if v, _ := st.Secret(ctx, "new", func() (string, error) { return "kept", nil }); v != "kept" {
		t.Fatalf("a secret generated by a failed write survived: %q", v)
	}
	ds, err := st.ClaimDeliveries(ctx, now, time.Minute, 1)
	if err != nil || len(ds) != 1 || ds[0].Event.ID != evs[1].ID || ds[0].Attempts != 0 {
		t.Fatalf("delivery after failed writes: %+v %v", ds, err)
	}
}

// must fails the test on error.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// testReopenKeepsEverything: close and reopen the same database; every
// kind of record, delivery state and secret is still there.
func testReopenKeepsEverything(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{DeliverEvents: true})
	st := h.Store
	a := grant(h, "zu1", "1")
	a.ExternalUserID, a.Metadata = "X", json.RawMessage(`{"plan":"pro"}`)
	c := connect(t, st, a)
	saved, err := st.SaveToken(ctx, c.ID, "zrt_1", pair("2", h.Clock.Now().Add(time.Hour)))
	must(t, err)
	gone := connect(t, st, grant(h, "zu2", "2"))
	_, err = st.MarkDisconnected(ctx, gone.ID, "zrt_2", "revoked")
	must(t, err)
	b := newBot(c.ID, "rb-1")
	must(t, st.CreateBot(ctx, b))
	_, _, err = st.ApplyStatus(ctx, report("rb-1", "e1", onbehalf.BotJoining, h.Clock.Now()))
	must(t, err)
	must(t, st.CreateAPIKey(ctx, apiKey("k1id", "one")))
	must(t, st.CreateConnectLink(ctx, link(h, "link-one-0123456789abcdef")))
	must(t, st.SetMeta(ctx, "m", "v"))
	secret, err := st.Secret(ctx, "obf_callback_secret", func() (string, error) { return "kept-secret", nil })
	must(t, err)
	evs := eventsSince(t, st, 0)
	must(t, st.DeliveryDone(ctx, evs[0].ID, h.Clock.Now()))
	must(t, st.DeliveryFailed(ctx, evs[1].ID, h.Clock.Now(), h.Clock.Now(), "HTTP 500"))
	t0 := h.Clock.Now()

	st = h.Reopen(t)
	if got := read(t, st, c.ID); got.Token != saved.Token || got.Email != "zu1@example.com" || got.ExternalUserID != "X" ||
		!sameJSON(got.Metadata, a.Metadata) || !got.CreatedAt.Equal(c.CreatedAt) {
		t.Fatalf("connection after reopen: %+v", got)
	}
	if got, err := st.ConnectionByZoomUser(ctx, "zu2"); err != nil || got.Connected() || got.DisconnectedReason != "revoked" {
		t.Fatalf("disconnected connection after reopen: %+v %v", got, err)
	}
	if got, _, _ := st.ListConnections(ctx, onbehalf.ConnectionFilter{ExternalUserID: "X"}); ids(got) != c.ID {
		t.Fatalf("external user index after reopen: %s", ids(got))
	}
	if n, _ := st.CountConnections(ctx); n[onbehalf.StateConnected] != 1 || n[onbehalf.StateDisconnected] != 1 {
		t.Fatalf("counts after reopen: %v", n)
	}
	if got, err := st.BotByPlatformID(ctx, "recall", "rb-1"); err != nil || got.Status != onbehalf.BotJoining || len(got.Timeline) != 1 {
		t.Fatalf("bot after reopen: %+v %v", got, err)
	}
	if _, err := st.APIKeyByHash(ctx, apiKey("k1id", "").Hash); err != nil {
		t.Fatalf("API key after reopen: %v", err)
	}
	if _, err := st.UseConnectLink(ctx, "link-one-0123456789abcdef", t0); err != nil {
		t.Fatalf("connect link after reopen: %v", err)
	}
	if v, ok, _ := st.Meta(ctx, "m"); v != "v" || !ok {
		t.Fatalf("meta after reopen: %q", v)
	}
	if v, _ := st.Secret(ctx, "obf_callback_secret", func() (string, error) { return "new", nil }); v != secret {
		t.Fatalf("secret after reopen: %q, want %q", v, secret)
	}
	again := eventsSince(t, st, 0)
	if len(again) != len(evs) || again[2].ID != evs[2].ID || again[2].Seq != evs[2].Seq || string(again[2].Data) != string(evs[2].Data) {
		t.Fatalf("events after reopen: %v, want %v", again, evs)
	}
	pending(t, st, len(evs)-1)
	ds, err := st.ClaimDeliveries(ctx, t0, time.Minute, 1)
	if err != nil || len(ds) != 1 || ds[0].Event.ID != evs[1].ID || ds[0].Attempts != 1 || !ds[0].FirstTried.Equal(t0) {
		t.Fatalf("delivery state after reopen: %+v %v", ds, err)
	}
	connect(t, st, grant(h, "zu3", "3"))
	if last := eventsSince(t, st, evs[len(evs)-1].Seq); len(last) != 1 || last[0].Seq <= evs[len(evs)-1].Seq {
		t.Fatalf("a new event after reopen: %v", last)
	}
}

// testSealedAtRest: no token, personal data, metadata or secret is in
// the database in clear (the external user ID and the Zoom user ID may be:
// they key indexes).
func testSealedAtRest(t *testing.T, open func(*testing.T, Config) *Harness) {
	h := open(t, Config{DeliverEvents: true})
	if h.Dump == nil {
		t.Skip("the harness has no Dump: sealing at rest is not checked")
	}
	st := h.Store
	u := onbehalf.ZoomUser{ID: "zu1", AccountID: "acct-SEALED-7", Email: "ada.sealed@example.com", DisplayName: "Ada Sealedname"}
	tok := onbehalf.Token{AccessToken: "zat_SEALED_ACCESS_0123", RefreshToken: "zrt_SEALED_REFRESH_0123", Expiry: h.Clock.Now().Add(time.Hour)}
	c := connect(t, st, onbehalf.Authorization{User: u, Token: tok, ExternalUserID: "u-1", Metadata: json.RawMessage(`{"note":"METADATA-SEALED-42"}`)})
	rot := onbehalf.Token{AccessToken: "zat_SEALED_ROTATED_0123", RefreshToken: "zrt_SEALED_ROTATED_0123", Expiry: h.Clock.Now().Add(2 * time.Hour)}
	must(t, func() error { _, err := st.SaveToken(ctx, c.ID, tok.RefreshToken, rot); return err }())
	_, err := st.Secret(ctx, "obf_callback_secret", func() (string, error) { return "SECRET-SEALED-VALUE-0123", nil })
	must(t, err)
	l := link(h, "link-sealed-0123456789abcdef")
	l.Metadata = json.RawMessage(`{"note":"LINK-METADATA-SEALED"}`)
	must(t, st.CreateConnectLink(ctx, l))
	if got := read(t, st, c.ID); got.Token != rot || got.Email != u.Email {
		t.Fatalf("read back %+v", got)
	}
	dump := h.Dump(t)
	for _, clear := range []string{tok.AccessToken, tok.RefreshToken, rot.AccessToken, rot.RefreshToken, u.Email, u.DisplayName,
		u.AccountID, "METADATA-SEALED-42", "SECRET-SEALED-VALUE-0123", "LINK-METADATA-SEALED", l.Secret} {
		if bytes.Contains(dump, []byte(clear)) {
			t.Errorf("the database holds %q in clear", clear)
		}
	}
}
