package events

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// Where a stream's resume position is read from: the header EventSource
// sends when it reconnects, and a query parameter for the first
// connection (EventSource cannot set headers; a page that rendered the
// state up to some event passes that event's id). The header wins: it is
// the newer of the two when both are there.
const (
	HeaderLastEventID = "Last-Event-ID"
	ParamLastEventID  = "last_event_id"
)

// ReadyEvent is the type of the first message of every stream: not an
// event of the outbox, but the stream's position, so that a client has
// an id to resume from before the first event arrives. It carries data,
// as EventSource clients that skip an id: without data (npm's eventsource
// among them) would otherwise resume from nothing and miss the events
// written while they were cut off.
const ReadyEvent = "ready"

// ServeSSE streams the events f selects to the client as Server-Sent
// Events until the request ends or the Broker is closed. The first
// message is the stream's position:
//
//	id: <Seq>
//	event: ready
//	data: {"type": "ready", "last_event_id": "<Seq>"}
//
// then one message per event:
//
//	id: <event ID: the webhook-id of the same event>
//	event: <type>
//	data: <Body: {"type", "timestamp", "data", "id", "seq"}>
//
// and ": ping" every Heartbeat. It resumes after Last-Event-ID (the header,
// else the last_event_id parameter): an event ID, or a Seq as the ready
// message and earlier versions gave; without either it sends only new
// events. key is the session or API key whose streams are bounded
// together.
//
// A non-nil error means nothing was written: a bad or unknown
// Last-Event-ID (EINVALID), too many streams (ETOOMANY, EUNAVAILABLE) or
// a store failure; the caller answers in its own format (JSON for the
// API, a page for people). Once the stream started it returns nil.
//
// The stream outlives the server's ReadTimeout and WriteTimeout: it
// clears the read deadline and moves the write deadline forward before
// each write, by WriteTimeout, so that a client that stopped reading is
// dropped rather than held.
func (b *Broker) ServeSSE(w http.ResponseWriter, r *http.Request, key string, f Filter) error {
	ctx := r.Context()
	after, err := b.lastEventID(ctx, r)
	if err != nil {
		return err
	}
	sub, err := b.Subscribe(ctx, key, after, f)
	if err != nil {
		return err
	}
	defer sub.Close()

	st := &stream{w: w, rc: http.NewResponseController(w), timeout: b.opts.WriteTimeout, sent: after}
	// A stream reads nothing more: the server's ReadTimeout must not end
	// it (net/http's HTTP/1 server clears it by itself once the request
	// is read; this does not rely on that).
	_ = st.rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	// The first message gives the client its resume position at once.
	var first bytes.Buffer
	ready(&first, sub.Cursor())
	st.sent = sub.Cursor()
	if st.write(first.Bytes()) != nil {
		return nil
	}

	heartbeat := time.NewTicker(b.opts.Heartbeat)
	defer heartbeat.Stop()
	for {
		var msg bytes.Buffer
		select {
		case <-ctx.Done():
			return nil
		case <-sub.done:
			return nil
		case <-b.done:
			return nil
		case <-heartbeat.C:
			st.idLine(&msg, sub.Cursor())
			msg.WriteString(": ping\n\n")
		case <-sub.wake:
			evs, err := sub.take(ctx)
			if err != nil {
				if ctx.Err() == nil {
					b.log.Warn("events: could not read events for a stream: ending it, the client resumes", "err", err)
				}
				return nil
			}
			if len(evs) == 0 {
				continue
			}
			for _, ev := range evs {
				message(&msg, ev)
			}
			st.sent = evs[len(evs)-1].Seq
		}
		if st.write(msg.Bytes()) != nil {
			return nil
		}
	}
}

// lastEventID returns the Seq a stream resumes after, or FromNow: the
// Seq itself (a whole number), or the Seq of the event whose ID is given.
func (b *Broker) lastEventID(ctx context.Context, r *http.Request) (int64, error) {
	name, v := HeaderLastEventID, r.Header.Get(HeaderLastEventID)
	if v == "" {
		name, v = ParamLastEventID, r.URL.Query().Get(ParamLastEventID)
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return FromNow, nil
	}
	if seq, err := strconv.ParseInt(v, 10, 64); err == nil && seq >= 0 {
		return seq, nil
	}
	bad := onbehalf.FieldError(name, "%s must be the id of a message this stream sent (an event ID, or a whole number).", name)
	if len(v) > maxEventID || strings.ContainsFunc(v, func(c rune) bool { return c <= ' ' || c > '~' }) {
		return 0, bad
	}
	seq, err := b.store.EventSeq(ctx, v)
	if onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND {
		return 0, onbehalf.FieldError(name, "%s names no event kept on this server (events are kept for a few days): connect without it to start from now.", name)
	}
	return seq, err
}

// maxEventID bounds an event ID read from a client: every ID the store
// makes is far shorter.
const maxEventID = 64

// ready appends the first message of a stream: its position, with data.
func ready(buf *bytes.Buffer, cursor int64) {
	pos := strconv.FormatInt(cursor, 10)
	buf.WriteString("id: " + pos + "\nevent: " + ReadyEvent + "\ndata: ")
	buf.WriteString(`{"type":"` + ReadyEvent + `","last_event_id":"` + pos + `"}` + "\n\n")
}

// message appends ev as one SSE message, under its ID. Body is compact
// JSON, so one data: line holds it.
func message(buf *bytes.Buffer, ev onbehalf.Event) {
	data, err := Body(ev)
	if err != nil {
		data = []byte(`{}`)
	}
	buf.WriteString("id: ")
	buf.WriteString(ev.ID)
	buf.WriteString("\nevent: ")
	buf.WriteString(ev.Type)
	buf.WriteString("\ndata: ")
	buf.Write(data)
	buf.WriteString("\n\n")
}

// stream writes to one client.
type stream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	sent    int64 // the last id the client was given (FromNow: none)
}

// idLine appends an id-only message when the cursor moved past events
// the filter skipped: a browser's Last-Event-ID moves with it (an id
// without data dispatches nothing), so a reconnect does not read them
// again. Clients that ignore an id without data resume from their last
// event instead, which costs a re-read of the skipped events, never an
// event.
func (st *stream) idLine(buf *bytes.Buffer, cursor int64) {
	if cursor > st.sent {
		buf.WriteString("id: ")
		buf.WriteString(strconv.FormatInt(cursor, 10))
		buf.WriteString("\n\n")
		st.sent = cursor
	}
}

// write sends p and flushes it, within the write timeout.
func (st *stream) write(p []byte) error {
	if err := st.rc.SetWriteDeadline(time.Now().Add(st.timeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	if _, err := st.w.Write(p); err != nil {
		return err
	}
	return st.rc.Flush()
}
