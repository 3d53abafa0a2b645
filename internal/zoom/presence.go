package zoom

import (
	"context"
)

// Presence statuses that mean "in a meeting". GET /users/{userId}/presence_status
// answers {"status": …} with Available, Away, Do_Not_Disturb,
// In_Calendar_Event, Presenting, In_A_Zoom_Meeting, On_A_Call,
// Out_of_Office, Busy or Offline; the presence webhook words it In_Meeting.
// Presenting is sharing a screen in a meeting. None of them names which
// meeting.
var inMeetingStatuses = map[string]bool{
	"In_A_Zoom_Meeting": true,
	"In_Meeting":        true,
	"In_A_Meeting":      true,
	"Presenting":        true,
}

// whatPresence is what the presence call is called in messages.
const whatPresence = "reading the presence status"

// InMeeting reads a user's presence status with their access token (GET
// /users/me/presence_status, scope onbehalf.PresenceScope) and reports
// whether Zoom says they are in a meeting (any meeting: presence does not
// say which), with Zoom's status word. Errors are those of MintToken.
func (c *Client) InMeeting(ctx context.Context, accessToken string) (bool, string, error) {
	var out struct {
		Status string `json:"status"`
	}
	if err := c.get(ctx, c.apiURL+"/users/me/presence_status", accessToken, &out, whatPresence); err != nil {
		return false, "", err
	}
	return inMeetingStatuses[out.Status], out.Status, nil
}
