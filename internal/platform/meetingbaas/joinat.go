package meetingbaas

import (
	"encoding/json"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
)

var _ onbehalf.JoinScheduler = (*Adapter)(nil)

// JoinAt implements onbehalf.JoinScheduler. Meeting BaaS schedules a bot
// through another route (POST /v2/bots/scheduled, with join_at) than the
// one this server calls (POST /v2/bots, which sends the bot now), so a
// join_at in the options is refused before any call, rather than sending
// a bot now that was meant for later.
func (a *Adapter) JoinAt(options json.RawMessage) (time.Time, bool, error) {
	return platform.RefuseJoinAt(options, "join_at", Title+" takes a join time only on its scheduled-bot route, which this server does not call: create the bot when the meeting starts.")
}
