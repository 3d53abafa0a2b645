package onbehalf

import (
	"encoding/json"
	"time"
)

// JoinScheduler is implemented by platforms whose create-bot call takes a
// scheduled join time in its options (Recall's, Attendee's and
// MeetStream's join_at). The bots service reads it before creating the
// bot, records it on the bot (Bot.JoinAt) and refreshes the connection
// ahead of that time rather than of now; the keep-alive's watcher of bots
// due soon checks the connection again before then (connection.at_risk).
// A platform without it has bots that join when created.
type JoinScheduler interface {
	// JoinAt returns the join time the options ask for, and false when
	// they ask for none (the bot joins now). A join time the platform
	// cannot take (bad syntax, an option this server does not send to
	// the right route) is EINVALID on field "platform_options", before
	// any call to the platform.
	JoinAt(options json.RawMessage) (time.Time, bool, error)
}

// AdHocJoinLead is when a bot created without a join time is expected to
// ask for its first token, after it was created. Bots usually ask within
// a minute or two, but a platform whose pool of ready bots is exhausted
// starts one on a fresh machine first (Recall's ad-hoc bots, Meeting
// BaaS's reserved bots arrive 4 minutes after the request): ten minutes
// covers that, and a token refreshed inline later than this costs the
// bot one Zoom call, not its join.
const AdHocJoinLead = 10 * time.Minute

// DueAt returns when the bot is expected to ask for its first token: its
// scheduled join time, or AdHocJoinLead after it was created.
func (b *Bot) DueAt() time.Time {
	if !b.JoinAt.IsZero() {
		return b.JoinAt
	}
	return b.CreatedAt.Add(AdHocJoinLead)
}

// StillToJoin reports whether the bot has yet to get into its meeting
// (not in the call, not over): only such a bot still needs a token.
func (b *Bot) StillToJoin() bool {
	return !b.Status.Final() && b.Status != BotInCall
}

// AtRiskEventData is the data of connection.at_risk: which bot is due
// when, and why its connection may not give it a token.
type AtRiskEventData struct {
	ConnectionID   string `json:"connection_id"`
	ZoomUserID     string `json:"zoom_user_id,omitempty"`
	ExternalUserID string `json:"external_user_id,omitempty"`
	BotID          string `json:"bot_id"`
	Platform       string `json:"platform,omitempty"`
	MeetingID      string `json:"meeting_id,omitempty"`
	// DueAt is when the bot is expected to ask for its token (its join
	// time, or shortly after it was created).
	DueAt time.Time `json:"due_at"`
	// Code says what is wrong: AtRiskDisconnected, AtRiskRefreshFailing
	// or AtRiskMissingScope; Reason says it in words.
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

// The codes of connection.at_risk.
const (
	// AtRiskDisconnected: Zoom refused the connection's grant; the person
	// must connect Zoom again.
	AtRiskDisconnected = "disconnected"
	// AtRiskRefreshFailing: the connection's token refreshes fail (Zoom
	// down, slow or rate limiting); it may heal (connection.recovered).
	AtRiskRefreshFailing = "refresh_failing"
	// AtRiskMissingScope: the grant lacks a scope the bot's token kinds
	// need; the person must connect again after the app gets the scope.
	AtRiskMissingScope = "missing_scope"
)

// BotRisk says why a bot's connection may not give it a token when it
// asks: the connection is gone (c nil) or disconnected, its refreshes fail
// (failing is the last failure's reason, "" when they do not), or its
// grant lacks a scope the bot's kinds need. It returns "" when nothing is
// known to be wrong. The keep-alive's watcher of bots due soon and the
// person's page both judge by it.
func BotRisk(b *Bot, c *Connection, failing string) (code, reason string) {
	switch {
	case c == nil:
		return AtRiskDisconnected, "The Zoom connection was deleted: connect Zoom again and send a new bot."
	case !c.Connected():
		why := c.DisconnectedReason
		if why == "" {
			why = "Zoom refused its grant"
		}
		return AtRiskDisconnected, "The Zoom connection stopped working (" + Inner(why) + "): reconnect Zoom before the bot joins."
	case failing != "":
		return AtRiskRefreshFailing, "Zoom token refreshes of this connection are failing (" + Inner(failing) + "): the bot may get no token if Zoom does not recover before it joins."
	}
	for _, k := range b.Kinds {
		if !c.HasScope(k.Scope()) {
			return AtRiskMissingScope, "The Zoom connection lacks the " + k.Scope() + " scope the bot's " + string(k) + " token needs: add it to the Zoom app, then reconnect Zoom."
		}
	}
	return "", ""
}
