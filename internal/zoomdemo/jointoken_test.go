package zoomdemo

import (
	"strings"
	"testing"
)

const hostedMeeting = "85012345678"

func joinPath(id, query string) string {
	return "/meetings/" + id + "/jointoken/local_recording" + query
}

func TestJoinTokenHost(t *testing.T) {
	s := accountServer(t)
	s.SetHost(hostedMeeting, DefaultUserID)
	s.SetHost("85077777777", "zu_out")
	at, _ := s.IssueGrant(DefaultUserID)

	status, body := get(t, s, joinPath(hostedMeeting, "?bypass_waiting_room=true"), at)
	if tok, _ := body["token"].(string); status != 200 || !strings.HasPrefix(tok, JoinTokenPrefix) || body["expire_in"] != 120.0 {
		t.Fatalf("host: %d %v", status, body)
	}
	status, body = get(t, s, joinPath(hostedMeeting, ""), at)
	if tok, _ := body["token"].(string); status != 200 || !strings.HasPrefix(tok, JoinTokenWaitingPrefix) {
		t.Fatalf("without bypass: %d %v", status, body)
	}
	for name, c := range map[string]struct {
		path   string
		access string
		status int
		code   float64
		msg    string
	}{
		"not the host": {joinPath("85077777777", ""), at, 400, 3000, "Cannot access meeting info."},
		"no meeting":   {joinPath("85099999999", ""), at, 404, 3001, "Meeting does not exist: 85099999999."},
		"bad id":       {joinPath("85x", ""), at, 400, 300, "Invalid meeting ID."},
		"bad token":    {joinPath(hostedMeeting, ""), "bogus", 401, 124, "Invalid access token."},
	} {
		if status, body := get(t, s, c.path, c.access); status != c.status || body["code"] != c.code || body["message"] != c.msg {
			t.Errorf("%s: %d %v", name, status, body)
		}
	}
	if s.JoinTokenCalls() != 6 || len(s.Minted()) != 2 || s.MintCalls() != 0 {
		t.Fatalf("JoinTokenCalls %d, Minted %d, MintCalls %d", s.JoinTokenCalls(), len(s.Minted()), s.MintCalls())
	}
}

func TestJoinTokenScope(t *testing.T) {
	s := accountServer(t)
	s.SetHost(hostedMeeting, "zu_ann")
	s.SetScopes("zu_ann", "user:read:user user:read:token")
	at, rt := s.IssueGrant("zu_ann")
	want := "Invalid access token, does not contain scopes:[meeting:read:local_recording_token]."
	if status, body := get(t, s, joinPath(hostedMeeting, "?bypass_waiting_room=true"), at); status != 400 ||
		body["code"] != 4711.0 || body["message"] != want {
		t.Fatalf("without the scope: %d %v", status, body)
	}
	// A refresh keeps the grant's scopes, even after the app's change.
	s.SetScopes("zu_ann", Scope)
	_, body := refresh(t, s, rt)
	if body["scope"] != "user:read:user user:read:token" {
		t.Fatalf("refreshed scope: %v", body["scope"])
	}
	if status, _ := get(t, s, joinPath(hostedMeeting, ""), body["access_token"].(string)); status != 400 {
		t.Fatalf("refreshed grant gained the scope: %d", status)
	}
	// Connecting again grants it.
	at, _ = s.IssueGrant("zu_ann")
	if status, body := get(t, s, joinPath(hostedMeeting, ""), at); status != 200 {
		t.Fatalf("new grant: %d %v", status, body)
	}
}

func TestJoinTokenAccount(t *testing.T) {
	s := accountServer(t)
	s.SetHost(hostedMeeting, "zu_ann")
	s.SetHost("85077777777", "zu_out")
	_, body := accountGrantReq(t, s, s2sID, s2sSecret, s2sAccount, false)
	at := body["access_token"].(string)
	if status, body := get(t, s, joinPath(hostedMeeting, "?bypass_waiting_room=true"), at); status != 200 ||
		!strings.HasPrefix(body["token"].(string), JoinTokenPrefix) {
		t.Fatalf("account's meeting: %d %v", status, body)
	}
	if status, body := get(t, s, joinPath("85077777777", ""), at); status != 404 || body["code"] != 3001.0 {
		t.Fatalf("another account's meeting: %d %v", status, body)
	}
}

func TestJoinTokenFaults(t *testing.T) {
	s := New(testID, testSecret)
	defer s.Close()
	s.SetHost(hostedMeeting, DefaultUserID)
	at, _ := s.IssueGrant(DefaultUserID)
	s.FailMintEvery(2)
	var fails int
	for range 4 {
		if status, body := get(t, s, joinPath(hostedMeeting, ""), at); status == 500 {
			fails++
			if body["code"] != 500.0 {
				t.Fatalf("failure body %v", body)
			}
		}
	}
	if fails != 2 {
		t.Fatalf("failures = %d, want 2", fails)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("SetHost accepted an unknown user")
		}
	}()
	s.SetHost(hostedMeeting, "nobody")
}
