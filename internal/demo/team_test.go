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

// TestDemoTeammates: the launch form offers the demo's three teammates; a
// bot sent for you, Ada (who never joins) and Ben (who does), while you
// stay away, gets in with Ben's token, on a fetching platform and on
// Attendee (the list); the timeline says whose token and why.
func TestDemoTeammates(t *testing.T) {
	d := demotest.Start(t, app.Platforms, pace)
	p := demotest.NewPerson(t, d)
	p.Connect()
	_, page := p.Get(d.URL + "/launch")
	boxes := teammateBox.FindAllStringSubmatch(page, -1)
	if len(boxes) != 3 || !strings.HasPrefix(boxes[0][2], "Ada") || !strings.HasPrefix(boxes[1][2], "Ben") || !strings.HasPrefix(boxes[2][2], "Cleo") {
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
			p.WaitBots(`id="bot-` + id + `" data-status="in_call"`)
			bots := p.WaitBots("Ben (joins)'s token") // token fetches reach the timeline within a fraction of a second
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

// mateButton finds a teammate's "leaves" button on the meeting page.
var mateButton = regexp.MustCompile(`<form method="post" action="(/j/\d+/leave/[^"]+)"><button class="small" type="submit" id="leave-[^"]+">(\w+) leaves</button>`)

// TestDemoRelay: a bot sent on Recall.ai with relay for you, Ada, Ben and
// Cleo, while you stay away, gets in with Ben's token; when Ben leaves
// (the meeting page's button) while Cleo stays, the fake Recall.ai
// reports the removal as Recall.ai's sub code for "the authorized user
// left", the server relays, and the new bot gets in with Cleo's token.
// The person's page shows both bots, linked, with whose token each fetch
// got.
func TestDemoRelay(t *testing.T) {
	d := demotest.Start(t, app.Platforms, pace)
	p := demotest.NewPerson(t, d)
	p.Connect()
	_, page := p.Get(d.URL + "/launch")
	if !strings.Contains(page, `name="relay" value="1"`) {
		t.Fatal("the launch form does not offer relay")
	}
	var ids []string
	for _, b := range teammateBox.FindAllStringSubmatch(page, -1) {
		ids = append(ids, b[1])
	}
	const meeting = "85011122233"
	resp, page := p.Post(d.URL+"/launch", url.Values{
		"meeting_url": {"https://zoom.us/j/" + meeting}, "platform": {"recall"}, "teammate": ids, "relay": {"1"},
	})
	first := resp.Request.URL.Query().Get("created")
	if resp.StatusCode != 200 || first == "" {
		t.Fatalf("launch: %d\n%s", resp.StatusCode, page)
	}
	card := func(page, id string) string {
		i := strings.Index(page, `id="bot-`+id+`"`)
		if i < 0 {
			return ""
		}
		c := page[i:]
		if end := strings.Index(c, "</li>\n<li"); end > 0 {
			c = c[:end]
		}
		return c
	}
	p.WaitBots(`id="bot-` + first + `" data-status="in_call"`)
	bots := p.WaitBots("Ben (joins)'s token")
	if c := card(bots, first); !strings.Contains(c, "Ben (joins)&#39;s token") {
		t.Fatalf("the bot is not in with Ben's token:\n%s", c)
	}

	_, mpage := p.Get(d.ZoomURL + "/j/" + meeting)
	leave := ""
	for _, m := range mateButton.FindAllStringSubmatch(mpage, -1) {
		if m[2] == "Ben" {
			leave = m[1]
		}
	}
	if leave == "" || !strings.Contains(mpage, "Cleo (stays)") {
		t.Fatalf("the meeting page has no Ben leaves button, or no Cleo:\n%s", mpage)
	}
	if resp, _ := p.Post(d.ZoomURL+leave, nil); resp.StatusCode != 200 {
		t.Fatalf("Ben leaves: %d", resp.StatusCode)
	}

	bots = p.WaitBots(`id="bot-` + first + `" data-status="done"`)
	relayed := regexp.MustCompile(`Relayed to <a href="#bot-([^"]+)">`).FindStringSubmatch(card(bots, first))
	if relayed == nil {
		bots = p.WaitBots("Relayed to ")
		relayed = regexp.MustCompile(`Relayed to <a href="#bot-([^"]+)">`).FindStringSubmatch(card(bots, first))
	}
	if relayed == nil {
		t.Fatalf("the first bot is not linked to a relay:\n%s", card(bots, first))
	}
	second := relayed[1]
	p.WaitBots(`id="bot-` + second + `" data-status="in_call"`)
	bots = p.WaitBots("Your bot is in the call, with Cleo (stays)'s token.")
	old, nu := card(bots, first), card(bots, second)
	for _, want := range []string{"Ben (joins), whose token let the bot in, left, so a new bot took over for Cleo (stays).", "See the new bot", "Ben (joins)&#39;s token"} {
		if !strings.Contains(old, want) {
			t.Errorf("the first bot's card lacks %q:\n%s", want, old)
		}
	}
	for _, want := range []string{"Your bot is in the call, with Cleo (stays)&#39;s token.", `Sent when <a href="#bot-` + first + `">an earlier bot</a> was removed`, "See the earlier bot", "Cleo (stays)&#39;s token: first choice"} {
		if !strings.Contains(nu, want) {
			t.Errorf("the relayed bot's card lacks %q:\n%s", want, nu)
		}
	}
}
