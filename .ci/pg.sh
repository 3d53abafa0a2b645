#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests of internal/store/postgres.
#
#   eval "$(.ci/pg.sh start)"   # prints export ONBEHALF_TEST_DATABASE_URL=… and ONBEHALF_PG_DIR=…
#   go test ./internal/store/postgres/...
#   .ci/pg.sh stop              # stops the cluster in $ONBEHALF_PG_DIR and removes the folder
#
# start installs PostgreSQL from Debian's packages when no initdb is found
# (as root: apt-get), creates a cluster in a new temporary folder owned by an
# unprivileged user (initdb and postgres refuse to run as root: the
# "postgres" user the package creates, or "onbehalf-pg" made here), starts
# it on 127.0.0.1 and a free port with settings for tests (fsync off), and
# prints the superuser URL (a random password, scram-sha-256) on stdout.
# Everything else goes to stderr, so that eval sees only the exports.
#
# stop [DIR] stops the cluster in DIR (default $ONBEHALF_PG_DIR) and
# removes DIR. Neither touches any other cluster on the machine.
set -euo pipefail

log() { echo "pg.sh: $*" >&2; }

# pgbin prints the folder of the newest installed PostgreSQL's programs.
pgbin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then
    echo "$d"
    return 0
  fi
  if command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return 0
  fi
  return 1
}

install_postgres() {
  if [ "$(id -u)" -ne 0 ]; then
    log "PostgreSQL is not installed and this is not root: install the Debian package postgresql"
    exit 1
  fi
  log "installing PostgreSQL from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  # The package's own cluster is not used; policy-rc.d keeps the package
  # from starting services where that is possible.
  apt-get install -y --no-install-recommends postgresql >&2
}

# runas runs a command as the cluster's user (directly when not root).
runas() {
  if [ "$(id -u)" -ne 0 ]; then
    "$@"
  elif command -v runuser >/dev/null 2>&1; then
    runuser -u "$PGUSER_OS" -- "$@"
  else
    su -s /bin/sh "$PGUSER_OS" -c "$(printf '%q ' "$@")"
  fi
}

# free_port prints a TCP port nothing listens on at 127.0.0.1.
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

start() {
  local bin
  if ! bin=$(pgbin); then
    install_postgres
    bin=$(pgbin) || { log "initdb not found after installing postgresql"; exit 1; }
  fi
  PGUSER_OS=$(id -un)
  if [ "$(id -u)" -eq 0 ]; then
    if id postgres >/dev/null 2>&1; then
      PGUSER_OS=postgres
    else
      PGUSER_OS=onbehalf-pg
      id "$PGUSER_OS" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$PGUSER_OS"
    fi
  fi
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/onbehalf-pg.XXXXXX")
  chmod 0700 "$dir"
  [ "$(id -u)" -eq 0 ] && chown "$PGUSER_OS" "$dir"
  local pw
  pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | head -c 24)
  printf '%s\n' "$pw" >"$dir/pwfile"
  [ "$(id -u)" -eq 0 ] && chown "$PGUSER_OS" "$dir/pwfile"
  chmod 0600 "$dir/pwfile"
  log "initdb in $dir as $PGUSER_OS ($bin)"
  runas "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" --auth=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    rm -rf "$dir"
    exit 1
  }
  rm -f "$dir/pwfile"
  local port tries=0
  while :; do
    port=$(free_port) || { log "no free port"; rm -rf "$dir"; exit 1; }
    if runas "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start -o \
      "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=256MB" >&2; then
      break
    fi
    tries=$((tries + 1))
    if [ "$tries" -ge 3 ]; then
      cat "$dir/postgres.log" >&2 || true
      rm -rf "$dir"
      exit 1
    fi
    log "start on port $port failed; trying another port"
  done
  log "PostgreSQL $("$bin/postgres" -V | awk '{print $3}') listening on 127.0.0.1:$port, data in $dir"
  echo "$bin" >"$dir/bin"
  echo "$PGUSER_OS" >"$dir/user"
  echo "export ONBEHALF_TEST_DATABASE_URL='postgres://postgres:$pw@127.0.0.1:$port/postgres?sslmode=disable'"
  echo "export ONBEHALF_PG_DIR='$dir'"
}

stop() {
  local dir=${1:-${ONBEHALF_PG_DIR:-}}
  if [ -z "$dir" ]; then
    log "stop: no folder: pass it, or set ONBEHALF_PG_DIR (printed by start)"
    exit 1
  fi
  case "$dir" in
  */onbehalf-pg.*) ;;
  *)
    log "stop: $dir is not a folder made by pg.sh start"
    exit 1
    ;;
  esac
  if [ -d "$dir/data" ]; then
    PGUSER_OS=$(cat "$dir/user" 2>/dev/null || id -un)
    local bin
    bin=$(cat "$dir/bin" 2>/dev/null || pgbin)
    runas "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >&2 || log "stop: pg_ctl stop failed (not running?)"
  fi
  rm -rf "$dir"
  log "stopped and removed $dir"
}

case "${1:-}" in
start) start ;;
stop) stop "${2:-}" ;;
*)
  echo "usage: $0 start | stop [DIR]" >&2
  exit 2
  ;;
esac
