package platform

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// joinAtLayouts are the date-time forms a scheduled join time may take:
// ISO 8601 with a zone, as the platforms document it ("…Z", "…+05:30",
// and Attendee's example "…+0000").
var joinAtLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700"}

// JoinAtOption reads a scheduled join time from the top-level field of a
// create-bot options object (onbehalf.JoinScheduler for the platforms
// that take one). No options, no field, or a null field: no join time.
// A value that is not a date-time with a zone is EINVALID on field
// "platform_options"; so are options that are not a JSON object (the
// same refusal MergeOptions gives, before any call to the platform).
func JoinAtOption(options json.RawMessage, field string) (time.Time, bool, error) {
	raw, ok, err := topField(options, field)
	if err != nil || !ok {
		return time.Time{}, false, err
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return time.Time{}, false, onbehalf.FieldError("platform_options", "platform_options.%s must be a date-time string such as 2026-01-15T10:30:00Z.", field)
	}
	for _, layout := range joinAtLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true, nil
		}
	}
	return time.Time{}, false, onbehalf.FieldError("platform_options",
		"platform_options.%s is not a date-time with a time zone (ISO 8601, such as 2026-01-15T10:30:00Z or 2026-01-15T16:00:00+05:30): %q.", field, onbehalf.Clip(s, 40))
}

// RefuseJoinAt refuses a scheduled join time in the options of a
// platform whose create-bot route this server calls cannot take one:
// the bot would join now, not when asked. why says what to do instead.
func RefuseJoinAt(options json.RawMessage, field, why string) (time.Time, bool, error) {
	_, ok, err := topField(options, field)
	if err != nil || !ok {
		return time.Time{}, false, err
	}
	return time.Time{}, false, onbehalf.FieldError("platform_options", "platform_options.%s cannot be used here: %s", field, why)
}

// topField returns the raw value of a top-level field of options, false
// when there are no options, no such field, or a null.
func topField(options json.RawMessage, field string) (json.RawMessage, bool, error) {
	trimmed := bytes.TrimSpace(options)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return nil, false, nil
	}
	// MergeOptions says what is wrong with options that are not an
	// object, or too large, in the words the create-bot call would.
	if err := MergeOptions(map[string]any{}, options); err != nil {
		return nil, false, err
	}
	var opts map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &opts); err != nil {
		return nil, false, err
	}
	raw, ok := opts[field]
	if !ok || string(bytes.TrimSpace(raw)) == "null" {
		return nil, false, nil
	}
	return raw, true, nil
}
