// Package bots is the launch service: what the launch form and the JSON
// API call to send a bot, and what the token handler and the status
// webhooks feed. Launching validates the request, checks the connection's
// scopes, signs the token URLs the platform's layout asks for, creates the
// bot on the platform and remembers it (bot.created). The web and API
// handlers stay thin: they read their input and render what this returns.
package bots

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/onbehalf/onbehalf/internal/meetingurl"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
	"github.com/onbehalf/onbehalf/internal/tokenurl"
)

// DefaultBotName is the bot's name when none is given.
const DefaultBotName = "Meeting notetaker"

// MaxBotName bounds a bot name, in characters.
const MaxBotName = 100

// Store is what the service needs from the store.
type Store interface {
	Connection(ctx context.Context, id string) (*onbehalf.Connection, error)
	// ListConnections and UpdateConnection serve teammates (teammates.go).
	ListConnections(ctx context.Context, f onbehalf.ConnectionFilter) ([]*onbehalf.Connection, string, error)
	UpdateConnection(ctx context.Context, id string, p onbehalf.ConnectionPatch) (*onbehalf.Connection, error)
	onbehalf.BotStore
	NoteMinted(ctx context.Context, at map[string]time.Time) error
	// ClaimDelivery and ReleaseDelivery make a relay happen once across
	// instances (ApplyStatus writes bot.relayed with the link).
	onbehalf.ReplayStore
}

// Service launches bots and records what happens to them. Set every field
// but Now, Logger and Notify; they must not change once it is in use.
type Service struct {
	Store Store
	// Platforms are the configured platforms, in the order they are
	// offered.
	Platforms []onbehalf.Platform
	// Unconfigured are the hints of the platforms that are not configured:
	// with none configured, the error names their variables.
	Unconfigured []onbehalf.Hint
	// AllowZAK lets bots and token URLs carry ZAKs (ALLOW_ZAK); off, asking
	// for one is EFORBIDDEN (onbehalf.ZAKRefused).
	AllowZAK bool
	// Signer signs token URLs and per-bot status URLs.
	Signer *tokenurl.Signer
	// BaseURL is the public URL the URLs start with.
	BaseURL string
	// Ahead refreshes a bot's connection ahead of its first token request
	// (the token manager; ahead.go); nil refreshes nothing ahead.
	Ahead AheadRefresher
	// Notify is called after events were written (wakes the event stream
	// and the webhook delivery); nil for none.
	Notify func()
	Now    func() time.Time
	Logger *slog.Logger
	// ObserveCreateBot, when set, hears of every create-bot call to a
	// platform: its result and how long it took (the metrics).
	ObserveCreateBot func(platform string, err error, took time.Duration)

	rec *recorder
}

// LaunchRequest asks for a bot.
type LaunchRequest struct {
	// Platform is the platform's name; "" picks the only configured one.
	Platform     string
	ConnectionID string
	// ConnectionIDs, when given, are the bot's candidates in order of
	// preference (candidates.go); ConnectionID is then "" or the first.
	ConnectionIDs []string
	// Teammates says that ConnectionIDs after the first are teammates the
	// sender chose (the launch form): each must have said yes and be of
	// the sender's Zoom account, now and at each token fetch
	// (teammates.go).
	Teammates bool
	// MeetingURL is what the person pasted (a link, an invitation, an ID).
	MeetingURL string
	BotName    string
	// Kinds are the tokens the bot gets; none means OBF only.
	Kinds []onbehalf.TokenKind
	// Options are platform-specific create-bot fields (a JSON object).
	Options json.RawMessage
	// Relay: when the platform reports the bot removed because its
	// person left, send a bot for the next candidate (relay.go).
	Relay bool

	// teamOf is a relayed bot's TeamOf: its candidates, the first too,
	// are teammates of that person, checked at each fetch.
	teamOf string

	// relayed, when set, is called on the new bot before it is stored:
	// the relay links it to the bot it replaces.
	relayed func(*onbehalf.Bot)
}

// Launch sends a bot to a meeting on behalf of a connection's person. Bad
// input is EINVALID naming the field, before any call to the platform.
func (s *Service) Launch(ctx context.Context, req LaunchRequest) (*onbehalf.Bot, error) {
	p, err := s.Platform(req.Platform)
	if err != nil {
		return nil, err
	}
	meeting, err := meetingurl.Parse(req.MeetingURL)
	if err != nil {
		return nil, onbehalf.FieldError("meeting_url", "%s", onbehalf.ErrorMessage(err))
	}
	name, err := botName(req.BotName)
	if err != nil {
		return nil, err
	}
	cs, kinds, err := s.candidates(ctx, req.ConnectionID, req.ConnectionIDs, req.Kinds)
	if err != nil {
		return nil, err
	}
	if req.Teammates {
		if err := checkTeammates(cs); err != nil {
			return nil, err
		}
	}
	c, cands := cs[0], candidateIDs(cs)
	teamOf, err := s.teamOf(ctx, req, cs)
	if err != nil {
		return nil, err
	}
	joinAt, err := s.prepare(ctx, p, c, req.Options)
	if err != nil {
		return nil, err
	}
	botID := "bot_" + rand.Text()[:22]
	urlCands := cands
	if teamOf != "" && urlCands == nil {
		urlCands = []string{c.ID} // one teammate: still a teammates URL, checked at each fetch
	}
	urls, err := s.tokenURLs(p, tokenurl.Params{Kinds: kinds, ConnID: c.ID, MeetingID: meeting.ID, BotID: botID, Candidates: urlCands, Teammates: teamOf != ""})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	created, err := p.CreateBot(ctx, onbehalf.BotRequest{
		BotID: botID, Meeting: meeting, BotName: name, TokenURLs: urls, Options: req.Options,
		StatusURL: s.Signer.StatusURL(s.BaseURL, p.Name(), botID),
	})
	if s.ObserveCreateBot != nil {
		s.ObserveCreateBot(p.Name(), err, time.Since(start))
	}
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	b := &onbehalf.Bot{
		ID: botID, Platform: p.Name(), PlatformBotID: created.PlatformBotID, ConnectionID: c.ID, ConnectionIDs: cands, ExternalUserID: c.ExternalUserID,
		MeetingID: meeting.ID, MeetingURL: meeting.URL, BotName: name, Kinds: kinds, Status: onbehalf.BotCreated,
		StatusAt: now, CreatedAt: now, UpdatedAt: now, Relay: req.Relay, TeamOf: teamOf,
	}
	if req.relayed != nil {
		req.relayed(b)
	}
	b.JoinAt = joinAt
	if err := s.Store.CreateBot(ctx, b); err != nil {
		// The platform has the bot; its token fetches still work (the URLs
		// are signed), only the timeline is lost.
		s.logger().Error("bot created on the platform but not stored", "platform", p.Name(), "platform_bot", created.PlatformBotID, "err", err)
		return nil, err
	}
	s.notify()
	s.logger().Info("bot created", "conn", c.ID, "bot", botID, "platform", p.Name(), "kinds", onbehalf.KindsString(kinds))
	return b, nil
}

// TokenURLRequest asks for signed token URLs without creating a bot (the
// API's token-urls call: the product creates the bot itself).
type TokenURLRequest struct {
	Platform     string
	ConnectionID string
	// ConnectionIDs, when given, are the candidates in order of
	// preference; the first must be ConnectionID.
	ConnectionIDs []string
	// MeetingURL or MeetingID names the meeting.
	MeetingURL, MeetingID string
	Kinds                 []onbehalf.TokenKind
	// TTL is the URLs' lifetime; zero means TOKEN_URL_TTL.
	TTL time.Duration
}

// TokenURLs returns the signed token URLs a bot on the platform needs.
func (s *Service) TokenURLs(ctx context.Context, req TokenURLRequest) ([]onbehalf.TokenURL, error) {
	p, err := s.Platform(req.Platform)
	if err != nil {
		return nil, err
	}
	meetingID, err := meetingurl.ResolveID(req.MeetingURL, req.MeetingID)
	if err == nil && meetingID == "" {
		err = onbehalf.CheckMeetingID("meeting_id", "")
	}
	if err != nil {
		return nil, err
	}
	cs, kinds, err := s.candidates(ctx, req.ConnectionID, req.ConnectionIDs, req.Kinds)
	if err != nil {
		return nil, err
	}
	signer := s.Signer
	if req.TTL > 0 {
		signer = &tokenurl.Signer{Key: s.Signer.Key, TTL: req.TTL, Now: s.Signer.Now}
	}
	urls, err := tokenURLs(signer, s.BaseURL, p, tokenurl.Params{Kinds: kinds, ConnID: cs[0].ID, MeetingID: meetingID, Candidates: candidateIDs(cs)})
	if err != nil {
		return nil, err
	}
	if ch, ok := onbehalf.AsPlatform[onbehalf.TokenURLChecker](p); ok {
		if err := ch.CheckTokenURLs(urls); err != nil {
			return nil, err
		}
	}
	return urls, nil
}

// Platform returns a configured platform by name; "" is the only one
// configured.
func (s *Service) Platform(name string) (onbehalf.Platform, error) {
	if name == "" && len(s.Platforms) == 1 {
		return s.Platforms[0], nil
	}
	var names []string
	for _, p := range s.Platforms {
		if p.Name() == name {
			return p, nil
		}
		names = append(names, p.Name())
	}
	if len(names) == 0 {
		return nil, s.noPlatform()
	}
	if name == "" {
		return nil, onbehalf.FieldError("platform", "Choose a platform: %s.", strings.Join(names, ", "))
	}
	return nil, onbehalf.FieldError("platform", "Unknown or unconfigured platform %q: this server offers %s.", onbehalf.Clip(name, 30), strings.Join(names, ", "))
}

// noPlatform is the error of a launch with no platform configured: it
// names the variable that turns each platform on.
func (s *Service) noPlatform() error {
	var vars []string
	for _, h := range s.Unconfigured {
		vars = append(vars, h.Var)
	}
	switch len(vars) {
	case 0:
		return onbehalf.Errorf(onbehalf.EUNAVAILABLE, "No bot platform is configured.")
	case 1:
		return onbehalf.Errorf(onbehalf.EUNAVAILABLE, "No bot platform is configured: set %s to turn one on, then restart.", vars[0])
	}
	return onbehalf.Errorf(onbehalf.EUNAVAILABLE, "No bot platform is configured: set %s or %s to turn one on, then restart.",
		strings.Join(vars[:len(vars)-1], ", "), vars[len(vars)-1])
}

// connection returns a connected connection able to mint kinds, and the
// kinds a bot gets (none asked: OBF only).
func (s *Service) connection(ctx context.Context, id string, kinds []onbehalf.TokenKind) (*onbehalf.Connection, []onbehalf.TokenKind, error) {
	if len(kinds) == 0 {
		kinds = []onbehalf.TokenKind{onbehalf.KindOBF}
	}
	if id == "" {
		return nil, nil, onbehalf.FieldError("connection_id", "Missing connection_id.")
	}
	c, err := s.Store.Connection(ctx, id)
	if onbehalf.ErrorCode(err) == onbehalf.ENOTFOUND {
		return nil, nil, onbehalf.Errorf(onbehalf.ENOTFOUND, "No connection has this ID.")
	} else if err != nil {
		return nil, nil, err
	}
	if !c.Connected() {
		return nil, nil, onbehalf.Errorf(onbehalf.EDISCONNECTED, "This Zoom connection stopped working (%s): reconnect Zoom first.", reason(c))
	}
	for _, k := range kinds {
		if k == onbehalf.KindZAK && !s.AllowZAK {
			return nil, nil, onbehalf.ZAKRefused()
		}
		if !c.HasScope(k.Scope()) {
			return nil, nil, onbehalf.FieldError("kinds", "This Zoom connection cannot mint %s tokens: the Zoom app needs the %s scope. Add it in the Zoom app, then reconnect Zoom.", kindName(k), k.Scope())
		}
	}
	return c, kinds, nil
}

// tokenURLs plans and signs a bot's token URLs with the service's signer.
func (s *Service) tokenURLs(p onbehalf.Platform, params tokenurl.Params) ([]onbehalf.TokenURL, error) {
	return tokenURLs(s.Signer, s.BaseURL, p, params)
}

// tokenURLs plans the token URLs of params.Kinds on p and signs each,
// bound to p: the token handler refuses them on any other platform's
// routes.
func tokenURLs(signer *tokenurl.Signer, base string, p onbehalf.Platform, params tokenurl.Params) ([]onbehalf.TokenURL, error) {
	plans, err := p.PlanTokenURLs(params.Kinds)
	if err != nil {
		if onbehalf.ErrorCode(err) == onbehalf.EINVALID && onbehalf.ErrorField(err) == "" {
			err = onbehalf.FieldError("kinds", "%s", onbehalf.ErrorMessage(err))
		}
		return nil, err
	}
	out := make([]onbehalf.TokenURL, 0, len(plans))
	for _, pl := range plans {
		pp := params
		pp.Kinds, pp.Platform = pl.Kinds, p.Name()
		out = append(out, onbehalf.TokenURL{Kinds: pl.Kinds, URL: signer.URL(base, pl.Path, pp)})
	}
	return out, nil
}

// botName checks a bot name; "" is the default name.
func botName(n string) (string, error) {
	n = strings.TrimSpace(n)
	switch {
	case n == "":
		return DefaultBotName, nil
	case !utf8.ValidString(n) || strings.ContainsFunc(n, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return "", onbehalf.FieldError("bot_name", "The bot name has characters a name cannot have.")
	case utf8.RuneCountInString(n) > MaxBotName:
		return "", onbehalf.FieldError("bot_name", "The bot name is too long (%d characters at most).", MaxBotName)
	}
	return n, nil
}

// kindName names a token kind for people.
func kindName(k onbehalf.TokenKind) string {
	switch k {
	case onbehalf.KindZAK:
		return "ZAK (sign in as you)"
	case onbehalf.KindJoin:
		return "host join (skip the waiting room)"
	}
	return "OBF"
}

func reason(c *onbehalf.Connection) string {
	if c.DisconnectedReason != "" {
		return c.DisconnectedReason
	}
	return "disconnected"
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Service) notify() {
	if s.Notify != nil {
		s.Notify()
	}
}
