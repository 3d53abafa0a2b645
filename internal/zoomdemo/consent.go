package zoomdemo

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// Consent describes the fake consent page of Server.ConsentHandler.
type Consent struct {
	// AppName is the app's name as the page shows it ("onbehalf (demo)").
	AppName string
	// Demo marks the page as part of a demo.
	Demo bool
}

// scopeWords say what a scope lets the app do, as Zoom's consent page
// words it.
var scopeWords = map[string]string{
	scopeUser: "See your Zoom profile: name and email address",
	scopeOBF:  "Let meeting bots join your meetings on your behalf, while you are in them (On-Behalf-Of token)",
	scopeZAK:  "Let a bot sign in to Zoom as you (ZAK)",
	scopeJoin: "Let bots skip the waiting room of meetings you host (join token)",
}

// ConsentHandler returns the fake Zoom with a consent page in front of its
// authorization endpoint, as a person meets the real one: GET
// /oauth/authorize shows "<app> wants to access your Zoom account" with
// the permissions and Allow / Decline, for the default user (or
// fake_user); POST /oauth/authorize answers the choice: Allow redirects
// back with a code exactly as the bare endpoint does, Decline with
// error=access_denied. Every other request is the fake Zoom's own. Serve
// it on a listener of its own and use that URL as the OAuth and API base.
func (s *Server) ConsentHandler(c Consent) http.Handler {
	if c.AppName == "" {
		c.AppName = "onbehalf"
	}
	inner := s.ts.Config.Handler
	mux := http.NewServeMux()
	mux.Handle("/", inner)
	mux.HandleFunc("GET /oauth/authorize", func(w http.ResponseWriter, r *http.Request) { s.showConsent(w, r, c) })
	mux.HandleFunc("POST /oauth/authorize", func(w http.ResponseWriter, r *http.Request) { s.decideConsent(w, r, inner) })
	return mux
}

// consentData is what the consent page shows.
type consentData struct {
	Consent
	User        User
	Permissions []string
	// Query is the authorization request, carried through the form.
	Query    string
	Redirect string
}

// showConsent serves the consent page of a valid authorization request.
func (s *Server) showConsent(w http.ResponseWriter, r *http.Request, c Consent) {
	q := r.URL.Query()
	u, msg := s.checkAuthorize(q)
	if msg != "" {
		http.Error(w, msg, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	scope, ok := s.scopes[u.ID]
	s.mu.Unlock()
	if !ok {
		scope = Scope
	}
	d := consentData{Consent: c, User: u, Query: r.URL.RawQuery, Redirect: q.Get("redirect_uri")}
	for _, sc := range strings.Fields(scope) {
		if words, ok := scopeWords[sc]; ok {
			d.Permissions = append(d.Permissions, words)
		} else {
			d.Permissions = append(d.Permissions, sc)
		}
	}
	w.Header().Set("Content-Security-Policy", consentCSP)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = consentPage.Execute(w, d)
}

// decideConsent answers the consent form: Allow is the authorization
// request itself, served by the fake's endpoint (code and state back to
// the redirect URI); Decline sends the person back with access_denied.
func (s *Server) decideConsent(w http.ResponseWriter, r *http.Request, inner http.Handler) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "Invalid form", http.StatusBadRequest)
		return
	}
	q, err := url.ParseQuery(r.PostForm.Get("request"))
	if err != nil {
		http.Error(w, "Invalid authorization request", http.StatusBadRequest)
		return
	}
	if _, msg := s.checkAuthorize(q); msg != "" {
		http.Error(w, msg, http.StatusBadRequest)
		return
	}
	if r.PostForm.Get("decision") != "allow" {
		target, _ := url.Parse(q.Get("redirect_uri"))
		params := target.Query()
		params.Set("error", "access_denied")
		params.Set("error_description", "The user has denied your application access.")
		if st := q.Get("state"); st != "" {
			params.Set("state", st)
		}
		target.RawQuery = params.Encode()
		http.Redirect(w, r, target.String(), http.StatusFound)
		return
	}
	allow := r.Clone(r.Context())
	allow.Method = http.MethodGet
	allow.Body = http.NoBody
	allow.URL.RawQuery = q.Encode()
	allow.Form, allow.PostForm = nil, nil
	inner.ServeHTTP(w, allow)
}

// checkAuthorize checks an authorization request as the endpoint does
// and returns the user who approves it, or why it is refused.
func (s *Server) checkAuthorize(q url.Values) (User, string) {
	if q.Get("client_id") != s.clientID {
		return User{}, "Invalid client_id: " + q.Get("client_id")
	}
	if q.Get("response_type") != "code" {
		return User{}, "Unsupported response_type: must be code"
	}
	redirectURI := q.Get("redirect_uri")
	target, err := url.Parse(redirectURI)
	if err != nil || target.Scheme == "" || target.Host == "" {
		return User{}, "Invalid redirect_uri: not an absolute URL"
	}
	if s.AllowedRedirect != "" && redirectURI != s.AllowedRedirect {
		return User{}, "Invalid redirect: " + redirectURI + " is not allowed for this app"
	}
	id := DefaultUserID
	if v, ok := q["fake_user"]; ok {
		id = v[0]
	}
	s.mu.Lock()
	u, ok := s.users[id]
	s.mu.Unlock()
	if !ok {
		return User{}, "zoomdemo: unknown fake_user " + id
	}
	return u, ""
}

// consentStyle is the page's one style sheet: Zoom's blue, nothing
// loaded from elsewhere.
const consentStyle = `
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f1f4fa;color:#232333;line-height:1.5}
header{background:#fff;border-bottom:1px solid #e4e7ee;padding:.8rem 1.2rem;display:flex;align-items:center;gap:.7rem}
.logo{font-weight:800;font-size:1.5rem;color:#0b5cff;letter-spacing:-.02em}
.demo{background:#6b2fd6;color:#fff;font-weight:700;font-size:.75rem;letter-spacing:.06em;padding:.15rem .5rem;border-radius:4px}
.note{margin-left:auto;color:#6e7680;font-size:.85rem}
main{max-width:30rem;margin:2rem auto;padding:0 1rem}
.card{background:#fff;border:1px solid #e4e7ee;border-radius:12px;padding:1.5rem;box-shadow:0 2px 10px rgba(20,30,60,.06)}
.app{display:flex;align-items:center;gap:.8rem;margin-bottom:1rem}
.icon{width:3rem;height:3rem;border-radius:10px;background:#1c2430;color:#fff;display:flex;align-items:center;justify-content:center;font-weight:700;font-size:1.3rem;flex:none}
h1{font-size:1.25rem;margin:0}
.who{color:#6e7680;font-size:.9rem;margin:.2rem 0 0}
ul{padding-left:1.2rem;margin:.4rem 0 1.2rem}li{margin:.3rem 0}
.buttons{display:flex;gap:.7rem;justify-content:flex-end;flex-wrap:wrap}
button{font-size:1rem;padding:.6rem 1.4rem;border-radius:8px;border:1px solid #c9ced8;background:#fff;color:#232333;cursor:pointer}
button.allow{background:#0b5cff;border-color:#0b5cff;color:#fff;font-weight:600}
.small{color:#6e7680;font-size:.8rem;margin-top:1rem;word-break:break-all}
`

// consentCSP allows the page's style sheet and nothing else. No
// form-action: the answer to the form redirects to the app.
var consentCSP = func() string {
	sum := sha256.Sum256([]byte(consentStyle))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; img-src data:; frame-ancestors 'none'; base-uri 'none'"
}()

// consentPage is the consent page.
var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>Zoom{{if .Demo}} (demo){{end}}: allow {{.AppName}}?</title>
<style>` + consentStyle + `</style></head>
<body>
<header><span class="logo">zoom</span>{{if .Demo}}<span class="demo">DEMO</span><span class="note">A fake Zoom on this machine</span>{{end}}</header>
<main><div class="card">
<div class="app"><div class="icon" aria-hidden="true">ob</div>
<div><h1>{{.AppName}} wants to access your Zoom account</h1>
<p class="who">Signed in as {{.User.DisplayName}} ({{.User.Email}})</p></div></div>
<p>If you allow it, {{.AppName}} can:</p>
<ul>{{range .Permissions}}<li>{{.}}</li>{{end}}</ul>
<form method="post" action="/oauth/authorize">
<input type="hidden" name="request" value="{{.Query}}">
<div class="buttons"><button type="submit" name="decision" value="decline">Decline</button>
<button class="allow" type="submit" name="decision" value="allow">Allow</button></div>
</form>
<p class="small">You can remove the app's access at any time. You will be sent back to {{.Redirect}}</p>
</div></main></body></html>`))
