#!/usr/bin/env bash
# Set everything up (with test tools) and run the whole test suite against a real PostGIS.
# Extra arguments go to pytest, e.g. scripts/test.sh tests/test_models.py -x
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup.sh --dev
exec .venv/bin/python -m pytest "$@"
