package web_test

// Benchmarks of each platform's token request, in the shape that
// platform's bots send it (every platform's callback through
// the same engine must cost about what Recall's does):
//
//	go test -run='^$' -bench=PlatformCallback -benchmem ./internal/web
//
// Each request runs through the whole Gin engine with the constant Minter
// of bench_test.go, so the figures are the HTTP layer and the adapter:
// reading the platform's claims, its authentication, its reply format.

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/attendee"
	"github.com/onbehalf/onbehalf/internal/platform/attendee/attendeedemo"
	"github.com/onbehalf/onbehalf/internal/platform/meetingbaas"
	"github.com/onbehalf/onbehalf/internal/platform/meetstream"
	"github.com/onbehalf/onbehalf/internal/platform/recall"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
)

// benchBotID is the platform's bot ID the requests name.
const benchBotID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"

// benchPlatformURL returns the path and query of a signed OBF URL of path
// for a bot of platform, as CreateBot hands it to the platform.
func benchPlatformURL(platform, path, connID string) string {
	return benchSigner.URL("", path, tokenurl.Params{Platform: platform, Kinds: []onbehalf.TokenKind{onbehalf.KindOBF},
		ConnID: connID, MeetingID: benchMeetingID, BotID: "bot_bench"})
}

// benchSend runs requests of target through h in a loop, the i-th with
// bodies[i%len] and its headers, and checks each answers 200.
func benchSend(b *testing.B, h http.Handler, method, target string, bodies [][]byte, headers func(i int, hd http.Header)) {
	b.Helper()
	req := httptest.NewRequest(method, benchBase+target, nil)
	req.RemoteAddr = "127.0.0.1:40000"
	req.Header.Set("Content-Type", "application/json")
	w := &benchWriter{h: http.Header{}}
	rd := bytes.NewReader(nil)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		body := bodies[i%len(bodies)]
		rd.Reset(body)
		req.Body, req.ContentLength = io.NopCloser(rd), int64(len(body))
		headers(i, req.Header)
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("request %d: status %d", i, w.status)
		}
		i++
	}
}

// attendeeBodies returns n token requests of distinct Attendee bots, as
// Attendee posts them, and their signatures under key (nil: unsigned).
// Distinct bots, because a signed request is served at most a few times.
func attendeeBodies(n int, key []byte) ([][]byte, []string) {
	bodies, sigs := make([][]byte, n), make([]string, n)
	for i := range bodies {
		v := attendeedemo.Object{
			{Key: "bot_id", Value: fmt.Sprintf("bot_%020d", i)},
			{Key: "bot_metadata", Value: nil},
			{Key: "callback_type", Value: "zoom_tokens"},
			{Key: "meeting_url", Value: "https://us05web.zoom.us/j/" + benchMeetingID + "?pwd=abcDEF123"},
		}
		bodies[i] = attendeedemo.Dumps(v)
		if key != nil {
			sigs[i] = attendeedemo.Sign(key, v)
		}
	}
	return bodies, sigs
}

// BenchmarkPlatformCallback is each platform's token request through the
// whole engine.
func BenchmarkPlatformCallback(b *testing.B) {
	b.Run("recall", func(b *testing.B) {
		h, id := benchEngine(b, false)
		benchServe(b, h, benchPlatformURL(recall.Name, recall.PathOBF, id), http.StatusOK)
	})
	newMeetStream := func(deps platform.Deps) (onbehalf.Platform, error) {
		return meetstream.New(meetstream.Config{APIKey: "mkey", BaseURL: "http://127.0.0.1:9", Timeout: time.Second}, deps)
	}
	b.Run("meetstream/get", func(b *testing.B) {
		h, id := benchEngineFor(b, false, newMeetStream)
		target := benchPlatformURL(meetstream.Name, meetstream.TokenPath, id) + "&meeting_number=" + benchMeetingID
		benchSend(b, h, http.MethodGet, target, [][]byte{nil}, func(_ int, hd http.Header) { hd.Set(meetstream.HeaderBotID, benchBotID) })
	})
	b.Run("meetstream/post", func(b *testing.B) {
		h, id := benchEngineFor(b, false, newMeetStream)
		body := []byte(`{"bot_id": "` + benchBotID + `", "meeting_number": ` + benchMeetingID + `}`)
		benchSend(b, h, http.MethodPost, benchPlatformURL(meetstream.Name, meetstream.TokenPath, id), [][]byte{body}, func(int, http.Header) {})
	})
	b.Run("attendee/unsigned", func(b *testing.B) {
		h, id := benchEngineFor(b, false, func(deps platform.Deps) (onbehalf.Platform, error) {
			return attendee.New(attendee.Config{APIKey: "akey", BaseURL: "http://127.0.0.1:9"}, deps)
		})
		bodies, _ := attendeeBodies(1, nil)
		benchSend(b, h, http.MethodPost, benchPlatformURL(attendee.Name, attendee.TokenPath, id), bodies, func(int, http.Header) {})
	})
	b.Run("attendee/signed", func(b *testing.B) {
		key := bytes.Repeat([]byte{7}, attendee.SecretSize)
		h, id := benchEngineFor(b, false, func(deps platform.Deps) (onbehalf.Platform, error) {
			return attendee.New(attendee.Config{APIKey: "akey", BaseURL: "http://127.0.0.1:9",
				WebhookSecret: base64.StdEncoding.EncodeToString(key)}, deps)
		})
		// 1<<15 bots, each request served up to 5 times: enough for
		// 160k iterations, far beyond a second of them.
		bodies, sigs := attendeeBodies(1<<15, key)
		benchSend(b, h, http.MethodPost, benchPlatformURL(attendee.Name, attendee.TokenPath, id), bodies, func(i int, hd http.Header) {
			hd.Set(attendee.SignatureHeader, sigs[i%len(sigs)])
		})
	})
	b.Run("meetingbaas", func(b *testing.B) {
		h, id := benchEngineFor(b, false, func(platform.Deps) (onbehalf.Platform, error) {
			return meetingbaas.New(meetingbaas.Config{APIKey: "bkey", BaseURL: "http://127.0.0.1:9"}, platform.Deps{})
		})
		target := benchPlatformURL(meetingbaas.Name, meetingbaas.PathToken, id) + "&bot_id=" + benchBotID + "&extra=%7B%22customer%22%3A%2242%22%7D"
		benchServe(b, h, target, http.StatusOK)
	})
}
