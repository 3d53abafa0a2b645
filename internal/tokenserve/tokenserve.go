// Package tokenserve is the one token handler: it serves the token URLs
// of every bot platform the same way, in this order:
//
//	per-IP limit → the platform's request authentication → URL syntax →
//	signed URL (or plain secret) → the URL's platform against the route's →
//	the platform's claims against the URL → per-connection limit → mint →
//	the platform's reply
//
// Every signature is checked before anything reads what it signs. HEAD
// runs every check GET runs and never mints: it answers only what GET
// would have said before minting, so it tells nothing about a URL that a
// GET could not use. A URL of several connections serves one of them
// per fetch (choose.go). What a
// platform does differently (where its bots fetch, how they authenticate,
// what they append, how the reply looks) is its adapter's business
// (onbehalf.Platform); nothing here knows a platform by name.
package tokenserve

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/ratelimit"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
)

// Limits of a token request.
const (
	// MaxBody bounds a token request's body (Attendee and MeetStream POST
	// small JSON objects).
	MaxBody = 64 << 10
	// maxConnID bounds user_id.
	maxConnID = 128
	// maxBotID bounds bot.
	maxBotID = 128
)

// Recorder keeps what happened to token requests: each served or failed
// kind of an authorized request, for the bot's timeline, the token.failed
// event and the connection's last mint. It must not block.
type Recorder interface {
	Record(f onbehalf.TokenFetch)
}

// BotLookup finds a bot by this server's ID: a version 2 token URL names
// no platform, only its bot, whose recorded platform binds it.
type BotLookup interface {
	Bot(ctx context.Context, id string) (*onbehalf.Bot, error)
}

// Observer sees every token request's outcome (metrics); it must not
// block.
type Observer interface {
	ObserveTokenRequest(platform string, kinds []onbehalf.TokenKind, status int, took time.Duration)
}

// Options configure a Server.
type Options struct {
	// Signer verifies signed token URLs.
	Signer *tokenurl.Signer
	// Minter mints tokens.
	Minter onbehalf.TokenMinter
	// Bots looks up the bot a version 2 token URL names (see bindPlatform);
	// nil refuses such URLs with a 500, as a server not set up to check
	// them.
	Bots BotLookup
	// Secret is OBF_CALLBACK_SECRET, the auth_token of plain URLs.
	Secret string
	// AllowZAK lets URLs signed by this version serve ZAKs (ALLOW_ZAK).
	// URLs signed before the platform was signed, and plain URLs under
	// ALLOW_SECRET_URLS=zak, were handed out already and keep working.
	AllowZAK bool
	// PlainKinds are the kinds plain auth_token URLs may serve
	// (ALLOW_SECRET_URLS); none turns plain URLs off.
	PlainKinds []onbehalf.TokenKind
	// PerIP and PerConn limit requests per client IP and per connection;
	// nil turns a limit off. Failures bounds failed authorizations per
	// client IP (past it, 429 instead of 401); nil means a default budget.
	PerIP, PerConn, Failures *ratelimit.Table
	// BaseURL is the public URL, for messages ("reconnect at …").
	BaseURL string
	// Presence orders the candidates of a URL of several connections
	// (choose.go); nil keeps the URL's order.
	Presence Presence
	// Teammates checks the consent of candidates offered as teammates at
	// each fetch (choose.go); nil refuses such candidates.
	Teammates Teammates
	// Recorder and Observer may be nil.
	Recorder Recorder
	Observer Observer
	Logger   *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Failed-authorization budget per client IP, always on: a burst of
// FailBurst failures, refilled at FailRate per second.
const (
	FailBurst = 30
	FailRate  = 1
	// maxLimiterKeys bounds the failure table.
	maxLimiterKeys = 10_000
)

// Server serves token requests. Its methods are safe for concurrent use.
type Server struct {
	o         Options
	secretSum [sha256.Size]byte
	rounds    rounds // choose.go
}

// New returns a Server.
func New(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Failures == nil {
		o.Failures = ratelimit.New(FailRate, FailBurst, maxLimiterKeys)
	}
	return &Server{o: o, secretSum: sha256.Sum256([]byte(o.Secret))}
}

// request is one token request on its way through Serve.
type request struct {
	p        onbehalf.Platform
	rt       onbehalf.TokenRoute
	w        http.ResponseWriter
	r        *http.Request
	clientIP string
	body     []byte
	grant    tokenurl.Params
	// sig and claims identify, with the grant's bot, whom a URL of several
	// candidates served before (choose.go).
	sig    string
	claims onbehalf.TokenClaims

	// botOnce reads the grant's bot at most once per request (lookupBot):
	// binding a version 2 URL, the rounds of several candidates and a
	// teammate's anchor all need it, the latter once per candidate.
	botOnce sync.Once
	bot     *onbehalf.Bot
	botErr  error
}

// lookupBot returns the grant's bot, read from the store once per
// request (nil with ENOTFOUND's error when unknown).
func (s *Server) lookupBot(req *request) (*onbehalf.Bot, error) {
	req.botOnce.Do(func() {
		if s.o.Bots == nil || req.grant.BotID == "" {
			req.botErr = onbehalf.Errorf(onbehalf.ENOTFOUND, "No bot to look up.")
			return
		}
		req.bot, req.botErr = s.o.Bots.Bot(req.r.Context(), req.grant.BotID)
	})
	return req.bot, req.botErr
}

// Serve serves one token request on route rt of platform p. clientIP is
// the client's address as the web layer reads it (trusted proxies
// applied).
func (s *Server) Serve(w http.ResponseWriter, r *http.Request, p onbehalf.Platform, rt onbehalf.TokenRoute, clientIP string) {
	start := time.Now()
	req := &request{p: p, rt: rt, w: w, r: r, clientIP: clientIP}
	status := s.serve(req)
	if s.o.Observer != nil {
		kinds := req.grant.Kinds
		if kinds == nil && rt.Default != "" {
			kinds = []onbehalf.TokenKind{rt.Default}
		}
		s.o.Observer.ObserveTokenRequest(p.Name(), kinds, status, time.Since(start))
	}
}

// serve runs the checks in order, mints and replies; it returns the status
// answered.
func (s *Server) serve(req *request) int {
	now := s.o.Now()
	if err := s.limit(s.o.PerIP, ratelimit.IPKey(req.clientIP), now, "Too many token requests from your address (RATE_LIMIT_PER_IP)."); err != nil {
		return s.fail(req, err)
	}
	head := req.r.Method == http.MethodHead
	if req.r.Body != nil && req.r.Body != http.NoBody && !head {
		body, err := io.ReadAll(io.LimitReader(req.r.Body, MaxBody+1))
		if err != nil || len(body) > MaxBody {
			return s.fail(req, onbehalf.Errorf(onbehalf.EINVALID, "The request body is too large or unreadable."))
		}
		req.body = body
	}
	// HEAD is authenticated as GET is (Recall's request signature, a
	// MeetStream secret): without that, it would tell anyone holding a URL
	// whether it is live. It is never served, so a replay cache releases
	// its ID.
	served := false
	finish, err := req.p.AuthenticateToken(req.r, req.body)
	if err != nil {
		return s.fail(req, err)
	}
	if finish != nil {
		defer func() { finish(served) }()
	}
	q := tokenurl.ReadQuery(req.r.URL.Query())
	if err := checkSyntax(q, req.rt); err != nil {
		return s.fail(req, err)
	}
	grant, err := s.authorize(q, req.rt)
	if err != nil {
		return s.fail(req, err)
	}
	req.grant = grant
	if q.Signed() {
		if err := s.bindPlatform(req, req.p.Name()); err != nil {
			return s.fail(req, err)
		}
		// URLs this version signs (they name their platform) serve a ZAK
		// only while ALLOW_ZAK is on; older ones keep working.
		if grant.Platform != "" && !s.o.AllowZAK && onbehalf.HasKind(grant.Kinds, onbehalf.KindZAK) {
			return s.fail(req, onbehalf.ZAKRefused())
		}
	}
	claims, err := req.p.ReadTokenClaims(req.r, req.body)
	if err != nil {
		return s.fail(req, err)
	}
	if claims.MeetingID != "" && claims.MeetingID != grant.MeetingID {
		return s.fail(req, onbehalf.Errorf(onbehalf.EUNAUTHORIZED,
			"Token URL refused: the platform asks for meeting %s, but this URL was made for another meeting.", onbehalf.Clip(claims.MeetingID, 20)))
	}
	if err := s.limit(s.o.PerConn, grant.ConnID, now, "Too many token requests for this connection (RATE_LIMIT_PER_CONNECTION)."); err != nil {
		return s.fail(req, err)
	}
	if head {
		// HEAD never mints: it only says whether the URL would be served.
		req.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		req.w.WriteHeader(http.StatusOK)
		return http.StatusOK
	}
	var tokens []onbehalf.MintedToken
	if grant.Multi() {
		req.sig, req.claims = q.Sig, claims
		tokens, err = s.mintMulti(req)
	} else {
		tokens, err = s.mint(req)
	}
	if err != nil {
		return s.fail(req, err)
	}
	served = true
	req.p.WriteTokens(req.w, req.r, tokens)
	return http.StatusOK
}

// checkSyntax checks the URL's parameters: a missing or malformed one is a
// 400 whatever the authorization mode, and says nothing about secrets or
// connections. The kinds the URL claims (checked later with its signature)
// say whether a meeting ID is required.
func checkSyntax(q tokenurl.Query, rt onbehalf.TokenRoute) error {
	switch {
	case q.ConnID == "":
		return onbehalf.FieldError("user_id", "Missing user_id: the connection ID this server gave when Zoom was connected.")
	case len(q.ConnID) > maxConnID:
		return onbehalf.FieldError("user_id", "Bad user_id: too long to be a connection ID.")
	case q.Dup == tokenurl.ParamConnID:
		return onbehalf.FieldError("user_id", "Bad user_id: it appears more than once.")
	case q.Dup == tokenurl.ParamMeetingID:
		return onbehalf.FieldError("meeting_id", "Bad meeting_id: it appears more than once.")
	case len(q.BotID) > maxBotID:
		return onbehalf.FieldError("bot", "Bad bot: too long to be a bot ID.")
	}
	if q.MeetingID != "" {
		return onbehalf.CheckMeetingID("meeting_id", q.MeetingID)
	}
	claimed := []onbehalf.TokenKind{rt.Default}
	if q.HasKinds {
		claimed, _ = onbehalf.ParseKinds(q.Kinds)
	}
	for _, k := range claimed {
		if k != "" && k.NeedsMeeting() {
			return onbehalf.CheckMeetingID("meeting_id", "")
		}
	}
	return nil
}

// authorize checks the URL in one of two modes and returns what it
// grants. A signed URL (exp and sig) is checked whenever the request
// carries either; an auth_token next to them must be right too. Otherwise
// the plain auth_token is compared with OBF_CALLBACK_SECRET in constant
// time (both sides hashed first, so the comparison does not leak the
// secret's length), for the kinds plain URLs may serve.
func (s *Server) authorize(q tokenurl.Query, rt onbehalf.TokenRoute) (tokenurl.Params, error) {
	var g tokenurl.Params
	if q.Signed() {
		if q.Dup != "" && q.Dup != tokenurl.ParamSecret {
			return g, onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Token URL refused: %s appears more than once, so the URL was changed.", q.Dup)
		}
		var err error
		if g, err = s.o.Signer.Verify(q, rt.Default); err != nil {
			return g, err
		}
		if q.Secret != "" {
			if err := s.checkSecret(q); err != nil {
				return g, err
			}
		}
	} else {
		if err := s.checkSecret(q); err != nil {
			return g, err
		}
		g = tokenurl.Params{ConnID: q.ConnID, MeetingID: q.MeetingID, BotID: q.BotID}
		if q.HasKinds {
			kinds, err := onbehalf.ParseKinds(q.Kinds)
			if err != nil {
				return g, err
			}
			g.Kinds = kinds
		} else if rt.Default != "" {
			g.Kinds = []onbehalf.TokenKind{rt.Default}
		} else {
			return g, onbehalf.FieldError("kinds", "Missing kinds: say which tokens this URL serves (kinds=obf).")
		}
		for _, k := range g.Kinds {
			if !onbehalf.HasKind(s.o.PlainKinds, k) {
				return g, onbehalf.Errorf(onbehalf.EUNAUTHORIZED,
					"Token URL refused: plain auth_token URLs may not serve %s tokens on this server (ALLOW_SECRET_URLS). Use a signed token URL.", k)
			}
		}
	}
	for _, k := range g.Kinds {
		if !onbehalf.HasKind(rt.Kinds, k) {
			return g, onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Token URL refused: this path does not serve %s tokens (the URL was changed).", k)
		}
		if k.NeedsMeeting() && g.MeetingID == "" {
			return g, onbehalf.FieldError("meeting_id", "Missing meeting_id: a %s token is bound to one meeting.", k)
		}
	}
	return g, nil
}

// bindPlatform refuses a signed URL made for another platform than the
// one whose route it arrived on, so that a URL made for a platform with a
// strict check (Recall's request signature) cannot be used through a
// route with a weaker one:
//
//   - a version 3 URL names its platform, signed;
//   - a version 2 URL that names a bot is bound to that bot's recorded
//     platform (a bot this server does not know, which it never stored,
//     cannot be attributed and is accepted);
//   - a version 2 URL that names no bot cannot be attributed: it is
//     accepted on every platform's routes until it expires (TOKEN_URL_TTL
//     after it was made; this server no longer signs such URLs);
//   - a version 1 URL is served only by routes with a default kind, which
//     are Recall's alone (the only platform before kinds were signed).
func (s *Server) bindPlatform(req *request, platform string) error {
	g := req.grant
	if g.Platform != "" {
		if g.Platform != platform {
			return wrongPlatform(g.Platform)
		}
		return nil
	}
	if g.BotID == "" {
		return nil
	}
	if s.o.Bots == nil {
		return onbehalf.Errorf(onbehalf.EINTERNAL, "This server cannot check which platform the token URL's bot belongs to (no bot lookup configured).")
	}
	b, err := s.lookupBot(req)
	switch {
	case onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND:
		return nil
	case err != nil:
		return err
	case b.Platform != platform:
		return wrongPlatform(b.Platform)
	}
	return nil
}

// wrongPlatform is the refusal of a URL made for another platform.
func wrongPlatform(made string) error {
	return onbehalf.Errorf(onbehalf.EUNAUTHORIZED,
		"Token URL refused: it was made for %s bots, not for this platform's route. Give each platform the token URLs made for it.", onbehalf.Clip(made, 40))
}

// checkSecret checks a plain URL's auth_token.
func (s *Server) checkSecret(q tokenurl.Query) error {
	switch {
	case q.Secret == "":
		return onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Missing auth_token: the token URL must carry the server's secret, or be a signed URL (exp and sig) as /launch gives.")
	case len(s.o.PlainKinds) == 0:
		return onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Token URL refused: plain secret URLs are disabled on this server (ALLOW_SECRET_URLS=false). Use the signed token URL that /launch gives.")
	case q.Dup == tokenurl.ParamSecret:
		return onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Wrong auth_token: it appears more than once.")
	}
	got := sha256.Sum256([]byte(q.Secret))
	if subtle.ConstantTimeCompare(got[:], s.secretSum[:]) != 1 {
		return onbehalf.Errorf(onbehalf.EUNAUTHORIZED, "Wrong auth_token: it does not match this server's OBF_CALLBACK_SECRET.")
	}
	return nil
}

// mint mints every kind the URL grants, concurrently when there are
// several. Some kinds failing while others succeed serves those that
// succeeded (a host token refused to a guest must not cost the bot its OBF
// token); when all fail, the first kind's error is the answer.
func (s *Server) mint(req *request) ([]onbehalf.MintedToken, error) {
	g := req.grant
	if len(g.Kinds) == 1 { // the usual case, without the slices and goroutines below
		tok, err := s.mintKind(req, g.Kinds[0])
		s.record(req, g.Kinds[0], err)
		if err != nil {
			return nil, err
		}
		return []onbehalf.MintedToken{tok}, nil
	}
	out := make([]onbehalf.MintedToken, len(g.Kinds))
	errs := make([]error, len(g.Kinds))
	var wg sync.WaitGroup
	for i, k := range g.Kinds {
		wg.Go(func() { out[i], errs[i] = s.mintKind(req, k) })
	}
	wg.Wait()
	var served []onbehalf.MintedToken
	for i, k := range g.Kinds {
		if errs[i] == nil {
			served = append(served, out[i])
		}
		s.record(req, k, errs[i])
	}
	if len(served) == 0 {
		return nil, errs[0]
	}
	return served, nil
}

// mintKind mints one kind of the request's grant; its error says what to
// do about it.
func (s *Server) mintKind(req *request, k onbehalf.TokenKind) (onbehalf.MintedToken, error) {
	tok, err := s.mintFor(req, req.grant.ConnID, k)
	return onbehalf.MintedToken{Kind: k, Token: tok}, err
}

// record logs a failed mint and hands the fetch to the Recorder.
func (s *Server) record(req *request, k onbehalf.TokenKind, err error) {
	s.recordFor(req, req.grant.ConnID, k, err, "", s.o.Now())
}

// mintFor mints one kind for one connection of the grant. A teammate of
// the first connection (a URL made with team=1) must still consent: with
// no way to check it, it is not served.
func (s *Server) mintFor(req *request, connID string, k onbehalf.TokenKind) (string, error) {
	if g := req.grant; connID != g.ConnID {
		// Another candidate than the URL's first: its own budget of
		// requests (the first's was taken before minting).
		if err := s.limit(s.o.PerConn, connID, s.o.Now(), "Too many token requests for this connection (RATE_LIMIT_PER_CONNECTION)."); err != nil {
			return "", err
		}
	}
	if g := req.grant; g.Teammates {
		anchor := s.teamAnchor(req)
		if connID != anchor {
			if s.o.Teammates == nil {
				return "", onbehalf.Errorf(onbehalf.EFORBIDDEN, "This server cannot check a teammate's consent.")
			}
			if err := s.o.Teammates.CheckTeammate(req.r.Context(), anchor, connID); err != nil {
				return "", err
			}
		}
	}
	tok, err := s.o.Minter.Mint(req.r.Context(), connID, k, req.grant.MeetingID)
	if err == nil && tok == "" { // never a 200 with an empty body
		err = onbehalf.Errorf(onbehalf.EUPSTREAM, "Zoom returned an empty token.")
	}
	return tok, s.explain(err)
}

// recordFor logs a failed mint and hands the fetch, with whose token and
// why, to the Recorder.
func (s *Server) recordFor(req *request, connID string, k onbehalf.TokenKind, err error, why string, at time.Time) {
	status := onbehalf.HTTPStatus(err)
	if err != nil {
		s.log(req, "token mint failed", err, status)
	}
	if s.o.Recorder != nil {
		s.o.Recorder.Record(onbehalf.TokenFetch{ConnectionID: connID, BotID: req.grant.BotID, Platform: req.p.Name(),
			At: at, Kind: k, HTTPStatus: status, Message: onbehalf.ErrorMessage(err), Why: why})
	}
}

// explain rewrites the errors a person must act on with what to do.
func (s *Server) explain(err error) error {
	switch onbehalf.ErrorCode(err) {
	case onbehalf.ENOTFOUND:
		return onbehalf.Errorf(onbehalf.ENOTFOUND,
			"Unknown user_id: no Zoom connection has this ID. Connect Zoom at %s/zoom/oauth and use the token URL it gives.", s.o.BaseURL)
	case onbehalf.EDISCONNECTED:
		return onbehalf.Errorf(onbehalf.EDISCONNECTED,
			"This Zoom connection no longer works (%s). The user must reconnect at %s/zoom/oauth; the token URL keeps working after that.",
			onbehalf.Inner(onbehalf.ErrorMessage(err)), s.o.BaseURL)
	}
	return err
}

// fail answers err in the platform's format; past the failure budget of
// the client, a 401 becomes a 429. It returns the status answered.
func (s *Server) fail(req *request, err error) int {
	if onbehalf.ErrorCode(err) == onbehalf.EUNAUTHORIZED {
		if lim := s.limit(s.o.Failures, ratelimit.IPKey(req.clientIP), s.o.Now(), "Too many failed authorizations from your address."); lim != nil {
			err = lim
		}
	}
	status := onbehalf.HTTPStatus(err)
	if secs := ratelimit.RetryAfterOf(err); secs > 0 {
		req.w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	if onbehalf.ErrorCode(err) != onbehalf.EDISCONNECTED && onbehalf.ErrorCode(err) != onbehalf.EUPSTREAM {
		s.log(req, "token request refused", err, status) // mint failures were logged by mint
	}
	if req.r.Method == http.MethodHead {
		req.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		req.w.WriteHeader(status)
		return status
	}
	req.p.WriteTokenError(req.w, req.r, status, onbehalf.ErrorMessage(err))
	return status
}

// log logs a failure: refusals of bad requests at debug (junk must not
// fill the logs), dead connections and upstream failures at warn, bugs at
// error. The query is never logged: token URLs carry secrets.
func (s *Server) log(req *request, msg string, err error, status int) {
	level := slog.LevelDebug
	switch {
	case req.r.Context().Err() != nil:
		// The client hung up: nothing for an operator to do.
	case onbehalf.ErrorCode(err) == onbehalf.EINTERNAL:
		level = slog.LevelError
	case status >= 500 || onbehalf.ErrorCode(err) == onbehalf.EDISCONNECTED:
		level = slog.LevelWarn
	}
	s.o.Logger.Log(req.r.Context(), level, msg, "platform", req.p.Name(), "path", req.r.URL.Path,
		"status", status, "code", onbehalf.ErrorCode(err), "err", err)
}

// limit takes one request from key's budget in t; nil t means no limit.
func (s *Server) limit(t *ratelimit.Table, key string, now time.Time, msg string) error {
	if t == nil {
		return nil
	}
	if ok, wait := t.Allow(key, now); !ok {
		return ratelimit.TooMany(wait, msg)
	}
	return nil
}

// teamAnchor is the person whose teammates a teammates URL borrows from:
// its bot's TeamOf (a relayed bot's first candidate is a teammate too),
// else the URL's first connection. Only teammates URLs pay the lookup.
func (s *Server) teamAnchor(req *request) string {
	if b, err := s.lookupBot(req); err == nil && b.TeamOf != "" {
		return b.TeamOf
	}
	return req.grant.ConnID
}
