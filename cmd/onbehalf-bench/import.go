package main

// The connections of the bulk runs (-burst, -keepalive): made at the fake
// and imported in bulk, given token URLs through the public API, read back
// from the store.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/store/storetest"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// benchConn is a connection the bench imported: its ID in the store and
// the Zoom user and grant the fake issued for it.
type benchConn struct {
	id      string
	userID  string
	access  string // the access token of the grant, as imported
	refresh string // the refresh token of the grant, as imported
	expiry  time.Time
}

// importConns makes n Zoom users at the fake (IDs prefix + index), issues
// each a grant (zoomdemo.IssueGrant, as if the user had just authorized
// the app) and imports the grants into the database with
// storetest.Seed (ImportConnections in batches), so that onbehalf holds
// exactly the pairs the fake knows. expiry gives the stored access token
// expiry of the i-th connection; storeNow is the clock of the importing
// store (what it records as created and last refreshed; nil: now). The
// database may be in use by servers only on PostgreSQL.
func importConns(db *database, f *fakes, prefix string, n int, expiry func(i int) time.Time, storeNow func() time.Time) ([]benchConn, error) {
	st, err := db.open(storeNow)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	t0 := time.Now()
	conns := make([]benchConn, n)
	grant := func(i int) onbehalf.Authorization {
		id := fmt.Sprintf("%s%07d", prefix, i)
		u := zoomdemo.User{ID: id, AccountID: "acct_bench", Email: id + "@example.com",
			FirstName: "Bench", LastName: fmt.Sprint(i), DisplayName: "Bench User " + fmt.Sprint(i)}
		f.zoom.AddUser(u)
		at, rt := f.zoom.IssueGrant(id)
		conns[i] = benchConn{userID: id, access: at, refresh: rt, expiry: expiry(i).UTC().Truncate(time.Microsecond)}
		return onbehalf.Authorization{
			User: onbehalf.ZoomUser{ID: id, AccountID: u.AccountID, Email: u.Email, FirstName: u.FirstName,
				LastName: u.LastName, DisplayName: u.DisplayName, Status: "active"},
			Token: onbehalf.Token{AccessToken: at, RefreshToken: rt, Expiry: conns[i].expiry, Scope: zoomdemo.Scope},
		}
	}
	ids, err := storetest.Seed(ctx, st, n, grant, nil)
	if err != nil {
		return nil, fmt.Errorf("importing connections (%d done): %w", len(ids), err)
	}
	for i, id := range ids {
		conns[i].id = id
	}
	el := time.Since(t0)
	fmt.Printf("imported %d connections with grants issued at the fake (%s, %.0f/s)\n", n, round(el), float64(n)/el.Seconds())
	return conns, nil
}

// listAll reads every connection of the database, by ID.
func listAll(db *database) (map[string]*onbehalf.Connection, error) {
	st, err := db.open(nil)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out := map[string]*onbehalf.Connection{}
	cursor := ""
	for {
		page, next, err := st.ListConnections(ctx, onbehalf.ConnectionFilter{Limit: 5000, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		for _, c := range page {
			out[c.ID] = c
		}
		if next == "" || len(page) == 0 {
			return out, nil
		}
		cursor = next
	}
}

// benchAPIKey returns a fresh API key for API_KEYS.
func benchAPIKey() string { return "obk_bench_" + rand.Text() }

// apiTokenURLs gets a signed Recall OBF token URL for every connection
// through the public API, POST /api/v1/connections/{id}/token-urls, as a
// product's backend does before it creates its bots; meeting gives the
// meeting of connection i. Requests go 8 at a time; any failure stops it.
func apiTokenURLs(base, apiKey string, conns []benchConn, meeting func(i int) string) ([]string, error) {
	t0 := time.Now()
	tr := newTransport(8)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	out := make([]string, len(conns))
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(conns) || failed.Load() {
					return
				}
				u, err := apiTokenURL(client, base, apiKey, conns[i].id, meeting(i))
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("token URL of connection %s: %w", conns[i].id, err) })
					failed.Store(true)
					return
				}
				out[i] = u
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	el := time.Since(t0)
	fmt.Printf("got %d signed token URLs with POST /api/v1/connections/{id}/token-urls (%s, %.0f/s)\n", len(out), round(el), float64(len(out))/el.Seconds())
	return out, nil
}

// apiTokenURL makes one POST /api/v1/connections/{id}/token-urls call.
func apiTokenURL(client *http.Client, base, apiKey, connID, meetingID string) (string, error) {
	body, _ := json.Marshal(map[string]string{"platform": "recall", "meeting_id": meetingID})
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/connections/"+connID+"/token-urls", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	page := drain(resp)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d: %.300s", resp.StatusCode, page)
	}
	var v struct {
		OBF string `json:"obf_token_url"`
	}
	if err := json.Unmarshal([]byte(page), &v); err != nil || !strings.HasPrefix(v.OBF, base+"/") {
		return "", fmt.Errorf("unexpected answer: %.300s", page)
	}
	return v.OBF, nil
}
