package postgres

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/onbehalf/onbehalf/internal/onbehalf"
)

// A connection row keeps in clear what keys an index or a listing (IDs,
// state, times); the token pair and the personal data are sealed apart,
// so that SaveToken replaces the pair without opening the rest.

// profile is what a connection row seals in sealed_profile.
type profile struct {
	Email       string          `json:"email,omitempty"`
	DisplayName string          `json:"display_name,omitempty"`
	AccountID   string          `json:"account_id,omitempty"`
	Metadata    json.RawMessage `json:"metadata,omitempty"`
	// TeamConsent is onbehalf.Connection's (kept here, not in a column,
	// so that rows written before it read as no).
	TeamConsent bool `json:"team_consent,omitempty"`
}

// profileOf is what c's row seals in sealed_profile.
func profileOf(c *onbehalf.Connection) profile {
	return profile{Email: c.Email, DisplayName: c.DisplayName, AccountID: c.AccountID, Metadata: c.Metadata, TeamConsent: c.TeamConsent}
}

// tokenAD and profileAD bind a connection's sealed columns to it and to
// their column.
func tokenAD(id string) string   { return "conn:" + id + ":token" }
func profileAD(id string) string { return "conn:" + id + ":profile" }

// connRow is a row of connections as the conn_columns fragment reads it.
// The sealed columns are nil when the query left them out because the
// caller's cached version is current.
type connRow struct {
	id, zoomUserID, externalUserID, state string
	sealedToken, sealedProfile            *string
	createdAt, updatedAt                  time.Time
	refreshedAt, mintedAt, disconnectedAt pgtype.Timestamptz
	disconnectedReason                    string
	version                               int64
	grantedAt                             pgtype.Timestamptz
}

// scanConn reads a connection row; found is false when there is none.
func scanConn(row pgx.Row) (r connRow, found bool, err error) {
	found, err = one(row, &r.id, &r.zoomUserID, &r.externalUserID, &r.state, &r.sealedToken, &r.sealedProfile,
		&r.createdAt, &r.updatedAt, &r.refreshedAt, &r.mintedAt, &r.disconnectedAt, &r.disconnectedReason, &r.version, &r.grantedAt)
	return r, found, err
}

// scanConns reads every connection row of rows.
func scanConns(rows pgx.Rows) ([]connRow, error) {
	defer rows.Close()
	var out []connRow
	for rows.Next() {
		var r connRow
		if err := rows.Scan(&r.id, &r.zoomUserID, &r.externalUserID, &r.state, &r.sealedToken, &r.sealedProfile,
			&r.createdAt, &r.updatedAt, &r.refreshedAt, &r.mintedAt, &r.disconnectedAt, &r.disconnectedReason, &r.version, &r.grantedAt); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// decode returns the connection of a row, its sealed parts from held
// (what the caller had cached, and the query left out) or the cache when
// it holds the row's version, else unsealed and cached.
func (s *Store) decode(r *connRow, held *cacheEntry) (*onbehalf.Connection, error) {
	var parts sealedParts
	ok := false
	if held != nil && held.version == r.version && r.sealedToken == nil {
		parts, ok = held.parts, true
	} else {
		parts, ok = s.cache.get(r.id, r.version)
	}
	if !ok {
		if r.sealedToken == nil || r.sealedProfile == nil {
			return nil, fmt.Errorf("connection %s: version %d is not cached and was not read", r.id, r.version)
		}
		var err error
		if parts, err = s.unsealParts(r.id, *r.sealedToken, *r.sealedProfile); err != nil {
			return nil, err
		}
		s.cache.put(r.id, r.version, parts)
	}
	c := &onbehalf.Connection{
		ID: r.id, ZoomUserID: r.zoomUserID, ExternalUserID: r.externalUserID, State: onbehalf.ConnState(r.state),
		AccountID: parts.profile.AccountID, Email: parts.profile.Email, DisplayName: parts.profile.DisplayName,
		Metadata: parts.profile.Metadata, TeamConsent: parts.profile.TeamConsent, Token: parts.token,
		CreatedAt: r.createdAt.UTC(), UpdatedAt: r.updatedAt.UTC(), RefreshedAt: timeOf(r.refreshedAt),
		MintedAt: timeOf(r.mintedAt), DisconnectedAt: timeOf(r.disconnectedAt), DisconnectedReason: r.disconnectedReason,
		GrantedAt: timeOf(r.grantedAt),
	}
	return c, nil
}

// unsealParts opens a row's sealed columns.
func (s *Store) unsealParts(id, sealedToken, sealedProfile string) (sealedParts, error) {
	var p sealedParts
	if sealedToken != "" {
		if err := s.keys.OpenJSON(sealedToken, tokenAD(id), &p.token); err != nil {
			return p, err
		}
	}
	if sealedProfile != "" {
		if err := s.keys.OpenJSON(sealedProfile, profileAD(id), &p.profile); err != nil {
			return p, err
		}
	}
	return p, nil
}

// sealConn seals a connection's token pair ("" when it has none) and
// personal data.
func (s *Store) sealConn(c *onbehalf.Connection) (token, prof string, err error) {
	if c.Token != (onbehalf.Token{}) {
		if token, err = s.keys.SealJSON(c.Token, tokenAD(c.ID)); err != nil {
			return "", "", err
		}
	}
	prof, err = s.keys.SealJSON(profileOf(c), profileAD(c.ID))
	return token, prof, err
}

// partsOf returns the sealed parts of a connection, for the cache.
func partsOf(c *onbehalf.Connection) sealedParts {
	return sealedParts{token: c.Token, profile: profileOf(c)}
}

// micro is t as PostgreSQL keeps it: UTC, whole microseconds (the zero
// time stays zero).
func micro(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

// clock returns the store's time, as PostgreSQL keeps it.
func (s *Store) clock() time.Time { return micro(s.now()) }

// nullTime is t for a nullable column: NULL when zero.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return micro(t)
}

// timeOf reads a nullable column (zero for NULL).
func timeOf(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// dueOf is the due_at column of a connection: the access token's expiry
// while it is connected with a refresh token, else NULL (not listed by
// DueBefore).
func dueOf(c *onbehalf.Connection) any {
	if c.State == onbehalf.StateConnected && c.Token.RefreshToken != "" {
		return micro(c.Token.Expiry)
	}
	return nil
}
