package attendee

import (
	"encoding/json"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
)

var _ onbehalf.JoinScheduler = (*Adapter)(nil)

// JoinAt implements onbehalf.JoinScheduler. Attendee's create-bot takes join_at (ISO 8601, in the future): the bot stays in its scheduled state until then.
func (a *Adapter) JoinAt(options json.RawMessage) (time.Time, bool, error) {
	return platform.JoinAtOption(options, "join_at")
}
