package platform

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// maxOptionsBytes bounds platform_options.
const maxOptionsBytes = 32 << 10

// MergeOptions merges a caller's platform_options (a JSON object) into a
// create-bot body: objects merge key by key, anything else replaces. The
// paths in protected (dotted, e.g. "meeting_url", "zoom.obf_token_url")
// are what this server sets — the meeting, the bot name, the token URLs —
// and options naming them, or replacing an object that holds them, are an
// EINVALID error on field "platform_options". Empty options change
// nothing.
func MergeOptions(body map[string]any, options json.RawMessage, protected ...string) error {
	if len(bytes.TrimSpace(options)) == 0 || string(bytes.TrimSpace(options)) == "null" {
		return nil
	}
	if len(options) > maxOptionsBytes {
		return onbehalf.FieldError("platform_options", "platform_options is too large (more than %d bytes).", maxOptionsBytes)
	}
	var opts map[string]any
	d := json.NewDecoder(bytes.NewReader(options))
	d.UseNumber()
	if err := d.Decode(&opts); err != nil || opts == nil {
		return onbehalf.FieldError("platform_options", "platform_options must be a JSON object.")
	}
	return merge(body, opts, "", protected)
}

// merge merges src into dst; prefix is the dotted path of dst.
func merge(dst, src map[string]any, prefix string, protected []string) error {
	for k, v := range src {
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		if slices.Contains(protected, path) {
			return onbehalf.FieldError("platform_options", "platform_options cannot set %s: this server sets it.", path)
		}
		sub, isObj := v.(map[string]any)
		cur, curObj := dst[k].(map[string]any)
		if isObj && curObj {
			if err := merge(cur, sub, path, protected); err != nil {
				return err
			}
			continue
		}
		for _, p := range protected {
			if len(p) > len(path) && p[:len(path)+1] == path+"." {
				return onbehalf.FieldError("platform_options", "platform_options cannot replace %s: it holds %s, which this server sets.", path, p)
			}
		}
		dst[k] = v
	}
	return nil
}
