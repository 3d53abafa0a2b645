package demo

import (
	"fmt"
	"io"
	"strings"

	"github.com/onbehalf/onbehalf/internal/api"
	"github.com/onbehalf/onbehalf/internal/events"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// The demo turns the integration API and the outgoing webhooks on, so
// that a backend developer can try them in the first minutes, with no
// Zoom app: a new API key each run, printed once by Run with curl lines
// to paste, and webhooks sent to the demo's own receiver, whose page
// shows each one with its signature checked.

// ExternalUserID is the product's user the printed connect-link call
// names.
const ExternalUserID = "demo-user"

// enableIntegration makes the run's API key, starts the webhook
// receiver, and puts API_KEYS, WEBHOOK_URL and WEBHOOK_SECRET in e.
func (d *Demo) enableIntegration(e *env, o Options) error {
	d.APIKey, _ = api.NewKey()
	e.set("API_KEYS", d.APIKey)
	d.WebhookSecret = o.WebhookSecret
	if d.WebhookSecret == "" {
		d.WebhookSecret = events.NewSecret()
	}
	var err error
	if d.hooks, err = startHooks(d.WebhookSecret, o.ForwardWebhooks, d.URL); err != nil {
		return err
	}
	if err := events.CheckConfig(d.hooks.url+HookPath, d.WebhookSecret); err != nil {
		return err
	}
	d.WebhooksURL = d.hooks.url + "/"
	e.set("WEBHOOK_URL", d.hooks.url+HookPath)
	e.set("WEBHOOK_SECRET", d.WebhookSecret)
	return nil
}

// PlaygroundMeeting is the meeting of the printed token example.
const PlaygroundMeeting = "85012345678"

// printPlayground prints what a backend developer needs to try the API:
// the key (once, as a shell variable), curl lines for this run's URL (a
// connect link, where it stands and its revoke, a token, the events), the
// reference, and where the webhooks go: to forward too, signed
// with the developer's WEBHOOK_SECRET, or with one made for this run
// (newSecret), printed so that their receiver can check the signatures.
func (d *Demo) printPlayground(w io.Writer, forward string, newSecret bool) {
	auth := `-H "Authorization: Bearer $ONBEHALF_API_KEY"`
	jsonBody := `-H 'Content-Type: application/json' -d '%s'`
	lines := []string{
		"",
		"Integration API (this run's key; it is shown only now):",
		"  export ONBEHALF_API_KEY=" + d.APIKey,
		"  # 1. a connect link for your user " + ExternalUserID + " (open its url, approve on the fake Zoom):",
		"  curl -s -X POST " + d.URL + "/api/v1/connect-links " + auth + " " +
			fmt.Sprintf(jsonBody, `{"external_user_id":"`+ExternalUserID+`"}`),
		"  #    where that link stands (pending, used and by which connection, expired), or take it back; LINK_ID is the id it answered:",
		"  curl -s " + d.URL + "/api/v1/connect-links/$LINK_ID " + auth,
		"  curl -s -X DELETE " + d.URL + "/api/v1/connect-links/$LINK_ID " + auth,
		"  # 2. an On-Behalf-Of token for the demo person and a meeting, once connected (by the link or the home page):",
		"  curl -s -X POST " + d.URL + "/api/v1/tokens " + auth + " " +
			fmt.Sprintf(jsonBody, `{"zoom_user_id":"`+zoomdemo.DefaultUserID+`","kind":"obf","meeting_id":"`+PlaygroundMeeting+`"}`),
		"  # 3. follow the events as they happen (Server-Sent Events):",
		"  curl -N " + d.URL + "/api/v1/events " + auth,
		"  Reference: " + d.URL + "/api/v1/reference   (OpenAPI 3.1: " + d.URL + "/api/v1/openapi.json)",
		"",
		"Webhooks: every event is posted, signed (Standard Webhooks), to the demo's receiver; see them with their signatures checked at " + d.WebhooksURL,
	}
	switch {
	case forward != "" && newSecret:
		lines = append(lines, "  and forwarded, still signed, to your "+events.VarWebhookURL+" "+forward+"; verify them with this run's secret",
			"  (set "+events.VarWebhookSecret+" yourself to keep one): "+events.VarWebhookSecret+"="+d.WebhookSecret)
	case forward != "":
		lines = append(lines, "  and forwarded, still signed, to your "+events.VarWebhookURL+" "+forward+" (verify with your "+events.VarWebhookSecret+")")
	}
	fmt.Fprintln(w, strings.Join(lines, "\n"))
}
