// Package events carries the outbox out of the process: it delivers the
// events the store writes with each change to the product's webhook
// receiver (Deliverer, at least once, signed the Standard Webhooks way),
// streams them to browsers and API clients as Server-Sent Events (Broker,
// ServeSSE), and deletes old ones (Pruner).
//
// Nothing here writes events: the store does, in the transaction of the
// change it reports, so that a change and its event are never apart. The
// store calls back after each commit that wrote events
// (onbehalf.EventStore.WatchEvents); the app wires that to Notify on the
// Deliverer and the Broker, so that they look at once whatever wrote the
// event; both also poll the store every second, so events written by
// other instances go out too. Delivery and
// streaming run on their own goroutines and never block a request.
//
// The webhook body and the SSE data are the same bytes (Body):
// {"type", "timestamp", "data", "id", "seq"}. One ID names an event
// everywhere: the webhook-id (stable across retries, for the receiver to
// deduplicate), the SSE id: (for Last-Event-ID) and "id" in the body; "seq"
// orders events, so that a receiver can put deliveries that arrive out of
// order (events are delivered concurrently, a failed one is retried
// later) back in order. Neither order nor exactly-once is promised to
// webhook receivers.
package events

import (
	"encoding/json"
	"slices"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// body is the wire form of an event, field order as documented: the
// first three fields are the Standard Webhooks payload, the last two were
// added after them.
type body struct {
	Type      string          `json:"type"`
	Timestamp string          `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
	ID        string          `json:"id"`
	Seq       int64           `json:"seq"`
}

// Body returns the JSON the product receives for ev, in a webhook and in
// the event stream alike: {"type", "timestamp" (onbehalf.TimeLayout),
// "data", "id" (the webhook-id and SSE id), "seq" (the order of events)}.
// It is compact (one line), so it fits an SSE data: line as it is. It
// fails only when the stored data is not JSON, which is a bug in the
// store.
func Body(ev onbehalf.Event) ([]byte, error) {
	data := ev.Data
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	b, err := json.Marshal(body{Type: ev.Type, Timestamp: onbehalf.FormatTime(ev.Time), Data: data, ID: ev.ID, Seq: ev.Seq})
	if err != nil {
		return nil, onbehalf.WrapError(err, onbehalf.EINTERNAL, "The event's data is not JSON.")
	}
	return b, nil
}

// Filter selects the events a stream subscriber sees. The zero Filter
// selects every event (an API key sees the whole install); the launch
// page sets ConnectionID so that a person sees only their own bots.
type Filter struct {
	// ConnectionID, when set, keeps the events whose data.connection_id
	// is it.
	ConnectionID string
	// Types, when set, keeps the events of these types.
	Types []string
}

// match reports whether f selects an event of type typ about connection
// conn (its data.connection_id).
func (f Filter) match(typ, conn string) bool {
	if f.ConnectionID != "" && f.ConnectionID != conn {
		return false
	}
	return len(f.Types) == 0 || slices.Contains(f.Types, typ)
}

// Match reports whether f selects ev.
func (f Filter) Match(ev onbehalf.Event) bool {
	if f.ConnectionID == "" {
		return f.match(ev.Type, "")
	}
	return f.match(ev.Type, connectionID(ev))
}

// connectionID returns ev's data.connection_id ("" when it has none).
// Every event names its connection (onbehalf.ConnectionEventData,
// BotEventData), so one small decode serves every filter.
func connectionID(ev onbehalf.Event) string {
	var d struct {
		ConnectionID string `json:"connection_id"`
	}
	if json.Unmarshal(ev.Data, &d) != nil {
		return ""
	}
	return d.ConnectionID
}
