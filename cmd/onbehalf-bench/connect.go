package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/recall/recalldemo"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// Credentials the fakes and the server share.
const (
	zoomClientID     = "bench-client-id"
	zoomClientSecret = "bench-client-secret"
	recallAPIKey     = "bench-recall-key"
)

// fakes are the outside world: a fake Zoom and a fake Recall.ai, both on
// 127.0.0.1 (httptest).
type fakes struct {
	zoom   *zoomdemo.Server
	recall *recalldemo.Fake
}

func newFakes() *fakes {
	return &fakes{zoom: zoomdemo.New(zoomClientID, zoomClientSecret), recall: recalldemo.New(recalldemo.Options{APIKey: recallAPIKey})}
}

func (f *fakes) Close() {
	f.zoom.Close()
	f.recall.Close()
}

// serverEnv is the server's environment: the fakes and the database.
func (f *fakes) serverEnv(o options, db *database) map[string]string {
	env := map[string]string{
		"ZOOM_CLIENT_ID":     zoomClientID,
		"ZOOM_CLIENT_SECRET": zoomClientSecret,
		"ZOOM_OAUTH_URL":     f.zoom.URL,
		"ZOOM_API_URL":       f.zoom.APIURL(),
		"RECALL_API_KEY":     recallAPIKey,
		"RECALL_API_URL":     f.recall.URL(),
		"LOG_LEVEL":          o.logLevel,
	}
	maps.Copy(env, db.env())
	return env
}

// benchUserID is the fake Zoom user ID of the i-th bench user.
func benchUserID(i int) string { return fmt.Sprintf("zu_bench_%05d", i) }

// benchMeetingID is the meeting the i-th bench user sends a bot to.
func benchMeetingID(i int) string { return fmt.Sprintf("%d", 85_012_300_000+i) }

// connectUsers connects n users through the real browser flow and returns
// the token URL the fake Recall received for each. Each user is a browser
// with its own cookie jar:
//
//	GET /zoom/oauth → 302 to the fake's authorize (+ fake_user=<id>) →
//	302 to /zoom/oauth-callback → 303 to /launch; POST /launch → the
//	server creates a bot at the fake Recall with the token URL.
func connectUsers(base string, f *fakes, n int) ([]string, error) {
	deadline := time.Now().Add(2*time.Minute + time.Duration(n)*100*time.Millisecond)
	urls := make([]string, 0, n)
	for i := 0; i < n; i++ {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("connecting users: %d of %d done before the deadline", i, n)
		}
		id := benchUserID(i)
		f.zoom.AddUser(zoomdemo.User{ID: id, AccountID: "acct_bench", Email: id + "@example.com",
			FirstName: "Bench", LastName: fmt.Sprint(i), DisplayName: "Bench User " + fmt.Sprint(i)})
		u, err := connectOne(base, f, id, benchMeetingID(i))
		if err != nil {
			return nil, fmt.Errorf("user %s: %w", id, err)
		}
		urls = append(urls, u)
	}
	return urls, nil
}

// connectOne walks one browser through OAuth and launch.
func connectOne(base string, f *fakes, userID, meetingID string) (string, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return "", err
	}
	noFollow := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	follow := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	defer noFollow.CloseIdleConnections()

	resp, err := noFollow.Get(base + "/zoom/oauth")
	if err != nil {
		return "", err
	}
	drain(resp)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, f.zoom.URL+"/oauth/authorize?") {
		return "", fmt.Errorf("GET /zoom/oauth: %d, Location %q", resp.StatusCode, loc)
	}
	resp, err = follow.Get(loc + "&fake_user=" + url.QueryEscape(userID))
	if err != nil {
		return "", err
	}
	page := drain(resp)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/launch" {
		return "", fmt.Errorf("OAuth flow ended at %s with %d: %.300s", resp.Request.URL.Path, resp.StatusCode, page)
	}

	before := len(f.recall.Created())
	resp, err = follow.PostForm(base+"/launch", url.Values{
		"meeting_url": {"https://zoom.us/j/" + meetingID + "?pwd=bench"},
		"bot_name":    {"Bench notetaker"},
	})
	if err != nil {
		return "", err
	}
	page = drain(resp)
	bots := f.recall.Created()
	if resp.StatusCode != http.StatusOK || len(bots) != before+1 || !strings.Contains(page, "Bot sent") {
		return "", fmt.Errorf("POST /launch: %d, bots %d→%d: %.300s", resp.StatusCode, before, len(bots), page)
	}
	tokenURL := bots[len(bots)-1].TokenURLs[onbehalf.KindOBF]
	if !strings.HasPrefix(tokenURL, base+"/recall/obf-callback?") {
		return "", errors.New("the fake Recall got an unexpected token URL")
	}
	return tokenURL, nil
}

// drain reads and closes a response body (at most 1 MiB).
func drain(resp *http.Response) string {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return string(b)
}
