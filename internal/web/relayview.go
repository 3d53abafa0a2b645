package web

import (
	"context"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Relays on the person's page. A bot relayed because the person whose
// token let it in left is replaced by a bot for the next candidate, which
// belongs to that candidate's connection: the sender's page follows the
// links (Bot.RelayedTo) so that the sender still sees the bot that took
// over, next to the one it replaced, each card saying where it came from
// or went, by name.

// withRelays returns list with the bots its bots were relayed to (and
// those relayed on from them), each put just before the bot it replaced
// (the list is newest first); bots already listed are not repeated.
func withRelays(ctx context.Context, st Store, list []*onbehalf.Bot) []*onbehalf.Bot {
	seen := make(map[string]bool, len(list))
	for _, b := range list {
		seen[b.ID] = true
	}
	out := make([]*onbehalf.Bot, 0, len(list))
	for _, b := range list {
		var chain []*onbehalf.Bot
		for id := b.RelayedTo; id != "" && !seen[id] && len(chain) < onbehalf.MaxRelays; {
			nb, err := st.Bot(ctx, id)
			if err != nil {
				break
			}
			seen[id] = true
			chain = append(chain, nb)
			id = nb.RelayedTo
		}
		for i := len(chain) - 1; i >= 0; i-- { // the newest first
			out = append(out, chain[i])
		}
		out = append(out, b)
	}
	return out
}

// relayLinks fills a card's links to the bots it was relayed from and to,
// and says so in its headline when it was relayed on.
func relayLinks(v *botView, b *onbehalf.Bot, vc viewContext) {
	v.RelayedFrom, v.RelayedTo = b.RelayedFrom, b.RelayedTo
	if b.RelayedTo != "" {
		v.Label = "Relayed"
		who := "The person whose token let the bot in"
		if n := inWith(b, vc.names); n != "" {
			who = n + ", whose token let the bot in,"
		}
		v.Headline = who + " left, so a new bot took over" + forWhom(relayConnection(b), vc.names) + "."
		v.Detail, v.Next = "", ""
	}
}

// relayConnection is the connection the bot b was relayed to got, from
// b's timeline ("" when unknown).
func relayConnection(b *onbehalf.Bot) string {
	for i := len(b.Timeline) - 1; i >= 0; i-- {
		if e := b.Timeline[i]; e.Type == onbehalf.BotEventRelay && e.RelayBotID == b.RelayedTo {
			return e.ConnectionID
		}
	}
	return ""
}

// forWhom says on whose behalf a relayed bot went (" for Cleo"), "" when
// the page does not know the connection.
func forWhom(conn string, names map[string]string) string {
	switch n := names[conn]; n {
	case "":
		return ""
	case "your":
		return " for you"
	default:
		return " for " + n[:len(n)-len("'s")]
	}
}

// relayEntry renders a relay entry of b's timeline: where the bot went
// or came from, with the person's name, never the IDs.
func relayEntry(e onbehalf.BotEvent, b *onbehalf.Bot, names map[string]string) timelineView {
	tv := timelineView{At: e.At, Label: "Relayed", Link: e.RelayBotID}
	if e.RelayBotID == b.RelayedFrom {
		tv.Text = "This bot took over from an earlier bot" + forWhom(e.ConnectionID, names) + ": the person whose token let that one in left the meeting. "
		tv.LinkText = "See the earlier bot"
		return tv
	}
	tv.Text = "The person whose token let this bot in left the meeting; Zoom removed the bot, so a new one was sent" + forWhom(e.ConnectionID, names) + ". "
	tv.LinkText = "See the new bot"
	return tv
}

// relayedFor names, by bot ID, the sender of the bots of list that a
// relay sent for the page's person (conn) from someone else's bot: the
// person did not send them, though they are the person's connection's.
func relayedFor(ctx context.Context, st Store, conn *onbehalf.Connection, list []*onbehalf.Bot) map[string]string {
	var out map[string]string
	for _, b := range list {
		if b.RelayedFrom == "" || b.ConnectionID != conn.ID {
			continue
		}
		origin := b
		for i := 0; origin.RelayedFrom != "" && i < onbehalf.MaxRelays; i++ {
			prev, err := st.Bot(ctx, origin.RelayedFrom)
			if err != nil {
				break
			}
			origin = prev
		}
		if origin.ConnectionID == conn.ID {
			continue
		}
		name := "a teammate"
		if c, err := st.Connection(ctx, origin.ConnectionID); err == nil {
			name = personName(c)
		}
		if out == nil {
			out = map[string]string{}
		}
		out[b.ID] = name
	}
	return out
}

// sentFor marks a card as a bot a relay sent with the person's token for
// sender's bot.
func sentFor(v *botView, sender string) {
	v.SentBy = sender
	if v.Status == onbehalf.BotInCall {
		v.Headline = "A bot of " + sender + "'s is in the call with your token."
	}
}

// relayWatch is how long after a relay bot was removed because its person
// left the page still expects the relay to show up.
const relayWatch = time.Minute

// watch reports whether the page should reload b's card by itself: b is
// another connection's bot (a relay sent it) still on its way or in the
// call, whose events reach that connection's stream and not the page's;
// or b was just removed because its person left and its relay may not be
// written yet.
func watch(b *onbehalf.Bot, conn *onbehalf.Connection, now time.Time) bool {
	if b.ConnectionID != conn.ID {
		return !b.Status.Final()
	}
	return b.Relay && b.RelayedTo == "" && b.Failure == onbehalf.JoinUserLeft && now.Sub(b.UpdatedAt) < relayWatch
}
