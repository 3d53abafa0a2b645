package demo

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html/template"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/zoomdemo"
)

// frontServer is the fake Zoom as the browser and the server see it: the
// fake's OAuth and API endpoints behind its consent page, and the
// meetings a person joins and leaves (/j/<id>, like zoom.us/j/<id>).
type frontServer struct {
	url string
	srv *http.Server
}

// meetingPage is what the meeting page handlers need.
type meetingPage struct {
	zoom     *zoomdemo.Server
	meetings *meetings
	// app is the server's URL (links back to it).
	app string
}

// startFront serves the fake Zoom on a free port of 127.0.0.1.
func startFront(z *zoomdemo.Server, m *meetings, app string) (*frontServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &meetingPage{zoom: z, meetings: m, app: app}
	mux := http.NewServeMux()
	mux.Handle("/", z.ConsentHandler(zoomdemo.Consent{AppName: "onbehalf (demo)", Demo: true}))
	mux.HandleFunc("GET /j/{id}", p.show)
	cop := http.NewCrossOriginProtection()
	mux.Handle("POST /j/{id}/join", cop.Handler(http.HandlerFunc(p.join)))
	mux.Handle("POST /j/{id}/leave", cop.Handler(http.HandlerFunc(p.leave)))
	mux.Handle("POST /j/{id}/revoke", cop.Handler(http.HandlerFunc(p.revoke)))
	mux.Handle("POST /j/{id}/leave/{user}", cop.Handler(http.HandlerFunc(p.teammateLeaves)))
	f := &frontServer{url: "http://" + ln.Addr().String(), srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		if err := f.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the demo goes on; the server reports Zoom as unreachable
		}
	}()
	return f, nil
}

// close stops the fake Zoom.
func (f *frontServer) close() { _ = f.srv.Close() }

// meetingID returns the request's meeting ID, or writes a 404.
func meetingID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if onbehalf.CheckMeetingID("meeting", id) != nil {
		http.Error(w, "This meeting ID is not valid. Zoom meeting IDs have 9 to 11 digits.", http.StatusNotFound)
		return "", false
	}
	return id, true
}

// show serves GET /j/{id}: the meeting, who is in it, and Join or Leave.
func (p *meetingPage) show(w http.ResponseWriter, r *http.Request) {
	id, ok := meetingID(w, r)
	if !ok {
		return
	}
	present, bots := p.meetings.snapshot(id)
	d := meetingData{
		ID: id, Spaced: spaced(id), Present: present, Bots: bots, You: demoUserName,
		App: p.app, Refresh: p.meetings.pending(id), Revoked: r.URL.Query().Get("revoked") == "1",
	}
	for _, u := range teammates { // team.go
		if p.zoom.InMeeting(id, u.ID) {
			d.Mates = append(d.Mates, mateTile{ID: u.ID, Name: u.DisplayName, First: u.FirstName})
		}
	}
	w.Header().Set("Content-Security-Policy", meetingCSP)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = meetingTemplate.Execute(w, d)
}

// join serves POST /j/{id}/join: you are in the meeting.
func (p *meetingPage) join(w http.ResponseWriter, r *http.Request) {
	if id, ok := meetingID(w, r); ok {
		p.meetings.setPresent(id, true)
		http.Redirect(w, r, "/j/"+id, http.StatusSeeOther)
	}
}

// leave serves POST /j/{id}/leave: you left the meeting.
func (p *meetingPage) leave(w http.ResponseWriter, r *http.Request) {
	if id, ok := meetingID(w, r); ok {
		p.meetings.setPresent(id, false)
		http.Redirect(w, r, "/j/"+id, http.StatusSeeOther)
	}
}

// teammateLeaves serves POST /j/{id}/leave/{user}: a teammate leaves the
// meeting (Zoom then removes a bot that got in with their token).
func (p *meetingPage) teammateLeaves(w http.ResponseWriter, r *http.Request) {
	id, ok := meetingID(w, r)
	if !ok {
		return
	}
	user := r.PathValue("user")
	if !slices.ContainsFunc(teammates, func(u zoomdemo.User) bool { return u.ID == user }) {
		http.Error(w, "No such teammate in the demo.", http.StatusNotFound)
		return
	}
	p.zoom.LeaveMeeting(id, user)
	http.Redirect(w, r, "/j/"+id, http.StatusSeeOther)
}

// revoke serves POST /j/{id}/revoke: as if you removed the app in Zoom,
// its grant dies; the server learns it at the next token request.
func (p *meetingPage) revoke(w http.ResponseWriter, r *http.Request) {
	if id, ok := meetingID(w, r); ok {
		p.zoom.RevokeGrant(zoomdemo.DefaultUserID)
		http.Redirect(w, r, "/j/"+id+"?revoked=1", http.StatusSeeOther)
	}
}

// spaced groups a meeting ID the way Zoom prints it: 850 1234 5678.
func spaced(id string) string {
	switch len(id) {
	case 11:
		return id[:3] + " " + id[3:7] + " " + id[7:]
	case 10:
		return id[:3] + " " + id[3:6] + " " + id[6:]
	case 9:
		return id[:3] + " " + id[3:6] + " " + id[6:]
	}
	return id
}

// meetingData is what the meeting page shows.
type meetingData struct {
	ID, Spaced string
	// Present says whether you are in the meeting; You is your name.
	Present bool
	You     string
	// Bots are the bots sent to the meeting, newest first.
	Bots []meetingBot
	// App is the server's URL.
	App string
	// Refresh makes the page reload itself while a bot is on its way.
	Refresh bool
	// Revoked says the app's access was just removed.
	Revoked bool
	// Mates are the demo's teammates in the meeting.
	Mates []mateTile
}

// mateTile is a teammate in the meeting, with a button to make them leave.
type mateTile struct {
	ID, Name, First string
}

// meetingStyle is the meeting page's style sheet: a dark meeting window,
// so that it does not look like onbehalf.
const meetingStyle = `
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#1f1f24;color:#f2f3f5;line-height:1.5}
header{background:#111114;padding:.7rem 1.2rem;display:flex;align-items:center;gap:.7rem;flex-wrap:wrap}
.logo{font-weight:800;font-size:1.4rem;color:#4f8bff;letter-spacing:-.02em}
.demo{background:#6b2fd6;color:#fff;font-weight:700;font-size:.75rem;letter-spacing:.06em;padding:.15rem .5rem;border-radius:4px}
.note{margin-left:auto;color:#a4a8b3;font-size:.85rem}
main{max-width:46rem;margin:0 auto;padding:1.2rem 1rem 3rem}
h1{font-size:1.2rem;margin:.4rem 0 .2rem;font-weight:600}
.sub{color:#a4a8b3;margin:0 0 1.2rem;font-size:.95rem}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(12rem,1fr));gap:.7rem;margin:0 0 1.2rem;padding:0;list-style:none}
.tile{background:#2b2b33;border-radius:10px;padding:1rem;min-height:7rem;display:flex;flex-direction:column;justify-content:flex-end;border:2px solid transparent}
.tile.you{border-color:#4f8bff}.tile.out{opacity:.55;border:2px dashed #4a4a55}
.tile .name{font-weight:600}.tile .state{color:#c3c6cf;font-size:.88rem}
.tile.in .state{color:#7fdca4}.tile.wait .state{color:#ffd166}
.bar{display:flex;gap:.7rem;flex-wrap:wrap;align-items:center}
button{font-size:1rem;padding:.65rem 1.3rem;border-radius:8px;border:0;cursor:pointer;font-weight:600}
.join{background:#0b5cff;color:#fff}.leave{background:#e0352b;color:#fff}
.back{color:#9cc0ff}
.tile .small{margin-top:.5rem;font-size:.85rem;padding:.35rem .8rem;background:#3a3a44;color:#f2f3f5;font-weight:500}
.panel{margin-top:2rem;border-top:1px solid #3a3a44;padding-top:1rem;color:#c3c6cf;font-size:.92rem}
.panel h2{font-size:1rem;margin:0 0 .4rem;color:#f2f3f5}
.panel button{background:#3a3a44;color:#f2f3f5;font-weight:500;font-size:.92rem}
.flash{background:#3b2d12;border:1px solid #7a5a17;color:#ffe3a3;border-radius:8px;padding:.6rem .8rem;margin:0 0 1rem}
`

// meetingCSP allows the page's style sheet and nothing else. No
// form-action: the forms redirect to the page itself.
var meetingCSP = func() string {
	sum := sha256.Sum256([]byte(meetingStyle))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; img-src data:; frame-ancestors 'none'; base-uri 'none'"
}()

// meetingTemplate is the meeting page.
var meetingTemplate = template.Must(template.New("meeting").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
{{if .Refresh}}<meta http-equiv="refresh" content="2">{{end}}
<title>Zoom meeting {{.Spaced}} (demo)</title>
<style>` + meetingStyle + `</style></head>
<body>
<header><span class="logo">zoom</span><span class="demo">DEMO</span><span class="note">A fake Zoom meeting on this machine</span></header>
<main>
{{if .Revoked}}<div class="flash" role="status">onbehalf's access to your Zoom account was removed, as if you removed the app in Zoom. The next bot's token request will fail and onbehalf will ask you to reconnect.</div>{{end}}
<h1>Meeting {{.Spaced}}</h1>
{{if .Present}}<p class="sub" id="presence">You are in the meeting{{if .Bots}}: your bot can be with you{{end}}.</p>
{{else if .Mates}}<p class="sub" id="presence">You are not in this meeting; teammates are. With On-Behalf-Of tokens, a bot is in only while the person whose token let it in is: Zoom removes it when they leave.</p>
{{else}}<p class="sub" id="presence">You are not in this meeting. With On-Behalf-Of tokens, a bot can only get in while you are in the meeting.</p>{{end}}
<ul class="tiles">
<li class="tile {{if .Present}}you{{else}}out{{end}}"><span class="name">{{.You}} (you)</span><span class="state">{{if .Present}}in the meeting · host{{else}}not joined{{end}}</span></li>
{{range .Mates}}<li class="tile mate in" id="mate-{{.ID}}"><span class="name">{{.Name}}</span><span class="state">in the meeting · teammate</span><form method="post" action="/j/{{$.ID}}/leave/{{.ID}}"><button class="small" type="submit" id="leave-{{.ID}}">{{.First}} leaves</button></form></li>
{{end}}{{range .Bots}}<li class="tile bot {{if eq .State "in the meeting"}}in{{else if eq .State "waiting for you to join"}}wait{{else}}out{{end}}"><span class="name">{{.Name}}</span><span class="state">{{.Platform}} bot · {{.State}}</span></li>
{{end}}</ul>
<div class="bar">
{{if .Present}}<form method="post" action="/j/{{.ID}}/leave"><button class="leave" type="submit" id="leave">Leave meeting</button></form>
{{else}}<form method="post" action="/j/{{.ID}}/join"><button class="join" type="submit" id="join">Join as {{.You}}</button></form>{{end}}
<a class="back" href="{{.App}}/launch">Back to onbehalf to watch your bot</a>
</div>
<div class="panel"><h2>Try what can go wrong</h2>
<p>Remove onbehalf's access, as if you removed the app in Zoom (App Marketplace → Manage → Added Apps). The next bot's token request then fails, and onbehalf asks you to reconnect.</p>
<form method="post" action="/j/{{.ID}}/revoke"><button type="submit" id="revoke">Remove onbehalf's access to my Zoom account</button></form>
</div>
</main></body></html>`))
