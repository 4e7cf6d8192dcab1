#!/usr/bin/env bash
# Create bench/.pygeoapi-venv with pygeoapi (the OGC API baseline of bench_ogc.py).
# Kept apart from the project's .venv: pygeoapi is a benchmark baseline, not a dependency.
# 0.21.0 is the newest pygeoapi the package index here serves.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
VENV=.pygeoapi-venv
PACKAGES=(pygeoapi==0.21.0 GeoAlchemy2==0.20.0 SQLAlchemy==2.1.9 psycopg2-binary==2.9.13 gunicorn==27.0.1)
if [ ! -x "$VENV/bin/pygeoapi" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "${PACKAGES[@]}"
fi
"$VENV/bin/python" -c "import importlib.metadata as m; print('pygeoapi', m.version('pygeoapi'))"
