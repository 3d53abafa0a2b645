package meetingbaasdemo

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// maxCreateBody bounds a create-bot body.
const maxCreateBody = 1 << 20

// zoomConfigKeys are the fields of zoom_config (CreateBotRequestBody in
// openapi-v2.json).
var zoomConfigKeys = map[string]bool{
	"credential_id": true, "credential_user_id": true, "obf_token": true, "obf_token_url": true, "zak_token_url": true,
}

// uuidPattern is the OpenAPI pattern of credential_id (lower or upper hex).
var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$`)

// decodeBody reads a JSON object, numbers kept as written.
func decodeBody(r *http.Request) (map[string]any, error) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxCreateBody))
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not an object")
	}
	return m, nil
}

// readBot validates a create-bot body the way Meeting BaaS's schema does
// and returns the bot, or the message of the first problem (in the words
// of Fastify's validator: "body/<field> must …").
func readBot(body map[string]any, allowHTTP bool) (*bot, string) {
	b := &bot{body: body, tokenURLs: map[onbehalf.TokenKind]string{}}
	var ok bool
	for _, field := range []string{"bot_name", "meeting_url"} {
		if _, ok := body[field]; !ok {
			return nil, "body must have required property '" + field + "'"
		}
	}
	if b.name, ok = body["bot_name"].(string); !ok {
		return nil, "body/bot_name must be string"
	} else if n := len([]rune(b.name)); n < 1 || n > 255 {
		return nil, "body/bot_name must NOT have fewer than 1 or more than 255 characters"
	}
	if b.meetingURL, ok = body["meeting_url"].(string); !ok {
		return nil, "body/meeting_url must be string"
	} else if !isURI(b.meetingURL) {
		return nil, `body/meeting_url must match format "uri"`
	} else if u, _ := url.Parse(b.meetingURL); u.Scheme != "https" && !allowHTTP {
		return nil, "body/meeting_url must be a valid HTTPS URL"
	}
	if msg := readZoomConfig(b, body["zoom_config"]); msg != "" {
		return nil, msg
	}
	if extra, present := body["extra"]; present && extra != nil {
		if _, ok := extra.(map[string]any); !ok {
			return nil, "body/extra must be object"
		}
		b.extra = encode(extra)
	}
	if msg := readCallback(b, body); msg != "" {
		return nil, msg
	}
	if tc, present := body["timeout_config"]; present && tc != nil {
		m, ok := tc.(map[string]any)
		if !ok {
			return nil, "body/timeout_config must be object"
		}
		if v, present := m["waiting_room_timeout"]; present {
			n, ok := v.(json.Number)
			i, err := n.Int64()
			if !ok || err != nil || i < 120 || i > 1800 {
				return nil, "body/timeout_config/waiting_room_timeout must be an integer from 120 to 1800"
			}
		}
	}
	return b, ""
}

// readZoomConfig reads zoom_config: null, or an object of its known
// string fields.
func readZoomConfig(b *bot, v any) string {
	if v == nil {
		return ""
	}
	zc, ok := v.(map[string]any)
	if !ok {
		return "body/zoom_config must be object"
	}
	for k, v := range zc {
		if !zoomConfigKeys[k] {
			return "body/zoom_config must NOT have additional properties"
		}
		s, ok := v.(string)
		if !ok {
			return "body/zoom_config/" + k + " must be string"
		}
		switch k {
		case "obf_token_url", "zak_token_url":
			if !isURI(s) {
				return "body/zoom_config/" + k + ` must match format "uri"`
			}
		case "credential_id":
			if !uuidPattern.MatchString(s) {
				return `body/zoom_config/credential_id must match format "uuid"`
			}
		}
	}
	if u, ok := zc["obf_token_url"].(string); ok {
		b.tokenURLs[onbehalf.KindOBF] = u
	}
	if u, ok := zc["zak_token_url"].(string); ok {
		b.tokenURLs[onbehalf.KindZAK] = u
	}
	return ""
}

// readCallback reads callback_enabled and callback_config.
func readCallback(b *bot, body map[string]any) string {
	enabled := false
	if v, present := body["callback_enabled"]; present {
		var ok bool
		if enabled, ok = v.(bool); !ok {
			return "body/callback_enabled must be boolean"
		}
	}
	cc, present := body["callback_config"]
	if !present || cc == nil {
		if enabled {
			return "body/callback_config is required when callback_enabled is true"
		}
		return ""
	}
	m, ok := cc.(map[string]any)
	if !ok {
		return "body/callback_config must be object"
	}
	u, ok := m["url"].(string)
	if !ok {
		return "body/callback_config must have required property 'url'"
	} else if !isURI(u) {
		return `body/callback_config/url must match format "uri"`
	}
	method := "POST"
	if v, present := m["method"]; present {
		if method, ok = v.(string); !ok || (method != "POST" && method != "PUT") {
			return "body/callback_config/method must be equal to one of the allowed values"
		}
	}
	secret := ""
	if v, present := m["secret"]; present && v != nil {
		if secret, ok = v.(string); !ok {
			return "body/callback_config/secret must be string"
		}
	}
	if enabled {
		b.callbackURL, b.callbackMethod, b.callbackSecret = u, method, secret
	}
	return ""
}

// isURI reports whether s is an absolute http(s) URL with a host.
func isURI(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
