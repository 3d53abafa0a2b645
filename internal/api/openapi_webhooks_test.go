package api_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/onbehalf/onbehalf/internal/events"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// The bodies the server sends, built as the store and the services build
// them (every field set), validate against their webhook's schema with
// kin-openapi (JSON Schema 2020-12); a body under another type's name, or
// with a field the schema does not know, does not.
func TestWebhookBodiesMatchSchemas(t *testing.T) {
	doc, err := loadDoc()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	conn := &onbehalf.Connection{ID: "conn_1", ZoomUserID: "zu_1", ExternalUserID: "user-1",
		Metadata: json.RawMessage(`{"plan":"pro"}`), State: onbehalf.StateDisconnected, DisconnectedReason: "revoked"}
	bot := &onbehalf.Bot{ID: "bot_1", Platform: "recall", PlatformBotID: "pb", ConnectionID: "conn_1", ExternalUserID: "user-1",
		ConnectionIDs: []string{"conn_1", "conn_2"}, Relay: true, RelayedFrom: "bot_0", RelayedTo: "bot_2",
		Failure: onbehalf.JoinUserLeft, FailureCode: "bot_kicked", MeetingID: "85012345678",
		Status: onbehalf.BotFailed, StatusReason: "left"}
	conflict := onbehalf.ConnectionEventData{ConnectionID: "conn_1", ExternalUserID: "a", RequestedExternalUserID: "b",
		PreviousExternalUserID: "c", ZoomUserID: "zu", State: onbehalf.StateConnected, Reason: "r"}
	failed := onbehalf.BotEventData{ConnectionID: "conn_1", BotID: "bot_1", Platform: "recall", Kind: onbehalf.KindOBF, HTTPStatus: 409, Reason: "reconnect"}
	var evs []onbehalf.Event
	for _, typ := range onbehalf.EventTypes {
		switch typ {
		case onbehalf.EventConnectionConflict:
			evs = append(evs, onbehalf.NewEvent(typ, now, conflict))
		case onbehalf.EventTokenFailed:
			evs = append(evs, onbehalf.NewEvent(typ, now, failed))
		case onbehalf.EventConnectionAtRisk:
			evs = append(evs, onbehalf.NewEvent(typ, now, onbehalf.AtRiskEventData{ConnectionID: "conn_1", ZoomUserID: "zu_1",
				ExternalUserID: "user-1", BotID: "bot_1", Platform: "recall", MeetingID: "85012345678", DueAt: now,
				Code: onbehalf.AtRiskMissingScope, Reason: "lacks a scope"}))
		case onbehalf.EventBotCreated, onbehalf.EventBotStatusChanged, onbehalf.EventBotRelayed:
			evs = append(evs, onbehalf.NewBotEvent(typ, now, bot, onbehalf.BotJoining))
		default:
			evs = append(evs, onbehalf.ConnectionEvent(typ, now, conn))
		}
	}
	schemaOf := func(typ string) *openapi3.Schema {
		item := doc.Webhooks[typ]
		if item == nil || item.Post == nil {
			t.Fatalf("no webhook %s", typ)
		}
		return item.Post.RequestBody.Value.Content["application/json"].Schema.Value
	}
	for i, ev := range evs {
		ev.ID, ev.Seq = "evt_1", int64(i+1)
		body, err := events.Body(ev)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		if err := schemaOf(ev.Type).VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
			t.Errorf("%s: %v\n%s", ev.Type, err, body)
		}
		other := onbehalf.EventBotCreated
		if ev.Type == other {
			other = onbehalf.EventConnectionCreated
		}
		if schemaOf(other).VisitJSON(v, openapi3.EnableJSONSchema2020()) == nil {
			t.Errorf("a %s body passes as %s", ev.Type, other)
		}
		v.(map[string]any)["data"].(map[string]any)["surprise"] = 1
		if schemaOf(ev.Type).VisitJSON(v, openapi3.EnableJSONSchema2020()) == nil {
			t.Errorf("%s: a data field the schema does not know passes", ev.Type)
		}
	}
}
