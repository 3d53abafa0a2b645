#!/usr/bin/env bash
# CI for what the repository ships to run onbehalf (docs/deploy.md): runs
# standalone as root on a fresh Debian machine, installing what it needs
# (podman and runc, promtool, systemd-analyze, caddy) when missing.
#
#   .ci/deploy.sh
#
# 1. the Helm chart, the dashboard and compose.yaml: the Go module in
#    deploy/helm/test (renders and lints the chart with Helm's packages);
# 2. the alert rules: promtool check rules and promtool test rules; every
#    dashboard query parses as PromQL;
# 3. the systemd unit: systemd-analyze verify, and its hardening score;
# 4. the Caddyfile: caddy validate;
# 5. the image (scripts/build-image): non-root, no shell; the server in it
#    answers /livez, /readyz and /metrics, reads a secret from a file, and
#    drains on SIGTERM (/readyz 503, then exit 0); against PostgreSQL the
#    migration command the Helm chart runs succeeds and the server is
#    ready; `onbehalf demo` in it connects a fake Zoom user, sends a bot,
#    and the bot's token request is answered 200.
#
# Containers run with --network host (the demo listens on 127.0.0.1) on
# free ports, and are removed on exit, with the image.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { echo "== deploy: $* ($(($(date +%s) - start))s)"; }
fail() { echo "deploy: FAIL: $*" >&2; exit 1; }

# ---- tools ----
need=()
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v runc >/dev/null 2>&1 || need+=(runc)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v caddy >/dev/null 2>&1 || need+=(caddy)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v jq >/dev/null 2>&1 || need+=(jq)
if [ ${#need[@]} -gt 0 ]; then
  step "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

work=$(mktemp -d)
containers=()
image=""
installed_bin=""
pg_started=""
cleanup() {
  for c in "${containers[@]}"; do
    pod rm -f -v -t 0 "$c" >/dev/null 2>&1 || true
  done
  pod volume rm -f "onbehalf-ci-data-$$" >/dev/null 2>&1 || true
  [ -n "$image" ] && podman rmi -f "$image" >/dev/null 2>&1 || true
  # the build's intermediate stage images (dangling once the image is gone)
  [ -n "$image" ] && podman image prune -f >/dev/null 2>&1 || true
  [ -n "$installed_bin" ] && rm -f "$installed_bin"
  [ -n "$pg_started" ] && .ci/pg.sh stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# podman on these machines: runc and cgroupfs (crun fails on hybrid
# cgroups), no default ulimits.
printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\n' >"$work/containers.conf"
export CONTAINERS_CONF="$work/containers.conf"
pod() { podman --runtime runc --cgroup-manager cgroupfs "$@"; }

# ---- 1. chart, dashboard, compose: the Go module of deploy/helm/test ----
step "deploy/helm/test: go vet, go test"
(
  cd deploy/helm/test
  unformatted=$(gofmt -l .)
  [ -z "$unformatted" ] || fail "gofmt would change: $unformatted"
  go vet ./...
  go test -count=1 ./...
)

# ---- 2. alert rules and dashboard queries ----
step "promtool"
promtool check rules deploy/prometheus/alerts.yaml
promtool test rules deploy/prometheus/alerts_test.yaml
# Every dashboard query as a recording rule, Grafana's variables replaced,
# so that promtool parses it.
{
  printf 'groups:\n  - name: dashboard\n    rules:\n'
  jq -r '[.panels[].targets[]?.expr] | to_entries[] |
    "      - record: dashboard:q\(.key)\n        expr: \(.value | gsub("\\$__rate_interval"; "5m") | gsub("\\$job"; ".*") | tojson)"' \
    deploy/grafana/onbehalf.json
} >"$work/dashboard-rules.yaml"
promtool check rules "$work/dashboard-rules.yaml"

# ---- 3. systemd unit ----
step "systemd-analyze"
scripts/build "$work/onbehalf"
# verify wants ExecStart's binary where the unit says.
if [ ! -e /usr/local/bin/onbehalf ]; then
  install -m 0755 "$work/onbehalf" /usr/local/bin/onbehalf
  installed_bin=/usr/local/bin/onbehalf
fi
systemd-analyze verify deploy/systemd/onbehalf.service
exposure=$(systemd-analyze security --offline=yes deploy/systemd/onbehalf.service 2>/dev/null | sed -n 's/.*Overall exposure level for onbehalf.service: \([0-9.]*\).*/\1/p')
echo "systemd-analyze security: exposure $exposure"
awk -v e="$exposure" 'BEGIN { exit !(e != "" && e + 0 <= 2.0) }' || fail "the unit's exposure is $exposure, want 2.0 or less"

# ---- 4. Caddyfile ----
step "caddy validate"
caddy_out=$(ONBEHALF_DOMAIN=onbehalf.example.com ONBEHALF_UPSTREAM=127.0.0.1:8080 \
  caddy validate --adapter caddyfile --config deploy/caddy/Caddyfile 2>&1) || fail "caddy validate: $caddy_out"
grep -q "Valid configuration" <<<"$caddy_out" || fail "caddy validate: $caddy_out"
echo "Caddyfile: Valid configuration"

# ---- 5. the image ----
step "scripts/build-image"
image=$(IMAGE="onbehalf:ci-$$" scripts/build-image | tail -n 1)
echo "image: $image"
user=$(pod image inspect --format '{{.Config.User}}' "$image")
[ "$user" = "65532:65532" ] || fail "the image runs as $user, want 65532:65532"
if pod run --rm --entrypoint /bin/sh "$image" -c true >/dev/null 2>&1; then
  fail "the image has a shell"
fi
commit=$(git rev-parse HEAD 2>/dev/null || true)
version=$(pod run --rm "$image" version)
echo "$version"
if [ -n "$commit" ] && ! grep -q "${commit:0:7}" <<<"$version"; then
  fail "onbehalf version does not name the commit ${commit:0:7}: $version"
fi

# free_port prints a TCP port nothing listens on.
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
# status URL prints the HTTP status of GET URL (000 when nothing answers).
status() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1" || true; }
# wait_status URL CODE waits up to 30 s for GET URL to answer CODE.
wait_status() {
  local i
  for i in $(seq 150); do
    [ "$(status "$1")" = "$2" ] && return 0
    sleep 0.2
  done
  fail "GET $1 never answered $2 (last: $(status "$1"))"
}
# run NAME ARGS… starts a container of the image on the host network.
run() {
  local name=$1
  shift
  containers+=("$name")
  pod run -d --network host --name "$name" "$@" >/dev/null
}

step "the server in the image (bbolt)"
port=$(free_port)
mport=$(free_port)
secrets="$work/secrets"
mkdir -p "$secrets"
printf 'ci-zoom-client-secret-%s\n' "$RANDOM$RANDOM" >"$secrets/zoom_client_secret"
chmod 0644 "$secrets/zoom_client_secret" # readable by 65532 in the container
srv="onbehalf-ci-srv-$$"
run "$srv" -e PORT="$port" -e BASE_URL="http://127.0.0.1:$port" -e ZOOM_CLIENT_ID=ci \
  -e ZOOM_CLIENT_SECRET_FILE=/run/secrets/zoom_client_secret -v "$secrets:/run/secrets:ro" \
  -e METRICS=true -e METRICS_ADDR="127.0.0.1:$mport" -e SHUTDOWN_DRAIN=3s \
  -v "onbehalf-ci-data-$$:/data" "$image"
wait_status "http://127.0.0.1:$port/livez" 200
wait_status "http://127.0.0.1:$port/readyz" 200
wait_status "http://127.0.0.1:$port/healthz" 200
metrics=$(curl -fsS "http://127.0.0.1:$mport/metrics")
for m in onbehalf_build_info onbehalf_connections onbehalf_outbox_pending onbehalf_keepalive_lag_seconds; do
  grep -q "^$m" <<<"$metrics" || fail "/metrics has no $m"
done
logs=$(pod logs "$srv" 2>&1)
if grep -q '"set":"ZOOM_CLIENT_SECRET"' <<<"$logs"; then
  fail "ZOOM_CLIENT_SECRET_FILE was not read: $logs"
fi
if grep -q "ci-zoom-client-secret" <<<"$logs"; then
  fail "the secret is in the log"
fi
echo "livez, readyz, healthz 200; metrics served; the secret read from its file"

# SIGTERM: /readyz turns 503 at once while /livez still answers, then the
# process exits 0 after the drain.
pod kill --signal TERM "$srv" >/dev/null
wait_status "http://127.0.0.1:$port/readyz" 503
[ "$(status "http://127.0.0.1:$port/livez")" = 200 ] || fail "/livez stopped answering during the drain"
rc=$(pod wait "$srv")
[ "$rc" = 0 ] || fail "the server exited $rc after SIGTERM: $(pod logs --tail 5 "$srv" 2>&1)"
echo "SIGTERM: readyz 503 during the drain, livez 200, exit 0"
pod rm -f -v "$srv" >/dev/null
pod volume rm -f "onbehalf-ci-data-$$" >/dev/null

step "PostgreSQL: the chart's migration command, then the server"
pgenv=$(.ci/pg.sh start)
eval "$pgenv"
pg_started=1
printf '%s' "$ONBEHALF_TEST_DATABASE_URL" >"$secrets/database_url"
head -c 32 /dev/urandom | base64 >"$secrets/token_encryption_key"
chmod 0644 "$secrets"/*
pgargs=(-e DATABASE_URL_FILE=/run/secrets/database_url -e TOKEN_ENCRYPTION_KEY_FILE=/run/secrets/token_encryption_key
  -e ZOOM_CLIENT_SECRET_FILE=/run/secrets/zoom_client_secret -v "$secrets:/run/secrets:ro" -e ZOOM_CLIENT_ID=ci)
# What the Helm chart's init container runs: opens the store, migrating
# the schema, and lists the API keys (none).
migrate_out=$(pod run --rm --network host "${pgargs[@]}" "$image" apikey list 2>&1) ||
  fail "the migration command failed: $migrate_out"
schema=$(psql "$ONBEHALF_TEST_DATABASE_URL" -tAc 'SELECT max(version_id) FROM onbehalf_schema_version' 2>&1) ||
  fail "no schema after the migration command: $schema"
echo "migration command: schema at version $schema; it printed: $migrate_out"
port=$(free_port)
run "onbehalf-ci-pg-$$" "${pgargs[@]}" -e PORT="$port" -e BASE_URL="http://127.0.0.1:$port" "$image"
wait_status "http://127.0.0.1:$port/readyz" 200
echo "PostgreSQL: migrated, readyz 200"
pod stop -t 30 "onbehalf-ci-pg-$$" >/dev/null

step "onbehalf demo in the image: connect, send a bot, its token request"
dport=$(free_port)
run "onbehalf-ci-demo-$$" -e PORT="$dport" "$image" demo
app="http://127.0.0.1:$dport"
wait_status "$app/" 200
jar="$work/cookies"
# Connect Zoom: the server sends the browser to the fake Zoom's consent
# page, whose form carries the authorization request; allow it.
consent=$(curl -fsS -c "$jar" -b "$jar" -L -w '\n%{url_effective}' "$app/zoom/oauth")
zoom=$(tail -n 1 <<<"$consent")
zoom=${zoom%%/oauth/*}
request=$(sed -n 's/.*name="request" value="\([^"]*\)".*/\1/p' <<<"$consent" | head -n 1 | sed 's/&amp;/\&/g')
[ -n "$request" ] || fail "no consent page at $zoom"
landed=$(curl -fsS -c "$jar" -b "$jar" -L -o /dev/null -w '%{http_code} %{url_effective}' \
  --data-urlencode "request=$request" -d decision=allow "$zoom/oauth/authorize")
[ "$landed" = "200 $app/launch" ] || fail "after consent: $landed"
# Send a bot with the fake Recall.ai: it fetches its token from its
# signed token URL.
sent=$(curl -fsS -c "$jar" -b "$jar" -L -o /dev/null -w '%{http_code} %{url_effective}' \
  -d meeting_url=https://zoom.us/j/85012345670 -d bot_name=ci -d platform=recall "$app/launch")
case "$sent" in "200 $app/launch?created="*) ;; *) fail "launch: $sent" ;; esac
for i in $(seq 100); do
  bots=$(curl -fsS -b "$jar" "$app/launch/bots")
  grep -q "fetched its On-Behalf-Of token from this server" <<<"$bots" && break
  [ "$i" = 100 ] && fail "the bot never got its token: $(sed 's/<[^>]*>/ /g' <<<"$bots" | tr -s ' \n' ' ')"
  sleep 0.2
done
echo "demo: connected, bot sent, its token request answered 200"

step "done in $(($(date +%s) - start))s"
