package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// hookReceiver is the demo's own webhook receiver, the part of a
// product's backend that takes the server's outgoing webhooks: it checks
// each one's Standard Webhooks signature before reading it, keeps the
// latest ones for its page, and forwards them, unchanged and still
// signed, to the developer's WEBHOOK_URL when there is one (the server
// delivers to one URL: the demo's receiver fans out). A delivery the
// developer's receiver refuses is refused to the server too, so that it
// retries with the same webhook-id, as it would in production.
type hookReceiver struct {
	url, app string
	srv      *http.Server
	verify   *standardwebhooks.Webhook
	forward  string
	client   *http.Client

	mu  sync.Mutex
	got []receivedHook
}

// receivedHook is one delivery as the page shows it.
type receivedHook struct {
	At time.Time
	// ID is the webhook-id header; Attempt counts its deliveries.
	ID      string
	Attempt int
	// Verified says the signature checked out; Problem says why not.
	Verified bool
	Problem  string
	// Type and Data are read only from a verified delivery.
	Type, Data string
	// Forwarded says what the developer's receiver answered.
	Forwarded string
}

// Bounds of the receiver: the deliveries kept for the page, and the
// largest body read.
const (
	maxHooksKept = 200
	maxHookBody  = 1 << 20
	// forwardTimeout bounds a forward to the developer's receiver.
	forwardTimeout = 10 * time.Second
)

// HookPath is where the demo's receiver takes webhooks.
const HookPath = "/webhooks"

// startHooks starts the receiver on a free port of 127.0.0.1, checking
// signatures with secret and forwarding to forward ("" for none); its
// page links back to the server at app.
func startHooks(secret, forward, app string) (*hookReceiver, error) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, fmt.Errorf("demo: webhook secret: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := &hookReceiver{url: "http://" + ln.Addr().String(), app: app, verify: wh, forward: forward,
		client: &http.Client{Timeout: forwardTimeout}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+HookPath, h.receive)
	mux.HandleFunc("GET /{$}", h.page)
	h.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = h.srv.Serve(ln) }()
	return h, nil
}

// close stops the receiver.
func (h *hookReceiver) close() { _ = h.srv.Close() }

// receive handles POST /webhooks: the signature first, then the content.
func (h *hookReceiver) receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxHookBody))
	if err != nil {
		http.Error(w, "The body is too large.", http.StatusRequestEntityTooLarge)
		return
	}
	rec := receivedHook{At: time.Now(), ID: onbehalf.Clip(r.Header.Get("webhook-id"), 80)}
	if err := h.verify.Verify(body, r.Header); err != nil {
		rec.Problem = "Signature refused: " + err.Error()
		h.keep(rec)
		http.Error(w, "The webhook signature does not verify.", http.StatusUnauthorized)
		return
	}
	rec.Verified = true
	var ev struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		rec.Problem = "not JSON: " + err.Error()
	}
	rec.Type = onbehalf.Clip(ev.Type, 80)
	var pretty bytes.Buffer
	if json.Indent(&pretty, ev.Data, "", "  ") == nil {
		rec.Data = onbehalf.Clip(pretty.String(), 4000)
	}
	status := http.StatusNoContent
	if h.forward != "" {
		var ok bool
		rec.Forwarded, ok = h.forwardHook(r.Context(), body, r.Header)
		if !ok {
			status = http.StatusBadGateway
		}
	}
	h.keep(rec)
	if status != http.StatusNoContent {
		http.Error(w, "Your WEBHOOK_URL did not take it: "+rec.Forwarded, status)
		return
	}
	w.WriteHeader(status)
}

// forwardHook posts the delivery, as signed, to the developer's
// receiver, and says what it answered and whether that was a 2xx.
func (h *hookReceiver) forwardHook(ctx context.Context, body []byte, hdr http.Header) (string, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.forward, bytes.NewReader(body))
	if err != nil {
		return err.Error(), false
	}
	for _, k := range []string{"Content-Type", "webhook-id", "webhook-timestamp", "webhook-signature", "User-Agent"} {
		if v := hdr.Get(k); v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return "failed: " + err.Error(), false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode), resp.StatusCode/100 == 2
}

// keep notes a delivery, newest first, numbering the attempts of one ID.
func (h *hookReceiver) keep(rec receivedHook) {
	h.mu.Lock()
	defer h.mu.Unlock()
	rec.Attempt = 1
	for _, o := range h.got {
		if o.ID == rec.ID && rec.ID != "" {
			rec.Attempt = o.Attempt + 1
			break
		}
	}
	h.got = append([]receivedHook{rec}, h.got...)
	if len(h.got) > maxHooksKept {
		h.got = h.got[:maxHooksKept]
	}
}

// received returns the deliveries kept, newest first.
func (h *hookReceiver) received() []receivedHook {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]receivedHook(nil), h.got...)
}

// hooksData is the page's data.
type hooksData struct {
	App, Receiver, Forward string
	Hooks                  []receivedHook
}

// page handles GET /: the deliveries received, newest first.
func (h *hookReceiver) page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", hooksCSP)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = hooksTemplate.Execute(w, hooksData{App: h.app, Receiver: h.url + HookPath, Forward: h.forward, Hooks: h.received()})
}

// hooksCSP allows the page's inline style, by its hash, and nothing else.
var hooksCSP = func() string {
	m := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(hooksHTML)
	sum := sha256.Sum256([]byte(m[1]))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}()

var hooksTemplate = template.Must(template.New("hooks").Funcs(template.FuncMap{
	"clock": func(t time.Time) string { return t.Format("15:04:05") },
}).Parse(hooksHTML))

// hooksHTML is the receiver's page; it reloads itself every 3 seconds.
const hooksHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="3">
<title>DEMO · webhooks received</title>
<style>
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2330;margin:0}
.demo{background:#ffd54a;color:#3a2e00;font-weight:700;text-align:center;padding:.35rem;letter-spacing:.05em}
main{max-width:60rem;margin:0 auto;padding:1.25rem 1rem 3rem}
h1{font-size:1.4rem;margin:.3rem 0}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem;overflow-wrap:anywhere}
pre{white-space:pre-wrap;margin:.3rem 0 0;background:#f4f6fa;padding:.5rem;border-radius:6px}
.hook{border:1px solid #dde2ea;border-radius:8px;padding:.7rem .9rem;margin:.8rem 0}
.head{display:flex;flex-wrap:wrap;gap:.3rem .8rem;align-items:baseline}
.ok{color:#1f7a4d;font-weight:700;font-size:1.2rem}.bad{color:#b3261e;font-weight:700;font-size:1.2rem}
.problem{color:#b3261e;margin:.2rem 0}
.muted{color:#6b7485;font-size:.9rem}
</style>
</head>
<body>
<div class="demo">DEMO</div>
<main>
<h1>Webhooks received</h1>
<p class="muted">The server posts its events to this receiver (<code>{{.Receiver}}</code>), signed the Standard Webhooks way with WEBHOOK_SECRET. The receiver checks each signature with the standard-webhooks library before it reads the event: ✓ verified, ✗ refused.{{if .Forward}} Each verified delivery is forwarded, still signed, to your <code>{{.Forward}}</code>.{{end}} This page reloads every 3 seconds. <a href="{{.App}}">Back to the demo</a></p>
{{range .Hooks}}
<div class="hook">
<div class="head">{{if .Verified}}<span class="ok" title="signature verified">✓</span>{{else}}<span class="bad" title="signature refused">✗</span>{{end}}
<strong>{{if .Type}}{{.Type}}{{else}}(unread){{end}}</strong>
<span class="muted">{{clock .At}} · <code>{{.ID}}</code>{{if gt .Attempt 1}} · attempt {{.Attempt}}{{end}}{{with .Forwarded}} · forwarded: {{.}}{{end}}</span></div>
{{with .Problem}}<p class="problem">{{.}}</p>{{end}}
{{with .Data}}<pre>{{.}}</pre>{{end}}
</div>
{{else}}
<p>Nothing yet. Connect Zoom or send a bot in the demo, or call the API: every event shows up here within seconds.</p>
{{end}}
</main>
</body>
</html>
`
