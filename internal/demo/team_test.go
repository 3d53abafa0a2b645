package demo_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/onbehalf/onbehalf/internal/app"
	"github.com/onbehalf/onbehalf/internal/demotest"
)

// teammateBox finds a teammate's box on the launch form.
var teammateBox = regexp.MustCompile(`name="teammate" value="([^"]+)"> <span>([^<]+)<`)

// TestDemoTeammates: the launch form offers the demo's two teammates; a
// bot sent for you, Ada (who never joins) and Ben (who does), while you
// stay away, gets in with Ben's token, on a fetching platform and on
// Attendee (the list); the timeline says whose token and why.
func TestDemoTeammates(t *testing.T) {
	d := demotest.Start(t, app.Platforms, pace)
	p := demotest.NewPerson(t, d)
	p.Connect()
	_, page := p.Get(d.URL + "/launch")
	boxes := teammateBox.FindAllStringSubmatch(page, -1)
	if len(boxes) != 2 || !strings.HasPrefix(boxes[0][2], "Ada") || !strings.HasPrefix(boxes[1][2], "Ben") {
		t.Fatalf("teammates offered: %q", boxes)
	}
	for i, name := range []string{"recall", "attendee"} {
		t.Run(name, func(t *testing.T) {
			p.T = t
			meeting := "8509876543" + string(rune('0'+i))
			resp, page := p.Post(d.URL+"/launch", url.Values{
				"meeting_url": {"https://zoom.us/j/" + meeting}, "platform": {name},
				"teammate": {boxes[0][1], boxes[1][1]},
			})
			if resp.StatusCode != 200 || resp.Request.URL.Query().Get("created") == "" {
				t.Fatalf("launch: %d\n%s", resp.StatusCode, page)
			}
			id := resp.Request.URL.Query().Get("created")
			bots := p.WaitBots(`id="bot-` + id + `" data-status="in_call"`)
			card := bots[strings.Index(bots, `id="bot-`+id+`"`):]
			if end := strings.Index(card, "</li>\n<li"); end > 0 {
				card = card[:end]
			}
			if !strings.Contains(card, "Ben (joins)&#39;s token") {
				t.Fatalf("the timeline does not say the bot got in with Ben's token:\n%s", card)
			}
		})
	}
}
