package api

import (
	"fmt"
	"strings"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// checkCandidates checks connection_ids, the candidates of a bot or of
// token URLs in order of preference: absent, or 1 to MaxCandidates IDs
// (whether each is connected is the launch service's check, which names
// the one that is not).
func checkCandidates(ids []string, given bool) error {
	switch {
	case !given:
		return nil
	case len(ids) == 0:
		return onbehalf.FieldError("connection_ids", "Bad connection_ids: name at least one connection.")
	case len(ids) > onbehalf.MaxCandidates:
		return onbehalf.FieldError("connection_ids", "Bad connection_ids: %d connections at most.", onbehalf.MaxCandidates)
	}
	for i, id := range ids {
		field := fmt.Sprintf("connection_ids[%d]", i)
		if id == "" || strings.Contains(id, ",") {
			return onbehalf.FieldError(field, "Bad %s: not a connection ID.", field)
		}
		if err := checkID(field, id, maxID); err != nil {
			return err
		}
	}
	return nil
}

// candidateNotFound is the API's error for an unknown candidate: the
// field the launch service named.
func candidateNotFound(err error, fallback string) error {
	field := onbehalf.ErrorField(err)
	if field == "" {
		field = fallback
	}
	return errNoConnection(field)
}
