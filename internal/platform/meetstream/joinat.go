package meetstream

import (
	"encoding/json"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
)

var _ onbehalf.JoinScheduler = (*Adapter)(nil)

// JoinAt implements onbehalf.JoinScheduler. MeetStream's create-bot takes join_at (ISO 8601 with a zone offset): the bot joins at that time.
func (a *Adapter) JoinAt(options json.RawMessage) (time.Time, bool, error) {
	return platform.JoinAtOption(options, "join_at")
}
