#!/usr/bin/env bash
# Manage the project-local PostGIS cluster under .pg/ (used when DATABASE_URL is not set).
#
# The cluster listens on a Unix socket inside the project folder only (no TCP), so it
# never collides with a system PostgreSQL. PostgreSQL refuses to run as root: when
# called as root, the cluster is owned and run by the "postgres" system user.
#
#   scripts/pg-local.sh start    initdb if needed, start, create role/database + PostGIS
#   scripts/pg-local.sh stop
#   scripts/pg-local.sh restart
#   scripts/pg-local.sh status
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PGROOT="$ROOT/.pg"
PGDATA="$PGROOT/data"
PGSOCK="$PGROOT/run"
PGLOG="$PGROOT/postgresql.log"
PGPORT="${INCIDENTS_PG_PORT:-5432}"
DBNAME="${INCIDENTS_PG_DB:-cityincidents}"
DBUSER="cityincidents"

find_pgbin() {
    local v
    for v in 17 16 15; do
        if [ -x "/usr/lib/postgresql/$v/bin/pg_ctl" ]; then
            echo "/usr/lib/postgresql/$v/bin"
            return
        fi
    done
    command -v pg_ctl >/dev/null 2>&1 && dirname "$(command -v pg_ctl)" && return
    echo "pg-local: no pg_ctl found; install postgresql (scripts/setup.sh does it)" >&2
    exit 1
}
PGBIN="$(find_pgbin)"

# Run a command as the cluster owner.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

psql_local() {
    as_owner "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGSOCK" -p "$PGPORT" -U "$DBUSER" "$@"
}

is_running() {
    [ -f "$PGDATA/postmaster.pid" ] && as_owner "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1
}

init_cluster() {
    mkdir -p "$PGROOT"
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || { echo "pg-local: system user 'postgres' is missing (install postgresql)" >&2; exit 1; }
        chown postgres: "$PGROOT"
        if ! runuser -u postgres -- test -w "$PGROOT"; then
            echo "pg-local: user 'postgres' cannot reach $PGROOT (a parent folder is not searchable)." >&2
            echo "pg-local: move the project to a readable path, or set DATABASE_URL to an existing PostGIS." >&2
            exit 1
        fi
    fi
    echo "pg-local: creating cluster in $PGDATA"
    as_owner "$PGBIN/initdb" -D "$PGDATA" -U "$DBUSER" --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >> "$PGDATA/postgresql.conf" <<CONF

# cityincidents project-local cluster: Unix socket in the project folder only.
listen_addresses = ''
port = $PGPORT
unix_socket_directories = '$PGSOCK'
fsync = on
shared_buffers = 256MB
work_mem = 32MB
maintenance_work_mem = 256MB
max_connections = 200
CONF
}

start() {
    [ -f "$PGDATA/PG_VERSION" ] || init_cluster
    mkdir -p "$PGSOCK"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$PGSOCK" "$PGROOT"
    if is_running; then
        echo "pg-local: already running (socket $PGSOCK)"
    else
        # A stale pid file from a killed server would block the start.
        rm -f "$PGDATA/postmaster.pid"
        as_owner "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGLOG" -w -t 60 start >/dev/null
        echo "pg-local: started (socket $PGSOCK, port $PGPORT)"
    fi
    if [ "$(psql_local -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DBNAME'")" != "1" ]; then
        psql_local -d postgres -c "CREATE DATABASE \"$DBNAME\""
        echo "pg-local: created database $DBNAME"
    fi
    psql_local -d "$DBNAME" -c "CREATE EXTENSION IF NOT EXISTS postgis"
}

stop() {
    if is_running; then
        as_owner "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
        echo "pg-local: stopped"
    else
        echo "pg-local: not running"
    fi
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    restart) stop; start ;;
    status) if is_running; then echo "pg-local: running (socket $PGSOCK)"; else echo "pg-local: stopped"; exit 3; fi ;;
    *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
