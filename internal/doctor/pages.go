package doctor

import (
	"fmt"
	"strings"
)

// fdHeadroom is what the server needs besides its live-status streams:
// the database, the listener, token requests, calls to Zoom and the
// platforms.
const fdHeadroom = 256

// checkPages says who can do what through the pages: with PAGES on and no
// ALLOWED_ZOOM_ACCOUNTS or ALLOWED_EMAIL_DOMAINS, anyone who can authorize
// the Zoom app can send bots on the operator's platform accounts. It also
// checks that STREAMS_MAX fits in the open-file limit.
func (d *doctor) checkPages() {
	d.r.section("Who can use the pages")
	c := d.cfg
	var platforms []string
	for _, lp := range d.platforms {
		if lp.configured {
			platforms = append(platforms, lp.spec.Title)
		}
	}
	limit := fmt.Sprintf("at most BOTS_PER_HOUR=%d bots per person per hour", c.BotsPerHour)
	if c.BotsPerHour == 0 {
		limit = "with no limit (BOTS_PER_HOUR=0)"
	}
	switch {
	case !c.Pages:
		d.r.ok("PAGES=false: no home, launch or person page, and no /zoom/oauth without a connect link; people connect only through your product's connect links.")
	case len(c.AllowedZoomAccounts) > 0 || len(c.AllowedEmailDomains) > 0:
		var who []string
		if len(c.AllowedZoomAccounts) > 0 {
			who = append(who, "Zoom accounts "+strings.Join(c.AllowedZoomAccounts, ", "))
		}
		if len(c.AllowedEmailDomains) > 0 {
			who = append(who, "emails at "+strings.Join(c.AllowedEmailDomains, ", "))
		}
		d.r.ok("The pages connect only Zoom users of %s; each may send bots from /launch, %s.", strings.Join(who, " or "), limit)
	case len(platforms) > 0:
		d.r.warn("The pages are open to any Zoom user: anyone who can sign in to Zoom and authorize your Zoom app can connect at %s/zoom/oauth "+
			"and send bots from /launch on your %s account(s), %s. To limit it, set ALLOWED_ZOOM_ACCOUNTS (your Zoom account ID) or "+
			"ALLOWED_EMAIL_DOMAINS (e.g. example.com), or PAGES=false when your product connects people with connect links (the API).",
			d.baseURL(), strings.Join(platforms, ", "), limit)
	default:
		d.r.info("The pages are open to any Zoom user, but no bot platform is configured: they can connect Zoom, not send bots.")
	}
	if n, ok := openFileLimit(); ok && uint64(c.StreamsMax)+fdHeadroom > n {
		d.r.warn("STREAMS_MAX=%d live-status streams (one file descriptor each) leave less than %d of this shell's open-file limit (%d) for everything else: "+
			"token URLs would stop answering when the streams are full. Raise the limit (ulimit -n, systemd LimitNOFILE) or lower STREAMS_MAX.",
			c.StreamsMax, fdHeadroom, n)
	}
}
