package postgres

import (
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
)

// Every statement the store runs lives in sql/queries/*.sql, by name:
//
//	-- name: connection_by_id
//	SELECT … WHERE id = $1;
//
// A block "-- fragment: NAME" defines text that queries include as
// {{NAME}} (a column list), so that one list serves every query that
// returns a row of a kind. Each query is looked up once, when the package
// is initialized: a missing name fails every test at once.

//go:embed sql/queries/*.sql
var queryFiles embed.FS

// namedQuery is one statement from sql/queries.
type namedQuery struct {
	name string
	sql  string
}

// queries holds every statement by name.
var queries = loadQueries(queryFiles)

// query returns the statement with the given name; it panics when there
// is none (a bug caught by any test of the package).
func query(name string) namedQuery {
	q, ok := queries[name]
	if !ok {
		panic("postgres: no query named " + name + " in sql/queries")
	}
	return namedQuery{name: name, sql: q}
}

// blockStart matches the line that starts a named block.
var blockStart = regexp.MustCompile(`(?m)^-- (name|fragment): ([a-z0-9_]+)\s*$`)

// loadQueries reads the named statements of every file, fragments
// expanded.
func loadQueries(fsys fs.FS) map[string]string {
	files, err := fs.Glob(fsys, "sql/queries/*.sql")
	if err != nil {
		panic(err)
	}
	named, fragments := map[string]string{}, map[string]string{}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			panic(err)
		}
		text := string(b)
		locs := blockStart.FindAllStringSubmatchIndex(text, -1)
		for i, loc := range locs {
			end := len(text)
			if i+1 < len(locs) {
				end = locs[i+1][0]
			}
			kind, name := text[loc[2]:loc[3]], text[loc[4]:loc[5]]
			body := strings.TrimSuffix(trimComments(text[loc[1]:end]), ";")
			target := named
			if kind == "fragment" {
				target = fragments
			}
			if _, dup := target[name]; dup {
				panic(fmt.Sprintf("postgres: %s %s defined twice (%s)", kind, name, f))
			}
			target[name] = body
		}
	}
	for name, q := range named {
		for frag, text := range fragments {
			q = strings.ReplaceAll(q, "{{"+frag+"}}", text)
		}
		if strings.Contains(q, "{{") {
			panic("postgres: query " + name + " uses an unknown fragment")
		}
		named[name] = q
	}
	return named
}

// trimComments drops the comment lines that end a block (they introduce
// the next one) and the spaces around it.
func trimComments(body string) string {
	lines := strings.Split(strings.TrimSpace(body), "\n")
	for len(lines) > 0 && strings.HasPrefix(strings.TrimSpace(lines[len(lines)-1]), "--") {
		lines = lines[:len(lines)-1]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// The statements of sql/queries, by name (queries.go loads them).
var (
	// bots.sql
	qInsertBot                = query("insert_bot")
	qBotByID                  = query("bot_by_id")
	qBotByPlatformID          = query("bot_by_platform_id")
	qBotByPlatformIDForUpdate = query("bot_by_platform_id_for_update")
	qBotsForUpdate            = query("bots_for_update")
	qUpdateBot                = query("update_bot")
	qListBots                 = query("list_bots")
	qListBotsByConnection     = query("list_bots_by_connection")

	// connections.sql
	qConnectionByID                  = query("connection_by_id")
	qConnectionByZoomUser            = query("connection_by_zoom_user")
	qConnectionForUpdate             = query("connection_for_update")
	qConnectionByZoomUserForUpdate   = query("connection_by_zoom_user_for_update")
	qConnectionState                 = query("connection_state")
	qInsertConnection                = query("insert_connection")
	qUpdateConnection                = query("update_connection")
	qSaveToken                       = query("save_token")
	qMarkDisconnected                = query("mark_disconnected")
	qDeleteConnection                = query("delete_connection")
	qNoteMinted                      = query("note_minted")
	qCountConnections                = query("count_connections")
	qListConnections                 = query("list_connections")
	qListConnectionsByExternalUser   = query("list_connections_by_external_user")
	qListConnectionsByZoomUser       = query("list_connections_by_zoom_user")
	qConnectionsByZoomUsersForUpdate = query("connections_by_zoom_users_for_update")

	// events.sql
	qTakeEventSeqs = query("take_event_seqs")
	qInsertEvents  = query("insert_events")
	qEventsAfter   = query("events_after")
	qLastEventSeq  = query("last_event_seq")
	qEventSeq      = query("event_seq")
	qPruneEvents   = query("prune_events")

	// import.sql
	qLockForImport  = query("lock_for_import")
	qImportCounts   = query("import_counts")
	qImportEventSeq = query("import_event_seq")

	// meta.sql
	qPing              = query("ping")
	qInsertAPIKey      = query("insert_api_key")
	qAPIKeys           = query("api_keys")
	qAPIKeyByHash      = query("api_key_by_hash")
	qDeleteAPIKey      = query("delete_api_key")
	qInsertLink        = query("insert_link")
	qPruneLinks        = query("prune_links")
	qLink              = query("link")
	qLinkForUpdate     = query("link_for_update")
	qLinkByID          = query("link_by_id")
	qLinkByIDForUpdate = query("link_by_id_for_update")
	qLinkConnection    = query("link_connection")
	qRevokeLink        = query("revoke_link")
	qUseLink           = query("use_link")
	qBindLink          = query("bind_link")
	qSecret            = query("secret")
	qInsertSecret      = query("insert_secret")
	qResealSecret      = query("reseal_secret")
	qSetting           = query("setting")
	qSetSetting        = query("set_setting")
	qProbe             = query("probe")
	qFailSetCode       = query("fail_set_code")
	qFail              = query("fail")
	qSealKeys          = query("seal_keys")
	qRegisterSealKey   = query("register_seal_key")
	qForgetSealKey     = query("forget_seal_key")
	qSealKeyUses       = query("seal_key_uses")
	qSchemaTableExists = query("schema_table_exists")
	qSchemaVersion     = query("schema_version")

	// replay.sql
	qPruneReplayKeys  = query("prune_replay_keys")
	qClaimReplayKey   = query("claim_replay_key")
	qReleaseReplayKey = query("release_replay_key")

	// connections.sql: patches
	qUpdateProfile      = query("update_profile")
	qExternalUserHolder = query("external_user_holder")
	qLockExternalUser   = query("lock_external_user")

	// meta.sql: key use
	qNoteAPIKeyUsed = query("note_api_key_used")

	// idempotency.sql
	qPruneIdemKeys  = query("prune_idem_keys")
	qBeginIdemKey   = query("begin_idem_key")
	qIdemKey        = query("idem_key")
	qFinishIdemKey  = query("finish_idem_key")
	qReleaseIdemKey = query("release_idem_key")

	// work.sql
	qClaimDue          = query("claim_due")
	qDueBefore         = query("due_before")
	qLockRefresh       = query("lock_refresh")
	qLeaseHolder       = query("lease_holder")
	qUnlockRefresh     = query("unlock_refresh")
	qSweepLeases       = query("sweep_leases")
	qClaimDeliveries   = query("claim_deliveries")
	qDeliveryDone      = query("delivery_done")
	qDeliveryFailed    = query("delivery_failed")
	qEventExists       = query("event_exists")
	qPendingDeliveries = query("pending_deliveries")
)
