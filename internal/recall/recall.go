// Package recall is the client of the Recall.ai bot API: it knows the
// regional base URLs and creates bots that fetch their Zoom tokens from
// token URLs served by onbehalf. Its errors are *onbehalf.Error values
// whose messages are safe to show: they carry Recall's status and message
// but never the API key or the token URLs (which hold secrets).
package recall

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// DefaultRegion is the region used when RECALL_REGION is not set.
const DefaultRegion = "us-east-1"

// DefaultTimeout bounds a create-bot call made with the default HTTP client.
const DefaultTimeout = 30 * time.Second

// maxResponse bounds how much of a response body is read.
const maxResponse = 1 << 20

// regions lists the Recall.ai regions, in the order they are documented.
var regions = []string{"us-east-1", "us-west-2", "eu-central-1", "ap-northeast-1"}

// defaultHTTP is the HTTP client used when Client.HTTP is nil.
var defaultHTTP = &http.Client{Timeout: DefaultTimeout}

// Regions returns the names of the Recall.ai regions.
func Regions() []string { return append([]string(nil), regions...) }

// BaseURL returns the base URL of a Recall.ai region, https://{region}.recall.ai.
// An unknown region is an *onbehalf.Error with code EINVALID that lists the
// known ones.
func BaseURL(region string) (string, error) {
	r := strings.ToLower(strings.TrimSpace(region))
	for _, known := range regions {
		if r == known {
			return "https://" + known + ".recall.ai", nil
		}
	}
	return "", onbehalf.Errorf(onbehalf.EINVALID, "Unknown Recall.ai region %q: use one of %s.",
		region, strings.Join(regions, ", "))
}

// Client creates bots on Recall.ai. It implements onbehalf.BotLauncher.
type Client struct {
	// BaseURL is the Recall.ai base URL, e.g. https://us-east-1.recall.ai
	// (see BaseURL); a trailing slash is ignored.
	BaseURL string
	// APIKey is the workspace API key (RECALL_API_KEY).
	APIKey string
	// HTTP is the client used for requests; nil means a client with
	// DefaultTimeout.
	HTTP *http.Client
}

var _ onbehalf.BotLauncher = (*Client)(nil)

// createBotBody is the JSON body of POST /api/v1/bot/.
type createBotBody struct {
	MeetingURL string    `json:"meeting_url"`
	BotName    string    `json:"bot_name,omitempty"`
	Zoom       *zoomBody `json:"zoom,omitempty"`
}

// zoomBody is the "zoom" object of a create-bot request.
type zoomBody struct {
	OBFTokenURL string `json:"obf_token_url,omitempty"`
	ZAKURL      string `json:"zak_url,omitempty"`
}

// CreateBot asks Recall.ai to send a bot to req.MeetingURL that fetches its
// OBF token (and ZAK, if set) from the given token URLs.
//
// Errors: a missing API key or base URL is EUNAVAILABLE; a non-2xx answer
// is EUPSTREAM with "Recall.ai answered <status>: <Recall's message>"; no
// answer before the deadline is ETIMEOUT; any other transport failure is
// EUPSTREAM "Could not reach Recall.ai: <reason>".
func (c *Client) CreateBot(ctx context.Context, req onbehalf.BotRequest) (*onbehalf.Bot, error) {
	if strings.TrimSpace(c.APIKey) == "" {
		return nil, onbehalf.Errorf(onbehalf.EUNAVAILABLE, "Recall.ai is not configured: set RECALL_API_KEY.")
	}
	base := strings.TrimRight(c.BaseURL, "/")
	if u, err := url.Parse(base); base == "" || err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, onbehalf.Errorf(onbehalf.EUNAVAILABLE, "The Recall.ai URL is not valid: check RECALL_REGION and RECALL_API_URL.")
	}
	red := newRedactor(c.APIKey, req.OBFTokenURL, req.ZAKURL)

	body := createBotBody{MeetingURL: req.MeetingURL, BotName: req.BotName}
	if req.OBFTokenURL != "" || req.ZAKURL != "" {
		body.Zoom = &zoomBody{OBFTokenURL: req.OBFTokenURL, ZAKURL: req.ZAKURL}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		return nil, onbehalf.WrapError(err, onbehalf.EINTERNAL, "Could not encode the Recall.ai request.")
	}

	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/bot/", &buf)
	if err != nil {
		return nil, onbehalf.WrapError(err, onbehalf.EUNAVAILABLE, "The Recall.ai URL is not valid: check RECALL_REGION and RECALL_API_URL.")
	}
	hreq.Header.Set("Authorization", "Token "+c.APIKey)
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("User-Agent", "onbehalf")

	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(hreq)
	if err != nil {
		return nil, transportError(ctx, err, red)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, transportError(ctx, err, red)
	}

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := "Recall.ai answered " + statusString(resp.StatusCode) + ": " + upstreamMessage(resp, raw, red) + hint(resp.StatusCode)
		return nil, onbehalf.Errorf(onbehalf.EUPSTREAM, "%s", msg)
	}
	var created struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &created); err != nil || created.ID == "" {
		return nil, &onbehalf.Error{
			Code:    onbehalf.EUPSTREAM,
			Message: "Recall.ai answered " + statusString(resp.StatusCode) + " without a bot ID.",
			Err:     err,
		}
	}
	return &onbehalf.Bot{ID: created.ID}, nil
}

// hint returns advice for statuses that usually mean a configuration error.
func hint(status int) string {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return " (check RECALL_API_KEY and RECALL_REGION)"
	case http.StatusNotFound:
		return " (check RECALL_REGION and RECALL_API_URL)"
	}
	return ""
}
