#!/usr/bin/env bash
# Prepare everything cityincidents needs on a Debian 12 machine, idempotently.
#
#   scripts/setup.sh          runtime: apt packages, .venv, requirements.txt, database, migrate
#   scripts/setup.sh --dev    also requirements-dev.txt, Chromium and Redis for the test suite
#
# When DATABASE_URL is not set, a project-local PostGIS cluster is started under .pg/
# (scripts/pg-local.sh). A second run only checks what is already there.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DEV=0
[ "${1:-}" = "--dev" ] && DEV=1

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# --- apt packages ---------------------------------------------------------------------
# GeoDjango loads GDAL, GEOS and PROJ through ctypes: gdal-bin pulls libgdal, libgeos-c
# and libproj. postgresql + postgis are only needed for the project-local cluster.
APT_PACKAGES=(gdal-bin libgeos-c1v5 libproj25 binutils gettext ca-certificates python3-venv)
if [ -z "${DATABASE_URL:-}" ]; then
    APT_PACKAGES+=(postgresql postgresql-15-postgis-3)
fi
if [ "$DEV" = 1 ]; then
    # Browser tests drive Debian's Chromium (never a downloaded build); Celery tests use Redis;
    # the fault tests restart a throwaway PostGIS cluster of their own, even with DATABASE_URL;
    # the client tests open the API in QGIS headless (python3-qgis, ~100 MiB, system Python).
    APT_PACKAGES+=(chromium redis-server python3-qgis)
    [ -n "${DATABASE_URL:-}" ] && APT_PACKAGES+=(postgresql postgresql-15-postgis-3)
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing apt packages: ${missing[*]}"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || { echo "setup: run as root or install sudo to install: ${missing[*]}" >&2; exit 1; }
        SUDO="sudo"
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- Python virtualenv ------------------------------------------------------------------
PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
            PYTHON="$candidate"
            break
        fi
    done
fi
[ -n "$PYTHON" ] || { echo "setup: Python 3.11 is required (set PYTHON=/path/to/python3.11)" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
    say "creating .venv with $PYTHON"
    "$PYTHON" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
fi

# Reinstall only when a requirements file changed since the last successful install.
REQS=(requirements.txt)
[ "$DEV" = 1 ] && REQS+=(requirements-dev.txt)
stamp=".venv/.requirements-$(cat "${REQS[@]}" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    say "installing Python packages from ${REQS[*]}"
    for req in "${REQS[@]}"; do
        .venv/bin/python -m pip install -q --disable-pip-version-check -r "$req"
    done
    rm -f .venv/.requirements-*
    touch "$stamp"
fi

# --- database ---------------------------------------------------------------------------
if [ -z "${DATABASE_URL:-}" ]; then
    scripts/pg-local.sh start
else
    say "using DATABASE_URL (${DATABASE_URL%%@*}@...)"
fi

if [ "$DEV" = 1 ] && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    mkdir -p .redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
        --dir "$ROOT/.redis" --logfile "$ROOT/.redis/redis.log"
    say "started Redis on 127.0.0.1:6379"
fi

say "migrating"
# Migrations need no secret; a development key is fine when none is configured.
DJANGO_DEBUG="${DJANGO_DEBUG:-1}" .venv/bin/python manage.py migrate --noinput -v 0
