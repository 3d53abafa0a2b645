package doctor

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/zoom"
)

// probeCode is the made-up authorization code of the credential check. It
// names its sender for anyone reading Zoom's logs; Zoom cannot know it, so
// the exchange cannot succeed and creates nothing.
const probeCode = "onbehalf-doctor-check"

// zoomTimeout bounds each call to Zoom.
const zoomTimeout = 10 * time.Second

// checkZoom checks the General app's credentials, the Server-to-Server
// app's (account mode) and the webhook secret token.
func (d *doctor) checkZoom(ctx context.Context) {
	d.r.section("Zoom")
	c := d.cfg
	switch {
	case len(d.problems["ZOOM_CLIENT_ID"]) > 0:
		d.r.info("General app credentials not checked: see the problem above.")
	case !c.ZoomConfigured():
		d.r.fail("ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET are not set: nobody can connect Zoom.\nZoom App Marketplace (marketplace.zoom.us) → Develop → Build App → General app → App Credentials.")
	case d.o.Offline:
		d.r.info("General app credentials (ZOOM_CLIENT_ID %s) not checked (--offline).", c.ZoomClientID)
	case len(d.problems["ZOOM_OAUTH_URL"]) > 0:
		d.r.info("General app credentials not checked: ZOOM_OAUTH_URL has a problem (above).")
	case len(c.ZoomClientSecrets) > 1:
		d.checkZoomSecrets(ctx)
	default:
		d.checkZoomClient(ctx)
	}

	switch {
	case len(d.problems["ZOOM_ACCOUNT_ID"]) > 0:
		d.r.info("Account mode not checked: see the problem above.")
	case !c.AccountMode():
		d.r.info("Account mode is off (ZOOM_ACCOUNT_ID, ZOOM_S2S_CLIENT_ID, ZOOM_S2S_CLIENT_SECRET not set).")
	case d.o.Offline:
		d.r.info("Server-to-Server credentials (account %s) not checked (--offline).", c.ZoomAccountID)
	case len(d.problems["ZOOM_OAUTH_URL"]) == 0:
		d.checkZoomAccount(ctx)
	}

	if c.ZoomWebhookSecretToken != "" {
		d.r.ok("ZOOM_WEBHOOK_SECRET_TOKEN is set: POST /zoom/webhook verifies Zoom's events (deauthorization) with it.")
	} else {
		d.r.info("ZOOM_WEBHOOK_SECRET_TOKEN is not set: POST /zoom/webhook answers 404, so a user removing the app is only noticed at the next refresh. Apps published on the Marketplace must handle deauthorization.")
	}
	if strings.Contains(c.ZoomOAuthURL, "zoomgov.com") != strings.Contains(c.ZoomAPIURL, "zoomgov.com") {
		d.r.warn("ZOOM_OAUTH_URL (%s) and ZOOM_API_URL (%s) point at different Zoom clouds: Zoom for Government needs both on zoomgov.com.", c.ZoomOAuthURL, c.ZoomAPIURL)
	}
}

// checkZoomClient tells a wrong client ID or secret from a right one
// without creating anything: it exchanges a made-up authorization code.
// Zoom authenticates the client before it looks at the code, so
// invalid_client means the credentials are wrong, and a refusal of the
// code (invalid_grant, invalid_request "Invalid authorization code")
// means Zoom accepted them.
func (d *doctor) checkZoomClient(ctx context.Context) {
	c := d.cfg
	form := url.Values{"grant_type": {"authorization_code"}, "code": {probeCode}, "redirect_uri": {d.redirectURI()}}
	ctx, cancel := context.WithTimeout(ctx, zoomTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.ZoomOAuthURL+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		d.r.fail("Cannot build the request to Zoom: %v", err)
		return
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// As golang.org/x/oauth2 sends them (AuthStyleInHeader).
	req.SetBasicAuth(url.QueryEscape(c.ZoomClientID), url.QueryEscape(c.ZoomClientSecret))
	resp, err := d.o.HTTP.Do(req)
	if err != nil {
		d.r.fail("Could not reach Zoom at %s/oauth/token: %v", c.ZoomOAuthURL, unwrapURLError(err))
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	var z struct {
		Error  string `json:"error"`
		Reason string `json:"reason"`
	}
	_ = json.Unmarshal(body, &z)
	reason := clip(z.Reason, 160)
	said := z.Error
	if reason != "" {
		said += ": " + reason
	}
	const how = "Checked by exchanging a made-up authorization code: harmless, Zoom creates nothing."
	lower := strings.ToLower(z.Reason)
	switch {
	case z.Error == "invalid_client" || resp.StatusCode == http.StatusUnauthorized:
		d.r.fail("Zoom refused ZOOM_CLIENT_ID %s with its secret (HTTP %d, %s): copy both again from the General app → App Credentials (development and production credentials differ).", c.ZoomClientID, resp.StatusCode, said)
	case z.Error == "unsupported_grant_type":
		d.r.fail("ZOOM_CLIENT_ID %s is not a General app's (Zoom: %s): Server-to-Server credentials go in ZOOM_S2S_CLIENT_ID and ZOOM_S2S_CLIENT_SECRET.", c.ZoomClientID, said)
	case strings.Contains(lower, "disabled"):
		d.r.fail("Zoom says the app of ZOOM_CLIENT_ID %s is disabled (%s).", c.ZoomClientID, said)
	case strings.Contains(lower, "redirect"):
		d.r.ok("Zoom accepted ZOOM_CLIENT_ID %s and its secret.\n%s", c.ZoomClientID, how)
		d.r.warn("Zoom also said %q: check that %s is the app's OAuth redirect URL and on its allow list.", said, d.redirectURI())
	case z.Error == "invalid_grant" || z.Error == "invalid_request":
		d.r.ok("Zoom accepted ZOOM_CLIENT_ID %s and its secret: it refused only the made-up code (%s).\n%s", c.ZoomClientID, said, how)
	case resp.StatusCode/100 == 2:
		d.r.warn("Zoom answered the made-up code with HTTP %d: cannot tell whether the credentials are right.", resp.StatusCode)
	default:
		d.r.warn("Zoom answered HTTP %d (%s): cannot tell whether ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET are right. Is ZOOM_OAUTH_URL (%s) Zoom's?", resp.StatusCode, clip(orBody(said, body), 200), c.ZoomOAuthURL)
	}
}

// checkZoomSecrets says which of the secrets in ZOOM_CLIENT_SECRET
// (new,old during Zoom's secret rotation) Zoom accepts, as the server
// would try them (zoom.Client.CheckClientSecrets): by their place in the
// list, never by their value.
func (d *doctor) checkZoomSecrets(ctx context.Context) {
	c := d.cfg
	zc := zoom.New(zoom.Options{ClientID: c.ZoomClientID, ClientSecrets: c.ZoomClientSecrets, RedirectURI: d.redirectURI(),
		OAuthURL: c.ZoomOAuthURL, APIURL: c.ZoomAPIURL, Timeout: zoomTimeout, Transport: d.o.HTTP.Transport})
	checks := zc.CheckClientSecrets(ctx)
	var accepted []string
	for _, ch := range checks {
		name := secretName(ch.Index, len(checks))
		switch {
		case ch.Err != nil:
			d.r.warn("Could not tell whether Zoom accepts the %s in ZOOM_CLIENT_SECRET: %s", name, onbehalf.ErrorMessage(ch.Err))
		case ch.Accepted:
			accepted = append(accepted, name)
		default:
			d.r.info("Zoom refuses the %s in ZOOM_CLIENT_SECRET.", name)
		}
	}
	const how = "Checked by exchanging a made-up authorization code with each: harmless, Zoom creates nothing."
	switch {
	case len(accepted) == len(checks):
		d.r.ok("Zoom accepts both secrets in ZOOM_CLIENT_SECRET for ZOOM_CLIENT_ID %s: the rotation is under way.\n%s", c.ZoomClientID, how)
	case len(accepted) == 1 && accepted[0] == secretName(0, len(checks)):
		d.r.ok("Zoom accepts only the new (first) secret in ZOOM_CLIENT_SECRET for ZOOM_CLIENT_ID %s: the rotation is over; keep only the new secret in ZOOM_CLIENT_SECRET.\n%s", c.ZoomClientID, how)
	case len(accepted) == 1:
		d.r.warn("Zoom accepts only the %s in ZOOM_CLIENT_SECRET for ZOOM_CLIENT_ID %s, not the new (first) one: copy the new secret again from the General app → App Credentials. Calls work meanwhile (one retry each time the new one is refused).\n%s", accepted[0], c.ZoomClientID, how)
	default:
		d.r.fail("Zoom accepts none of the secrets in ZOOM_CLIENT_SECRET for ZOOM_CLIENT_ID %s: copy them again from the General app → App Credentials.\n%s", c.ZoomClientID, how)
	}
}

// secretName names the secret at index i of n in ZOOM_CLIENT_SECRET.
func secretName(i, n int) string {
	switch {
	case n == 2 && i == 0:
		return "new (first) secret"
	case n == 2 && i == 1:
		return "old (second) secret"
	}
	return "secret number " + strconv.Itoa(i+1)
}

// checkZoomAccount asks Zoom for an account token with the
// Server-to-Server app's credentials: a real request, and harmless (Zoom
// issues an hour-long account token, which is discarded).
func (d *doctor) checkZoomAccount(ctx context.Context) {
	c := d.cfg
	zc := zoom.New(zoom.Options{
		OAuthURL: c.ZoomOAuthURL, APIURL: c.ZoomAPIURL, Timeout: zoomTimeout, Transport: d.o.HTTP.Transport,
		AccountID: c.ZoomAccountID, S2SClientID: c.ZoomS2SClientID, S2SClientSecret: c.ZoomS2SClientSecret,
	})
	tok, err := zc.AccountToken(ctx)
	if err != nil {
		d.r.fail("Server-to-Server credentials (account %s, ZOOM_S2S_CLIENT_ID %s) do not work: %s", c.ZoomAccountID, c.ZoomS2SClientID, onbehalf.ErrorMessage(err))
		return
	}
	scopes := "no scopes listed"
	if tok.Scope != "" {
		scopes = "scopes: " + tok.Scope
	}
	d.r.ok("Server-to-Server credentials work: Zoom issued an account token for account %s (%s). Harmless: it only mints an hour-long token, which doctor throws away.", c.ZoomAccountID, scopes)
	for _, want := range []string{"user:read:token:admin", "user:read:zak:admin", "meeting:read:local_recording_token:admin"} {
		if tok.Scope != "" && !strings.Contains(" "+tok.Scope+" ", " "+want+" ") {
			d.r.warn("The Server-to-Server app lacks the scope %s: add it under Scopes in the app.", want)
		}
	}
}

// orBody returns said, or the body when Zoom's answer had no error field.
func orBody(said string, body []byte) string {
	if said != "" {
		return said
	}
	return string(body)
}
