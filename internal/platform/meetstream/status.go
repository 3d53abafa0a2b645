package meetstream

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
)

// Headers of MeetStream's signed status webhooks (workspace endpoints
// only; per-bot callback_url deliveries are not signed).
const (
	// HeaderSignature is "sha256=" + hex HMAC-SHA256(endpoint secret, raw
	// body).
	HeaderSignature = "X-MeetStream-Signature"
	// HeaderTimestamp is the delivery time (ISO 8601). It is not signed,
	// so it proves nothing and is not read.
	HeaderTimestamp = "X-MeetStream-Timestamp"
)

// Bounds on a signed webhook's own timestamp (the body's, which the
// signature covers). MeetStream sends each event once, right away, and
// never retries, so an old signed body is a replay; the bounds are wide
// because the body's timestamp is the event's, not the delivery's.
const (
	maxWebhookAge = time.Hour
	maxClockSkew  = 5 * time.Minute
	// undatedReplayWindow is how long a signed body without a zoned
	// timestamp is remembered: MeetStream signs the body alone, so the
	// body is the delivery's only ID, and an undated one could otherwise
	// be replayed forever.
	undatedReplayWindow = 24 * time.Hour
)

// statusWebhook is MeetStream's status webhook:
//
//	{"event", "bot_event", "bot_id", "bot_status", "message", "status_code",
//	 "timestamp", "custom_attributes"}
//
// Every delivery names its event in "event"; most also carry the specific
// one in "bot_event" (event "bot.stopped", bot_event "bot.notallowed").
type statusWebhook struct {
	Event     string     `json:"event"`
	BotEvent  string     `json:"bot_event"`
	BotID     flexString `json:"bot_id"`
	BotStatus string     `json:"bot_status"`
	Message   string     `json:"message"`
	Timestamp flexString `json:"timestamp"`
}

// statuses maps MeetStream's events to the status vocabulary; events not
// listed (bot.scheduled, bot.error, which is not terminal, recording
// permissions, audio.processed, …) change nothing.
var statuses = map[string]onbehalf.BotStatus{
	"bot.joining":         onbehalf.BotJoining,
	"bot.in_waiting_room": onbehalf.BotWaiting,
	"bot.inmeeting":       onbehalf.BotInCall,
	"bot.recording":       onbehalf.BotInCall,
	"bot.leaving":         onbehalf.BotDone,
	"bot.stopped":         onbehalf.BotDone,
	"bot.done":            onbehalf.BotDone,
	"bot.kicked":          onbehalf.BotFailed,
	"bot.notallowed":      onbehalf.BotFailed,
	"bot.denied":          onbehalf.BotFailed,
	"bot.failed":          onbehalf.BotFailed,
}

// failedStatuses are the bot_status values of a bot.stopped that ended in
// failure, for deliveries without the specific bot_event.
var failedStatuses = []string{"notallowed", "denied", "error"}

// eventFailures put the failure events in the join-failure vocabulary.
// MeetStream names no reason beyond the event and its message (status_code
// is 500 for every failure), so a message that quotes Zoom's code or words
// is read first (platform.ZoomFailureInWords): that is how "the
// authorized user left" and "not in the meeting" can be told.
var eventFailures = map[string]onbehalf.JoinFailure{
	"bot.notallowed": onbehalf.JoinWaitingRoom, // "Failed: Not admitted to meeting"
	"bot.denied":     onbehalf.JoinWaitingRoom,
	"bot.kicked":     onbehalf.JoinOther,
}

// defaultMessages say what a status means when MeetStream sent no message.
var defaultMessages = map[onbehalf.BotStatus]string{
	onbehalf.BotJoining: "The MeetStream bot is joining the meeting.",
	onbehalf.BotWaiting: "The MeetStream bot is in the waiting room: the host must admit it (an OBF bot also waits for you to join).",
	onbehalf.BotInCall:  "The MeetStream bot is in the meeting.",
	onbehalf.BotDone:    "The MeetStream bot left the meeting.",
	onbehalf.BotFailed:  "The MeetStream bot could not join or stay in the meeting.",
}

// VerifyStatusWebhook implements onbehalf.StatusReceiver: the workspace
// endpoint's signature, X-MeetStream-Signature: sha256=<hex HMAC-SHA256(
// MEETSTREAM_SIGNING_SECRET, raw body)>, compared in constant time; then a
// body whose own timestamp is far in the past or the future is refused,
// and so is a body delivered before: within an hour of its timestamp, or
// within undatedReplayWindow of its first delivery when it has none (the
// memory is this process's: another instance, or a restart, forgets it).
// Deliveries to the per-bot callback URL are unsigned: the server accepts
// those by the signed URL and does not call this.
func (a *Adapter) VerifyStatusWebhook(r *http.Request, body []byte) error {
	if a.signingKey == nil {
		return onbehalf.Errorf(onbehalf.EUNAUTHORIZED,
			"MeetStream status webhook refused: no %s is set to check %s. Set it to the signing secret of your MeetStream workspace webhook endpoint, "+
				"or rely on the per-bot callback URL this server gives every bot (it needs no secret).", VarSigningSecret, HeaderSignature)
	}
	sigs := r.Header.Values(HeaderSignature)
	if len(sigs) == 0 {
		return onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "MeetStream status webhook refused: the %s header is missing.", HeaderSignature)
	}
	m := hmac.New(sha256.New, a.signingKey)
	m.Write(body)
	want := m.Sum(nil)
	ok := false
	for _, s := range sigs {
		h, found := strings.CutPrefix(strings.TrimSpace(s), "sha256=")
		got, err := hex.DecodeString(h)
		if found && err == nil && hmac.Equal(got, want) {
			ok = true
		}
	}
	if !ok {
		return onbehalf.Errorf(onbehalf.EUNAUTHORIZED,
			"MeetStream status webhook refused: bad %s (it must be sha256=<hex HMAC-SHA256 of the body> with %s).", HeaderSignature, VarSigningSecret)
	}
	// The signature holds: the body may be read.
	var w statusWebhook
	if json.Unmarshal(body, &w) != nil {
		return nil // ParseStatusWebhook says why
	}
	at, zoned := parseTime(string(w.Timestamp))
	now := a.now()
	until := now.Add(undatedReplayWindow)
	switch {
	case !zoned:
		// No timestamp, or one without a zone: its age is unknown, so
		// only the replay window below bounds it.
	case now.Sub(at) > maxWebhookAge:
		return onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "MeetStream status webhook refused: its timestamp %s is too old (a replay).", at.Format(time.RFC3339))
	case at.Sub(now) > maxClockSkew:
		return onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "MeetStream status webhook refused: its timestamp %s is in the future.", at.Format(time.RFC3339))
	default:
		// Past maxWebhookAge the body is refused as too old anyway.
		until = at.Add(maxWebhookAge)
	}
	// The signature covers the body only: the body's hash is the
	// delivery's ID. MeetStream sends each delivery once.
	if !a.seen.Claim(hex.EncodeToString(want), until, now) {
		return onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "MeetStream status webhook refused: this signed body was delivered before (a replay).")
	}
	return nil
}

// ParseStatusWebhook implements onbehalf.StatusReceiver: one report for an
// event of the status vocabulary, none for the others. MeetStream's
// webhooks carry no event ID (duplicates are recognized by content).
func (a *Adapter) ParseStatusWebhook(r *http.Request, body []byte) ([]onbehalf.StatusReport, error) {
	var w statusWebhook
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, onbehalf.Errorf(onbehalf.EINVALID, `Unreadable MeetStream status webhook: want JSON {"bot_event" or "event", "bot_id", …}.`)
	}
	name := strings.TrimSpace(w.BotEvent)
	if name == "" {
		name = strings.TrimSpace(w.Event)
	}
	if name == "" {
		return nil, onbehalf.Errorf(onbehalf.EINVALID, "Unreadable MeetStream status webhook: it names no event (bot_event or event).")
	}
	status, ok := statuses[strings.ToLower(name)]
	if !ok {
		return nil, nil
	}
	if status == onbehalf.BotDone && isFailure(w.BotStatus) {
		status = onbehalf.BotFailed // bot.stopped with bot_status NotAllowed, Denied or Error
	}
	botID := strings.TrimSpace(string(w.BotID))
	if botID == "" {
		return nil, onbehalf.Errorf(onbehalf.EINVALID, "Unreadable MeetStream status webhook: %s without a bot_id.", name)
	}
	msg := strings.TrimSpace(w.Message)
	var fail onbehalf.JoinFailure
	if status.Final() {
		fail = cmp.Or(platform.ZoomFailureInWords(msg), eventFailures[strings.ToLower(name)])
	}
	if msg == "" {
		msg = defaultMessages[status]
	}
	at, _ := parseTime(string(w.Timestamp))
	return []onbehalf.StatusReport{{
		Platform:      Name,
		PlatformBotID: botID,
		Status:        status,
		Code:          name,
		SubCode:       strings.TrimSpace(w.BotStatus),
		Message:       msg,
		Failure:       platform.FailureOf(status, fail),
		At:            at,
	}}, nil
}

// isFailure reports whether a bot_status says the bot was refused or
// failed.
func isFailure(botStatus string) bool {
	s := strings.ToLower(strings.TrimSpace(botStatus))
	for _, f := range failedStatuses {
		if s == f {
			return true
		}
	}
	return false
}

// Layouts of the timestamps MeetStream may send, with a zone first.
var (
	zonedLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00"}
	naiveLayouts = []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"}
)

// parseTime reads a webhook timestamp: ISO 8601 with a zone, Unix seconds
// or milliseconds (zoned reports those), or ISO 8601 without a zone, read
// as UTC. Anything else is the zero time.
func parseTime(s string) (t time.Time, zoned bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if strings.Trim(s, "0123456789.") == "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f <= 0 {
			return time.Time{}, false
		}
		if f > 1e12 {
			f /= 1000 // milliseconds
		}
		if f > 1e11 { // past the year 5000: not a time
			return time.Time{}, false
		}
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), true
	}
	for _, l := range zonedLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	for _, l := range naiveLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), false
		}
	}
	return time.Time{}, false
}
