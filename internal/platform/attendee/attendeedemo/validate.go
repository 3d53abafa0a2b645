package attendeedemo

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Validation as Attendee's CreateBotSerializer does it (bots/serializers.py)
// for the fields a token server sends, with its messages: jsonschema's for
// callback_settings and webhooks, DRF's for required fields.

// maxMetadataLength is settings.MAX_METADATA_LENGTH: the longest
// json.dumps(metadata), in characters.
const maxMetadataLength = 1000

// triggers are Attendee's webhook trigger codes (WebhookTriggerTypes).
var triggers = []string{
	"bot.state_change", "transcript.update", "chat_messages.update", "participant_events.join_leave",
	"calendar.events_update", "calendar.state_change", "async_transcription.state_change",
	"zoom_oauth_connection.state_change", "bot_logs.update", "participant_events.speech_start_stop",
}

// zoomPath is a Zoom meeting path with its ID, as Attendee's URL
// normalization wants one.
var zoomPath = regexp.MustCompile(`^/(j|s|w|wc(/join)?)/[0-9]{9,12}(/|$)`)

// validate reads a create-bot body into a bot, or returns the serializer's
// errors by field.
func (f *Fake) validate(body map[string]any) (*Created, map[string][]string) {
	errs := map[string][]string{}
	add := func(field, msg string) { errs[field] = append(errs[field], msg) }
	bot := &Created{}

	if s, msg := requiredString(body, "meeting_url"); msg != "" {
		add("meeting_url", msg)
	} else if !isZoomMeeting(s) {
		add("meeting_url", "Invalid meeting URL")
	} else {
		bot.MeetingURL = s
	}
	if s, msg := requiredString(body, "bot_name"); msg != "" {
		add("bot_name", msg)
	} else if strings.IndexFunc(s, func(r rune) bool { return r > 0xFFFF }) >= 0 {
		add("bot_name", "Bot name cannot contain emojis or rare script characters.")
	} else {
		bot.BotName = s
	}
	if v, ok := body["metadata"]; ok && v != nil {
		md, msg := f.metadata(v)
		if msg != "" {
			add("metadata", msg)
		}
		bot.Metadata = md
	}
	if v, ok := body["callback_settings"]; ok && v != nil {
		if msg := f.callbackSettings(v, bot); msg != "" {
			add("callback_settings", msg)
		}
	}
	if v, ok := body["webhooks"]; ok && v != nil {
		hooks, msg := f.webhooks(v)
		if msg != "" {
			add("webhooks", msg)
		}
		bot.Webhooks = hooks
	}
	bot.FakeBot.TokenURLs = map[onbehalf.TokenKind]string{}
	if bot.TokenURL != "" {
		for _, k := range kindsOf(bot.TokenURL) {
			bot.FakeBot.TokenURLs[k] = bot.TokenURL
		}
	}
	return bot, errs
}

// requiredString reads a required CharField: DRF's messages when it is
// missing, null, not a string or blank.
func requiredString(body map[string]any, field string) (string, string) {
	v, ok := body[field]
	switch s, isStr := v.(string); {
	case !ok:
		return "", "This field is required."
	case v == nil:
		return "", "This field may not be null."
	case !isStr:
		return "", "Not a valid string."
	case strings.TrimSpace(s) == "":
		return "", "This field may not be blank."
	default:
		return strings.TrimSpace(s), ""
	}
}

// isZoomMeeting reports whether Attendee's meeting URL normalization takes
// s as a Zoom meeting (zoom.us or zoom.com, an ID in the path).
func isZoomMeeting(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	zoom := false
	for _, d := range []string{"zoom.us", "zoom.com"} {
		zoom = zoom || host == d || strings.HasSuffix(host, "."+d)
	}
	return zoom && zoomPath.MatchString(u.Path)
}

// metadata checks metadata as _validate_metadata_attribute does (with
// REQUIRE_STRING_VALUES_IN_METADATA=true, the default) and returns it in
// the order Attendee's database gives it back.
func (f *Fake) metadata(v any) (Object, string) {
	m, ok := v.(map[string]any)
	switch {
	case !ok:
		return nil, "Metadata must be an object not an array or other type"
	case len(m) == 0:
		return nil, "Metadata must have at least one key"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var o Object
	for _, k := range keys {
		s, ok := m[k].(string)
		if !ok {
			return nil, fmt.Sprintf("Value for key '%s' must be a string", k)
		}
		o = append(o, Member{k, s})
	}
	o = JSONBOrder(o)
	if n := len(Dumps(o)); n > maxMetadataLength {
		return nil, fmt.Sprintf("Metadata must be less than %d characters", maxMetadataLength)
	}
	return o, ""
}

// callbackSettings checks CALLBACK_SETTINGS_SCHEMA: an object with only
// zoom_tokens_url, a string starting https://.
func (f *Fake) callbackSettings(v any, bot *Created) string {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Sprintf("%s is not of type 'object'", pyRepr(v))
	}
	var extra []string
	for k := range m {
		if k != "zoom_tokens_url" {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		return additional(extra)
	}
	u, present := m["zoom_tokens_url"]
	if !present {
		return ""
	}
	s, ok := u.(string)
	if !ok {
		return fmt.Sprintf("%s is not of type 'string'", pyRepr(u))
	}
	if msg := f.httpsOnly(s); msg != "" {
		return msg
	}
	bot.TokenURL = s
	return ""
}

// webhooks checks WEBHOOKS_SCHEMA: a list of {"url", "triggers"}.
func (f *Fake) webhooks(v any) ([]Webhook, string) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Sprintf("%s is not of type 'array'", pyRepr(v))
	}
	var out []Webhook
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Sprintf("%s is not of type 'object'", pyRepr(item))
		}
		var extra []string
		for k := range m {
			if k != "url" && k != "triggers" {
				extra = append(extra, k)
			}
		}
		if len(extra) > 0 {
			return nil, additional(extra)
		}
		u, ok := m["url"].(string)
		if !ok {
			return nil, "'url' is a required property"
		}
		if msg := f.httpsOnly(u); msg != "" {
			return nil, msg
		}
		ts, ok := m["triggers"].([]any)
		if !ok {
			return nil, "'triggers' is a required property"
		}
		if len(ts) == 0 {
			return nil, "[] should be non-empty"
		}
		h := Webhook{URL: u}
		for _, t := range ts {
			s, _ := t.(string)
			if !contains(triggers, s) {
				return nil, fmt.Sprintf("%s is not one of %s", pyRepr(t), pyRepr(triggers))
			}
			if contains(h.Triggers, s) {
				return nil, fmt.Sprintf("%s has non-unique elements", pyRepr(ts))
			}
			h.Triggers = append(h.Triggers, s)
		}
		out = append(out, h)
	}
	return out, ""
}

// webhookError is what validate_webhook_data refuses when the bot's
// webhook subscriptions are created: a URL twice, more than two.
func (f *Fake) webhookError(hooks []Webhook) string {
	for i, h := range hooks {
		if i >= 2 {
			return "You have reached the maximum number of webhooks for a single bot"
		}
		for _, prev := range hooks[:i] {
			if prev.URL == h.URL {
				return "URL already subscribed for this bot"
			}
		}
	}
	return ""
}

// httpsOnly is the schemas' pattern ^https://.*.
func (f *Fake) httpsOnly(s string) string {
	if strings.HasPrefix(s, "https://") {
		return ""
	}
	return fmt.Sprintf("%s does not match '^https://.*'", pyRepr(s))
}

// additional is jsonschema's message for unexpected properties.
func additional(extra []string) string {
	sort.Strings(extra)
	quoted := make([]string, len(extra))
	for i, k := range extra {
		quoted[i] = pyRepr(k)
	}
	verb := "was"
	if len(extra) > 1 {
		verb = "were"
	}
	return fmt.Sprintf("Additional properties are not allowed (%s %s unexpected)", strings.Join(quoted, ", "), verb)
}

// pyRepr approximates Python's repr of a decoded JSON value, as
// jsonschema's messages quote it.
func pyRepr(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		if v {
			return "True"
		}
		return "False"
	case string:
		return "'" + strings.ReplaceAll(v, "'", `\'`) + "'"
	case json.Number:
		return string(v)
	case []string:
		a := make([]any, len(v))
		for i, s := range v {
			a[i] = s
		}
		return pyRepr(a)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = pyRepr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = pyRepr(k) + ": " + pyRepr(v[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
