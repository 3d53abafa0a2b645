package bots_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onbehalf/onbehalf/internal/bots"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
	"github.com/onbehalf/onbehalf/internal/platform/attendee"
	"github.com/onbehalf/onbehalf/internal/platform/recall"
	"github.com/onbehalf/onbehalf/internal/platform/recall/recalldemo"
	"github.com/onbehalf/onbehalf/internal/store/bolt"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
)

// env is a launch service over a real store and Recall's fake.
type env struct {
	svc   *bots.Service
	st    *bolt.Store
	fake  *recalldemo.Fake
	conn  *onbehalf.Connection
	notes int
}

func newEnv(t *testing.T, scope string) *env {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "b.db"), bolt.Options{ReserveBytes: bolt.NoReserve})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fake := recalldemo.New(recalldemo.Options{APIKey: "rkey"})
	t.Cleanup(fake.Close)
	p, err := recall.New(recall.Config{APIKey: "rkey", BaseURL: fake.URL(), Timeout: 5 * time.Second}, platform.Deps{HTTP: http.DefaultClient, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{st: st, fake: fake}
	e.svc = &bots.Service{Store: st, Platforms: []onbehalf.Platform{p}, BaseURL: "https://onbehalf.example",
		Signer: &tokenurl.Signer{Key: tokenurl.NewKey()}, Notify: func() { e.notes++ }}
	e.svc.Start()
	c, _, err := st.Connect(context.Background(), onbehalf.Authorization{
		User:  onbehalf.ZoomUser{ID: "zu_1", Email: "a@example.com"},
		Token: onbehalf.Token{AccessToken: "zat", RefreshToken: "zrt", Expiry: time.Now().Add(time.Hour), Scope: scope},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.conn = c
	return e
}

func TestLaunchRefusesBadInputBeforeThePlatform(t *testing.T) {
	e := newEnv(t, "user:read:user user:read:token")
	ctx := context.Background()
	for _, tc := range []struct {
		req   bots.LaunchRequest
		field string
	}{
		{bots.LaunchRequest{ConnectionID: e.conn.ID, MeetingURL: "https://evil.example/j/85012345678"}, "meeting_url"},
		{bots.LaunchRequest{ConnectionID: e.conn.ID, MeetingURL: "https://zoom.us/j/85012345678", BotName: strings.Repeat("x", 101)}, "bot_name"},
		{bots.LaunchRequest{ConnectionID: e.conn.ID, MeetingURL: "https://zoom.us/j/85012345678", BotName: "a\x07b"}, "bot_name"},
		{bots.LaunchRequest{Platform: "nope", ConnectionID: e.conn.ID, MeetingURL: "https://zoom.us/j/85012345678"}, "platform"},
		{bots.LaunchRequest{MeetingURL: "https://zoom.us/j/85012345678"}, "connection_id"},
		// The connection lacks the join token's scope: said at launch, not
		// at join time.
		{bots.LaunchRequest{ConnectionID: e.conn.ID, MeetingURL: "https://zoom.us/j/85012345678",
			Kinds: []onbehalf.TokenKind{onbehalf.KindOBF, onbehalf.KindJoin}}, "kinds"},
	} {
		_, err := e.svc.Launch(ctx, tc.req)
		if onbehalf.ErrorCode(err) != onbehalf.EINVALID || onbehalf.ErrorField(err) != tc.field {
			t.Errorf("%+v: %v (field %q), want EINVALID on %s", tc.req, err, onbehalf.ErrorField(err), tc.field)
		}
	}
	if _, err := e.svc.Launch(ctx, bots.LaunchRequest{ConnectionID: "nope", MeetingURL: "https://zoom.us/j/85012345678"}); onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND {
		t.Errorf("unknown connection: %v", err)
	}
	if n := len(e.fake.Created()); n != 0 {
		t.Fatalf("bad input reached the platform %d times", n)
	}
}

func TestLaunchAndStatus(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	b, err := e.svc.Launch(ctx, bots.LaunchRequest{ConnectionID: e.conn.ID, MeetingURL: "850 1234 5678",
		Kinds: []onbehalf.TokenKind{onbehalf.KindOBF, onbehalf.KindJoin}})
	if err != nil {
		t.Fatal(err)
	}
	created := e.fake.Created()
	if len(created) != 1 || created[0].MeetingURL != "https://zoom.us/j/85012345678" || b.PlatformBotID != created[0].ID ||
		b.Status != onbehalf.BotCreated || b.BotName != bots.DefaultBotName || e.notes == 0 {
		t.Fatalf("bot %+v, recall got %+v", b, created)
	}
	for _, u := range created[0].TokenURLs {
		// Bound to its bot and its platform (refused on other platforms'
		// routes).
		if !strings.Contains(u, "bot="+b.ID) || !strings.Contains(u, "&platform=recall&") || !strings.HasPrefix(u, "https://onbehalf.example/recall/") {
			t.Fatalf("token URL %q", u)
		}
	}
	report := onbehalf.StatusReport{PlatformBotID: b.PlatformBotID, Status: onbehalf.BotInCall, EventID: "evt1", At: time.Now()}
	changed, err := e.svc.ReceiveStatus(ctx, "recall", []onbehalf.StatusReport{report}, "")
	if err != nil || len(changed) != 1 || changed[0].Status != onbehalf.BotInCall {
		t.Fatalf("status: %v %v", changed, err)
	}
	// The same report again changes nothing.
	if changed, err := e.svc.ReceiveStatus(ctx, "recall", []onbehalf.StatusReport{report}, ""); err != nil || len(changed) != 0 {
		t.Fatalf("duplicate: %v %v", changed, err)
	}
	// A report about a bot this server did not create stores nothing,
	// even next to a known one.
	unknown := onbehalf.StatusReport{PlatformBotID: "not-ours", Status: onbehalf.BotDone}
	done := report
	done.Status, done.EventID = onbehalf.BotDone, "evt2"
	if _, err := e.svc.ReceiveStatus(ctx, "recall", []onbehalf.StatusReport{done, unknown}, ""); onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND {
		t.Fatalf("unknown bot: %v", err)
	}
	if got, _ := e.st.Bot(ctx, b.ID); got.Status != onbehalf.BotInCall {
		t.Fatalf("a refused webhook changed the bot: %s", got.Status)
	}
	// A per-bot signed URL accepts reports about its own bot only.
	if _, err := e.svc.ReceiveStatus(ctx, "recall", []onbehalf.StatusReport{{PlatformBotID: "other", Status: onbehalf.BotDone}}, b.ID); onbehalf.ErrorCode(err) != onbehalf.EUNAUTHORIZED {
		t.Fatalf("bound to another bot: %v", err)
	}
	if _, err := e.svc.ReceiveStatus(ctx, "meetstream", []onbehalf.StatusReport{done}, b.ID); onbehalf.ErrorCode(err) != onbehalf.ENOTFOUND {
		t.Fatalf("bound bot on another platform: %v", err)
	}
}

// TestRecordTokenFetches: the recorder never blocks its caller, and what
// it recorded reaches the bot's timeline.
func TestRecordTokenFetches(t *testing.T) {
	e := newEnv(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	b, err := e.svc.Launch(ctx, bots.LaunchRequest{ConnectionID: e.conn.ID, MeetingURL: "https://zoom.us/j/85012345678"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { e.svc.Run(ctx); close(done) }()
	for i := 0; i < 3; i++ {
		e.svc.Record(onbehalf.TokenFetch{ConnectionID: e.conn.ID, BotID: b.ID, Platform: "recall", At: time.Now(), Kind: onbehalf.KindOBF, HTTPStatus: 200})
	}
	cancel()
	<-done // Run writes what is queued before it returns
	got, _ := e.st.Bot(context.Background(), b.ID)
	if len(got.Timeline) != 1 || got.Timeline[0].Count != 3 || got.Status != onbehalf.BotWaiting {
		t.Fatalf("bot after 3 fetches: %s, timeline %+v; want one entry counting 3", got.Status, got.Timeline)
	}
	c, _ := e.st.Connection(context.Background(), e.conn.ID)
	if c.MintedAt.IsZero() {
		t.Fatal("last mint not recorded")
	}
}

// TestDoneStaysDone: through the store, a report that comes after done
// (here a joining without a platform timestamp, as a late retry delivers
// it) goes on the timeline only; a long message is stored clipped.
func TestDoneStaysDone(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	b, err := e.svc.Launch(ctx, bots.LaunchRequest{ConnectionID: e.conn.ID, MeetingURL: "https://zoom.us/j/85012345678"})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("ü", 30<<10) // 60 KB
	for i, r := range []onbehalf.StatusReport{
		{Status: onbehalf.BotInCall, EventID: "e1"},
		{Status: onbehalf.BotDone, EventID: "e2", Message: long},
		{Status: onbehalf.BotJoining, EventID: "e3"},
	} {
		r.PlatformBotID = b.PlatformBotID
		changed, err := e.svc.ReceiveStatus(ctx, "recall", []onbehalf.StatusReport{r}, "")
		if err != nil || (len(changed) == 1) != (i < 2) {
			t.Fatalf("report %d (%s): changed %d, %v", i, r.Status, len(changed), err)
		}
	}
	got, _ := e.st.Bot(ctx, b.ID)
	if got.Status != onbehalf.BotDone || len(got.Timeline) != 3 || got.Timeline[2].Status != onbehalf.BotJoining {
		t.Fatalf("bot %s, timeline %d", got.Status, len(got.Timeline))
	}
	if n := len(got.StatusReason); n > onbehalf.MaxTimelineMessage+3 || !strings.HasPrefix(long, strings.TrimSuffix(got.StatusReason, "…")) {
		t.Fatalf("status reason of %d bytes", n)
	}
}

// Token URLs a platform would refuse are never handed out: Attendee takes
// https URLs only, so an http BASE_URL is a 400 that says so, as when
// this server creates the bot.
func TestTokenURLsRefuseWhatThePlatformRefuses(t *testing.T) {
	e := newEnv(t, "user:read:user user:read:token")
	a, err := attendee.New(attendee.Config{APIKey: "akey", BaseURL: "https://attendee.invalid"}, platform.Deps{HTTP: http.DefaultClient, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	req := bots.TokenURLRequest{Platform: "attendee", ConnectionID: e.conn.ID, MeetingURL: "https://zoom.us/j/85012345678"}
	for base, ok := range map[string]bool{"http://onbehalf.example": false, "https://onbehalf.example": true} {
		svc := &bots.Service{Store: e.st, Platforms: []onbehalf.Platform{a}, BaseURL: base, Signer: e.svc.Signer}
		urls, err := svc.TokenURLs(ctx, req)
		if ok && (err != nil || len(urls) != 1 || !strings.HasPrefix(urls[0].URL, "https://")) {
			t.Errorf("%s: %v %v", base, urls, err)
		}
		if !ok && (urls != nil || onbehalf.ErrorCode(err) != onbehalf.EINVALID || !strings.Contains(onbehalf.ErrorMessage(err), "https")) {
			t.Errorf("%s: %v %v, want EINVALID saying https", base, urls, err)
		}
		_, err = svc.Launch(ctx, bots.LaunchRequest{Platform: "attendee", ConnectionID: e.conn.ID, MeetingURL: req.MeetingURL, BotName: "b"})
		if !ok && onbehalf.ErrorCode(err) != onbehalf.EINVALID {
			t.Errorf("%s: Launch %v, want EINVALID", base, err)
		}
	}
}
