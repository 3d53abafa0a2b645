package swh

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// The reference vector of Standard Webhooks (and Svix), and one made with
// the reference Go library (standard-webhooks/libraries v0.0.1) for an
// empty body, as Recall sends for GET.
const (
	refSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	refID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	refTS     = 1614265330
	refBody   = `{"test": 2432232314}`
	refSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	refGetID  = "msg_loFOjxBNrRLzqYUf"
	refGetTS  = 1731705121
	refGetSig = "v1,Wgi9CsDZXW+smmM5daNSOOiP608BBvRmpGX7zD+S/eA="
)

func recallHeaders(id string, ts int64, sig string) http.Header {
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	h.Set("webhook-signature", sig)
	return h
}

// signRecall signs like Recall: "v1," + base64(HMAC(key, id.ts.body)).
func signRecall(key []byte, id, ts string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestRecallVerifierReferenceVectors(t *testing.T) {
	v, err := New("Recall.ai", "RECALL_VERIFICATION_SECRET", refSecret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(recallHeaders(refID, refTS, refSig), []byte(refBody), time.Unix(refTS, 0), "/x"); err != nil {
		t.Fatalf("reference vector: %v", err)
	}
	if _, err := v.Verify(recallHeaders(refGetID, refGetTS, refGetSig), nil, time.Unix(refGetTS+60, 0), "/x"); err != nil {
		t.Fatalf("GET vector: %v", err)
	}
	for _, bad := range []string{"whsec_%%%", "whsec_", ""} {
		if _, err := New("Recall.ai", "RECALL_VERIFICATION_SECRET", bad); err == nil || strings.Contains(err.Error(), "%%%") {
			t.Errorf("secret %q: %v", bad, err)
		}
	}
}

func TestRecallVerifierTable(t *testing.T) {
	v, _ := New("Recall.ai", "RECALL_VERIFICATION_SECRET", refSecret)
	key := v.keys[0]
	now := time.Unix(1_800_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	good := signRecall(key, "msg_1", ts, nil)
	other := signRecall([]byte("another key"), "msg_1", ts, nil)
	at := func(d time.Duration) (string, string) {
		s := strconv.FormatInt(now.Add(d).Unix(), 10)
		return s, signRecall(key, "msg_"+s, s, nil)
	}
	type row struct {
		name        string
		id, ts, sig string
		body        string
		want        string // "" for success
	}
	rows := []row{
		{"good", "msg_1", ts, good, "", ""},
		{"missing id", "", ts, good, "", "Missing Recall.ai signature"},
		{"missing timestamp", "msg_1", "", good, "", "Missing Recall.ai signature"},
		{"missing signature", "msg_1", ts, "", "", "Missing Recall.ai signature"},
		{"other key", "msg_1", ts, other, "", "Bad Recall.ai signature"},
		{"body added", "msg_1", ts, good, "x", "Bad Recall.ai signature"},
		{"id changed", "msg_2", ts, good, "", "Bad Recall.ai signature"},
		{"timestamp changed", "msg_1", strconv.FormatInt(now.Unix()+1, 10), good, "", "Bad Recall.ai signature"},
		{"timestamp leading zero", "msg_1", "0" + ts, good, "", "Bad webhook-timestamp"},
		{"timestamp signed", "msg_1", "+" + ts, good, "", "Bad webhook-timestamp"},
		{"timestamp in ms", "msg_1", ts + "000", good, "", "Stale"},
		{"timestamp huge", "msg_1", strings.Repeat("9", 30), good, "", "Bad webhook-timestamp"},
		{"version v2 only", "msg_1", ts, strings.Replace(good, "v1,", "v2,", 1), "", "Bad Recall.ai signature"},
		{"no comma", "msg_1", ts, strings.Replace(good, "v1,", "v1", 1), "", "Bad Recall.ai signature"},
		{"truncated", "msg_1", ts, good[:len(good)-4], "", "Bad Recall.ai signature"},
		{"one of several", "msg_1", ts, other + " v2,xyz " + good, "", ""},
		{"double spaces", "msg_1", ts, "  " + good + "  ", "", ""},
		{"raw base64", "msg_1", ts, strings.TrimRight(good, "="), "", "Bad Recall.ai signature"},
		{"id too long", strings.Repeat("m", 300), ts, good, "", "Bad webhook-id"},
	}
	for _, d := range []time.Duration{-5 * time.Minute, 5 * time.Minute} {
		s, sig := at(d)
		rows = append(rows, row{"edge " + d.String(), "msg_" + s, s, sig, "", ""})
	}
	for _, d := range []time.Duration{-5*time.Minute - time.Second, 5*time.Minute + time.Second, -time.Hour} {
		s, sig := at(d)
		rows = append(rows, row{"stale " + d.String(), "msg_" + s, s, sig, "", "Stale Recall.ai signature"})
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			v.seen = newReplayCache(10) // fresh, so that rows do not replay each other
			h := http.Header{}
			for k, val := range map[string]string{"webhook-id": r.id, "webhook-timestamp": r.ts, "webhook-signature": r.sig} {
				if val != "" {
					h.Set(k, val)
				}
			}
			_, err := v.Verify(h, []byte(r.body), now, "/x")
			checkUnauthorized(t, err, r.want)
		})
	}
}

func checkUnauthorized(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("want success, got %v", err)
		}
		return
	}
	var e *onbehalf.Error
	if !errors.As(err, &e) || e.Code != onbehalf.EUNAUTHORIZED || !strings.Contains(e.Message, want) {
		t.Fatalf("got %v, want EUNAUTHORIZED containing %q", err, want)
	}
	if strings.Contains(err.Error(), "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") {
		t.Fatal("error holds the secret")
	}
}

func TestRecallReplay(t *testing.T) {
	v, _ := New("Recall.ai", "RECALL_VERIFICATION_SECRET", refSecret)
	now := time.Unix(1_800_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	h := recallHeaders("msg_a", now.Unix(), signRecall(v.keys[0], "msg_a", ts, nil))
	finish, err := v.Verify(h, nil, now, "/obf-callback?user_id=alice")
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(h, nil, now.Add(time.Minute), "/obf-callback?user_id=alice")
	checkUnauthorized(t, err, "Replayed")
	// Released (the request failed): Recall's retry of the same URL
	// passes, once; the same headers on another URL do not.
	finish(false)
	_, err = v.Verify(h, nil, now.Add(90*time.Second), "/obf-callback?user_id=bob")
	checkUnauthorized(t, err, "Replayed")
	fin2, err := v.Verify(h, nil, now.Add(2*time.Minute), "/obf-callback?user_id=alice")
	if err != nil {
		t.Fatalf("retry after release: %v", err)
	}
	fin2(true)
	_, err = v.Verify(h, nil, now.Add(3*time.Minute), "/obf-callback?user_id=alice")
	checkUnauthorized(t, err, "Replayed")
	// Past the window, the timestamp itself is stale.
	_, err = v.Verify(h, nil, now.Add(5*time.Minute+time.Second), "/obf-callback?user_id=alice")
	checkUnauthorized(t, err, "Stale")
	// svix- headers are read as well.
	sv := http.Header{}
	sv.Set("svix-id", "msg_b")
	sv.Set("svix-timestamp", ts)
	sv.Set("svix-signature", signRecall(v.keys[0], "msg_b", ts, nil))
	if _, err := v.Verify(sv, nil, now, "/x"); err != nil {
		t.Fatalf("svix headers: %v", err)
	}
	// Sign is what signRecall computes.
	if Sign(v.keys[0], "msg_b", now, nil) != signRecall(v.keys[0], "msg_b", ts, nil) {
		t.Fatal("Sign disagrees with the specification")
	}
}

func TestSeveralKeys(t *testing.T) {
	other := "whsec_" + "b3RoZXIta2V5LW9mLWEtbGVnYWN5LWVuZHBvaW50"
	v, err := New("Recall.ai", "RECALL_VERIFICATION_SECRET", refSecret, other)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	k, _ := onbehalf.ParseWebhookSecret(other)
	if _, err := v.Verify(recallHeaders("msg_c", now.Unix(), Sign(k, "msg_c", now, nil)), nil, now, "/x"); err != nil {
		t.Fatalf("second key: %v", err)
	}
}

func TestReplayCacheBounded(t *testing.T) {
	r := newReplayCache(100)
	now := time.Unix(1_800_000_000, 0)
	for i := 0; i < 1000; i++ {
		if !r.claim("id"+strconv.Itoa(i), now.Add(5*time.Minute), now, "") {
			t.Fatalf("fresh id %d refused", i)
		}
	}
	if n := r.len(); n > 100 || len(r.queue) > 100 {
		t.Fatalf("holds %d ids, %d claims", n, len(r.queue))
	}
	if r.claim("id999", now.Add(5*time.Minute), now, "") {
		t.Fatal("recent id accepted twice")
	}
	// Expired claims go on the next claim.
	later := now.Add(5*time.Minute + time.Second)
	r.claim("new", later.Add(5*time.Minute), later, "")
	if n := r.len(); n != 1 {
		t.Fatalf("after expiry: %d ids", n)
	}
	// Claim, release, claim again: the stale queue entry does not drop
	// the new claim.
	r.release("new", "")
	r.claim("new", later.Add(6*time.Minute), later, "")
	if r.claim("new", later.Add(6*time.Minute), later.Add(5*time.Minute+time.Second), "") {
		t.Fatal("re-claimed id forgotten with its released predecessor")
	}
}

// FuzzRecallSignature checks that the verifier never panics, fails only
// with EUNAUTHORIZED, and accepts a request only when one v1 entry is the
// HMAC of exactly id.timestamp.body, the timestamp is canonical and within
// 5 minutes, and the ID is new. It also signs the fuzzed request, checks
// that it passes once, and that a replay and a changed body fail.
func FuzzRecallSignature(f *testing.F) {
	f.Add(refID, strconv.Itoa(refTS), refSig, []byte(refBody), int64(0))
	f.Add(refGetID, strconv.Itoa(refGetTS), refGetSig, []byte(nil), int64(-300))
	f.Add("msg", "0", "v1, v1,=== v2,abc", []byte("x"), int64(301))
	f.Add("", "-1", ",,,", []byte{0xff}, int64(1<<40))
	f.Fuzz(func(t *testing.T, id, ts, sigs string, body []byte, offset int64) {
		v, _ := New("Recall.ai", "RECALL_VERIFICATION_SECRET", refSecret)
		sec, _ := strconv.ParseInt(ts, 10, 64)
		now := time.Unix(sec, 0).Add(time.Duration(offset%1000) * time.Second)
		h := http.Header{}
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", ts)
		h.Set("webhook-signature", sigs)
		_, err := v.Verify(h, body, now, "/x")
		if err == nil {
			// Accepted: check it against the specification.
			id, ts, sigs = h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
			n, perr := strconv.ParseInt(ts, 10, 64)
			if perr != nil || strconv.FormatInt(n, 10) != ts || now.Sub(time.Unix(n, 0)).Abs() > 5*time.Minute || len(id) > maxID {
				t.Fatalf("accepted timestamp %q at %d", ts, now.Unix())
			}
			if want := signRecall(v.keys[0], id, ts, body); !strings.Contains(" "+sigs+" ", " "+want+" ") {
				t.Fatalf("accepted %q, want an entry %q", sigs, want)
			}
			if _, err := v.Verify(h, body, now, "/x"); err == nil {
				t.Fatal("replay accepted")
			}
		} else {
			var e *onbehalf.Error
			if !errors.As(err, &e) || e.Code != onbehalf.EUNAUTHORIZED {
				t.Fatalf("error %v is not EUNAUTHORIZED", err)
			}
		}

		// Sign the fuzzed request properly at now: passes once.
		if id = h.Get("webhook-id"); id == "" || len(id) > maxID {
			return
		}
		good := strconv.FormatInt(now.Unix(), 10)
		if now.Unix() < 0 {
			return
		}
		s := recallHeaders(id, now.Unix(), sigs+" "+signRecall(v.keys[0], id, good, body))
		v.seen = newReplayCache(10)
		if _, err := v.Verify(s, body, now, "/x"); err != nil {
			t.Fatalf("signed request refused: %v", err)
		}
		if _, err := v.Verify(s, body, now, "/x"); err == nil {
			t.Fatal("replay accepted")
		}
		v.seen = newReplayCache(10)
		if _, err := v.Verify(s, append(body, '!'), now, "/x"); err == nil {
			t.Fatal("changed body accepted")
		}
	})
}
