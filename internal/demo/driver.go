package demo

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/onbehalf/onbehalf/internal/meetingurl"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/platform/platformdemo"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// waitLimit is how long a fake bot waits for its person before it gives
// up, as real platforms do after a while.
const waitLimit = 15 * time.Minute

// pollEvery is how often the driver looks for bots the platforms created.
const pollEvery = 150 * time.Millisecond

// driver plays the fake platforms' bots: each bot a platform creates goes
// to its meeting the way a real one does, through the server's real
// routes only. It reports joining, fetches its token(s) from the token
// URL the server gave it (the server then shows it waiting for you),
// waits until you join the meeting on the fake Zoom, reports it is in the
// call, and leaves when you leave. A refused token makes it fail.
type driver struct {
	fakes    []*platformFake
	meetings *meetings
	zoom     *zoomdemo.Server
	pace     time.Duration
	// log gets what went wrong between a fake and the server.
	log io.Writer

	seen map[string]bool
	// came are the meetings the teammates came to (team.go).
	mu      sync.Mutex
	came    map[string]bool
	wg      sync.WaitGroup
	stopped chan struct{}
	once    sync.Once
}

// run looks for new bots until ctx is done.
func (d *driver) run(ctx context.Context) {
	defer d.stop()
	d.seen = map[string]bool{}
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, f := range d.fakes {
			for _, b := range f.Fake.Bots() {
				key := f.name + "/" + b.ID
				if d.seen[key] {
					continue
				}
				d.seen[key] = true
				d.wg.Add(1)
				go func() {
					defer d.wg.Done()
					d.drive(ctx, f, b)
				}()
			}
		}
	}
}

// stop marks the driver stopped (no more bots start).
func (d *driver) stop() {
	d.once.Do(func() { close(d.stopped) })
}

// wait waits until run has returned and every bot has stopped.
func (d *driver) wait() {
	<-d.stopped
	d.wg.Wait()
}

// drive plays one bot from creation to the end.
func (d *driver) drive(ctx context.Context, f *platformFake, b platformdemo.FakeBot) {
	id := ""
	if m, err := meetingurl.Parse(b.MeetingURL); err == nil {
		id = m.ID
		// You host every demo meeting: "skip the waiting room" works.
		d.zoom.SetHost(id, zoomdemo.DefaultUserID)
	}
	mb := d.meetings.addBot(id, b.BotName, f.title)
	send := func(s onbehalf.BotStatus, reason string, state botState) bool {
		if !sleep(ctx, d.pace) {
			return false
		}
		d.meetings.setState(mb, state)
		if err := f.Fake.SendStatus(ctx, b.ID, s, reason); err != nil && ctx.Err() == nil {
			d.logf("demo: the fake %s could not report %q to the server: %v", f.title, s, err)
		}
		return true
	}
	if !send(onbehalf.BotJoining, "", stateComing) || !sleep(ctx, d.pace) {
		return
	}
	if severalCandidates(b) { // team.go: Zoom's rule decides whose token lets it in
		d.driveCandidates(ctx, f, b, id, mb, send)
		return
	}
	if !d.fetch(ctx, f, b) {
		send(onbehalf.BotFailed, f.Refused, stateFailed)
		return
	}
	d.meetings.setState(mb, stateWaiting)
	if !d.meetings.waitPresent(ctx, id, true, waitLimit) {
		if ctx.Err() == nil {
			send(onbehalf.BotFailed, f.Absent, stateFailed)
		}
		return
	}
	if !send(onbehalf.BotInCall, "", stateIn) {
		return
	}
	if !d.meetings.waitPresent(ctx, id, false, 0) {
		return
	}
	send(onbehalf.BotDone, f.Left, stateLeft)
}

// fetch makes the bot fetch every token it was given, as its platform's
// bots do right before joining, and reports whether it got them all.
func (d *driver) fetch(ctx context.Context, f *platformFake, b platformdemo.FakeBot) bool {
	kinds := make([]onbehalf.TokenKind, 0, len(b.TokenURLs))
	for k := range b.TokenURLs {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	done := map[onbehalf.TokenKind]bool{}
	for _, k := range kinds {
		if done[k] {
			continue // one request may bring several tokens
		}
		got := f.Fake.Fetch(ctx, b.ID, k, platformdemo.Tamper{})
		if got.Tokens[k] == "" {
			return false
		}
		for kk := range got.Tokens {
			done[kk] = true
		}
	}
	return len(kinds) > 0
}

// logf writes a line to the demo's log.
func (d *driver) logf(format string, args ...any) {
	if d.log != nil {
		fmt.Fprintf(d.log, format+"\n", args...)
	}
}

// sleep waits d or until ctx is done, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
