package app_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/logtest"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
)

// v1URL builds a token URL exactly as onbehalf signed them before this
// version: path /obf-callback, HMAC-SHA256 under
// HMAC-SHA256(OBF_CALLBACK_SECRET, "onbehalf token url v1") over the
// length-prefixed "onbehalf-token-url\x00v1\x00" message of (kind,
// connection, meeting, exp).
func v1URL(base, secret, connID, meetingID string, exp time.Time) string {
	k := hmac.New(sha256.New, []byte(secret))
	k.Write([]byte("onbehalf token url v1"))
	m := hmac.New(sha256.New, k.Sum(nil))
	e := strconv.FormatInt(exp.Unix(), 10)
	msg := []byte("onbehalf-token-url\x00v1\x00")
	for _, f := range []string{"obf", connID, meetingID, e} {
		msg = binary.BigEndian.AppendUint32(msg, uint32(len(f)))
		msg = append(msg, f...)
	}
	m.Write(msg)
	return base + "/obf-callback?user_id=" + url.QueryEscape(connID) + "&meeting_id=" + meetingID + "&exp=" + e +
		"&sig=" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// status GETs u on base (its own host replaced) and returns the status.
func status(t *testing.T, base, u string) int {
	t.Helper()
	p, _ := url.Parse(u)
	resp, err := http.Get(base + p.Path + "?" + p.RawQuery)
	if err != nil {
		t.Fatal(err)
	}
	read(resp)
	return resp.StatusCode
}

// TestTokenURLsSurviveUpgradeAndSecretChange: a database that generated
// OBF_CALLBACK_SECRET (as every earlier version did) is opened by this
// version; URLs signed the old way keep working, and so does every signed
// URL after a person sets OBF_CALLBACK_SECRET; the change is logged once.
func TestTokenURLsSurviveUpgradeAndSecretChange(t *testing.T) {
	f := newFakes(t)
	const generated = "generated-by-an-earlier-version-0123456789"
	st, err := bolt.Open(f.env["DB_PATH"], bolt.Options{ReserveBytes: bolt.NoReserve})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Secret(context.Background(), "obf_callback_secret", func() (string, error) { return generated, nil }); err != nil {
		t.Fatal(err)
	}
	st.Close()

	a, stop := startApp(t, f, &logtest.Buffer{})
	signed := walk(t, a.BaseURL(), f)
	connID := mustParse(t, signed).Query().Get("user_id")
	old := v1URL(a.BaseURL(), generated, connID, "85012345678", time.Now().Add(time.Hour))
	plainOld := a.BaseURL() + "/obf-callback?user_id=" + connID + "&meeting_id=85012345678&auth_token=" + generated
	for name, u := range map[string]string{"signed before the upgrade": old, "signed now": signed, "plain": plainOld} {
		if got := status(t, a.BaseURL(), u); got != 200 {
			t.Fatalf("%s: %d", name, got)
		}
	}
	stop()

	// A person sets OBF_CALLBACK_SECRET: signed URLs keep working, old
	// plain URLs stop, and the log says so once.
	const chosen = "a-secret-the-operator-chose-0123456789"
	f.env["OBF_CALLBACK_SECRET"] = chosen
	logs := &logtest.Buffer{}
	a, stop = startApp(t, f, logs)
	for name, u := range map[string]string{"signed before the upgrade": old, "signed by this version": signed,
		"plain with the new secret": strings.Replace(plainOld, generated, chosen, 1)} {
		if got := status(t, a.BaseURL(), u); got != 200 {
			t.Fatalf("after setting OBF_CALLBACK_SECRET, %s: %d", name, got)
		}
	}
	if got := status(t, a.BaseURL(), plainOld); got != 401 {
		t.Fatalf("plain URL with the old secret: %d, want 401", got)
	}
	stop()
	out := logs.String()
	if n := strings.Count(out, "OBF_CALLBACK_SECRET differs"); n != 1 || !strings.Contains(out, "signed token URLs keep working") {
		t.Fatalf("warning logged %d times:\n%s", n, out)
	}
	if strings.Contains(out, chosen) || strings.Contains(out, generated) {
		t.Fatal("the log holds a secret")
	}
	// Started again with the same value: no warning.
	logs = &logtest.Buffer{}
	_, stop = startApp(t, f, logs)
	stop()
	if strings.Contains(logs.String(), "differs") {
		t.Fatal("warned although nothing changed")
	}
}

// TestTokenURLsSignedWithConfiguredSecretSurviveUpgrade: an install that
// set OBF_CALLBACK_SECRET before upgrading signed its URLs with it; they
// keep working after the upgrade, even once the variable changes.
func TestTokenURLsSignedWithConfiguredSecretSurviveUpgrade(t *testing.T) {
	f := newFakes(t)
	const before = "configured-before-the-upgrade-0123456789"
	f.env["OBF_CALLBACK_SECRET"] = before
	a, stop := startApp(t, f, &logtest.Buffer{})
	connID := mustParse(t, walk(t, a.BaseURL(), f)).Query().Get("user_id")
	old := v1URL(a.BaseURL(), before, connID, "85012345678", time.Now().Add(time.Hour))
	if got := status(t, a.BaseURL(), old); got != 200 {
		t.Fatalf("old URL: %d", got)
	}
	stop()
	f.env["OBF_CALLBACK_SECRET"] = "changed-after-the-upgrade-0123456789"
	a, stop = startApp(t, f, &logtest.Buffer{})
	defer stop()
	if got := status(t, a.BaseURL(), old); got != 200 {
		t.Fatalf("old URL after the change: %d", got)
	}
}

// TestListenAddrAndHeadHealthz: LISTEN_ADDR chooses the interface; HEAD
// /healthz answers like GET.
func TestListenAddrAndHeadHealthz(t *testing.T) {
	f := newFakes(t)
	f.env["LISTEN_ADDR"] = "127.0.0.1:0"
	a, _ := startApp(t, f, &logtest.Buffer{})
	if !strings.HasPrefix(a.Addr(), "127.0.0.1:") {
		t.Fatalf("listening on %s", a.Addr())
	}
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		req, _ := http.NewRequest(m, "http://"+a.Addr()+"/healthz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		read(resp)
		if resp.StatusCode != 200 {
			t.Fatalf("%s /healthz: %d", m, resp.StatusCode)
		}
	}
}

func mustParse(t *testing.T, u string) *url.URL {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
