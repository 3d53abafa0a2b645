package recall

import (
	"encoding/json"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform"
)

var _ onbehalf.JoinScheduler = (*Adapter)(nil)

// JoinAt implements onbehalf.JoinScheduler. Recall.ai's create-bot takes join_at (ISO 8601): a bot scheduled more than 10 minutes ahead is a scheduled bot, which Recall starts on time.
func (a *Adapter) JoinAt(options json.RawMessage) (time.Time, bool, error) {
	return platform.JoinAtOption(options, "join_at")
}
