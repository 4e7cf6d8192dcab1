#!/usr/bin/env bash
# Set everything up, load the Toulouse demo and serve the app on http://127.0.0.1:8000/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup.sh
export DJANGO_DEBUG="${DJANGO_DEBUG:-1}"
.venv/bin/python manage.py load_demo
echo "==> serving http://${INCIDENTS_BIND:-127.0.0.1:8000}/ (Ctrl-C to stop)"
exec .venv/bin/python manage.py runserver "${INCIDENTS_BIND:-127.0.0.1:8000}"
