package zoom

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// MintToken mints a token of the given kind with a user's access token:
// OBF (GET /users/me/token?type=onbehalf&meeting_id=…), ZAK (?type=zak) or,
// for KindJoin, the host's join token for local recording (GET
// /meetings/{meetingId}/jointoken/local_recording?bypass_waiting_room=true,
// scope meeting:read:local_recording_token), which lets a bot skip the
// waiting room of a meeting the user hosts.
//
// A rejected access token is EUNAUTHORIZED (refresh and try again). Any
// other Zoom refusal (not the host, a missing scope, a meeting that does
// not exist) is EUPSTREAM whose message carries Zoom's code and message;
// never an empty token.
func (c *Client) MintToken(ctx context.Context, accessToken string, kind onbehalf.TokenKind, meetingID string) (string, error) {
	switch kind {
	case onbehalf.KindOBF:
		return c.mint(ctx, c.mintBase+"onbehalf&meeting_id="+url.QueryEscape(meetingID), accessToken, whatOBF)
	case onbehalf.KindZAK:
		return c.mint(ctx, c.mintBase+"zak", accessToken, whatZAK)
	case onbehalf.KindJoin:
		if meetingID == "" {
			return "", onbehalf.CheckMeetingID("meeting_id", meetingID)
		}
		return c.mint(ctx, c.joinTokenURL(meetingID), accessToken, whatJoin)
	}
	return "", unknownKind(kind)
}

// What each kind's mint is called in messages.
const (
	whatOBF  = "minting the OBF token"
	whatZAK  = "minting the ZAK"
	whatJoin = "minting the host join token"
)

// joinTokenURL is the URL of a meeting's join token for local recording,
// with the waiting room bypassed.
func (c *Client) joinTokenURL(meetingID string) string {
	return c.apiURL + "/meetings/" + url.PathEscape(meetingID) + "/jointoken/local_recording?bypass_waiting_room=true"
}

// unknownKind is the error for a kind this client cannot mint.
func unknownKind(kind onbehalf.TokenKind) error {
	return onbehalf.FieldError("kind", "Unknown token kind %q: use obf, zak or join.", clip(string(kind)))
}

// mint GETs u with the bearer token and returns the token field of Zoom's
// JSON answer.
func (c *Client) mint(ctx context.Context, u, accessToken, what string) (string, error) {
	body, err := c.getBody(ctx, u, accessToken, what)
	if err != nil {
		return "", err
	}
	tok, ok := tokenField(body)
	if !ok {
		var out struct {
			Token string `json:"token"`
		}
		if err := json.Unmarshal(body, &out); err != nil {
			return "", onbehalf.WrapError(err, onbehalf.EUPSTREAM, "Zoom answered "+what+" with invalid JSON.")
		}
		tok = out.Token
	}
	if tok == "" {
		return "", onbehalf.Errorf(onbehalf.EUPSTREAM, "Zoom answered %s with an empty token.", what)
	}
	return tok, nil
}

// tokenField reads {"token":"…"} without a JSON decoder when the body is
// exactly that and the token needs no unescaping (the usual answer); ok is
// false for anything else, which then goes through encoding/json.
func tokenField(body []byte) (string, bool) {
	const prefix, suffix = `{"token":"`, `"}`
	b := bytes.TrimSpace(body)
	if !bytes.HasPrefix(b, []byte(prefix)) || !bytes.HasSuffix(b, []byte(suffix)) || len(b) < len(prefix)+len(suffix) {
		return "", false
	}
	v := b[len(prefix) : len(b)-len(suffix)]
	if bytes.ContainsAny(v, "\\\"") {
		return "", false
	}
	return string(v), true
}

// get performs an authenticated GET and decodes a JSON 200 into out.
func (c *Client) get(ctx context.Context, u, accessToken string, out any, what string) error {
	body, err := c.getBody(ctx, u, accessToken, what)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return onbehalf.WrapError(err, onbehalf.EUPSTREAM, "Zoom answered "+what+" with invalid JSON.")
	}
	return nil
}

// getBody performs an authenticated GET and returns the body of a 200.
func (c *Client) getBody(ctx context.Context, u, accessToken, what string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, onbehalf.WrapError(scrubURL(err), onbehalf.EINVALID, "Bad request while "+what+".")
	}
	req.Header["Authorization"] = []string{"Bearer " + accessToken}
	req.Header["Accept"] = acceptJSON
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, transportError(err, what)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, transportError(err, what)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, apiError(resp.StatusCode, body, what)
	}
	return body, nil
}

// acceptJSON is the Accept header of REST calls, allocated once.
var acceptJSON = []string{"application/json"}
