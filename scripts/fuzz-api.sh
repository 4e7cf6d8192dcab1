#!/usr/bin/env bash
# Fuzz the whole API with schemathesis, longer than the test suite does.
#
#   scripts/fuzz-api.sh            200 examples per operation, caller and mode, new ones each run
#   scripts/fuzz-api.sh 1000       more
#
# The same test as the suite (tests/reliability/test_schemathesis.py): every operation of
# /api/schema/, valid and invalid requests, anonymously and with a staff token, through the
# real application and a real PostGIS test database; no 5xx, and every answer as documented.
# A failure prints a curl command that reproduces it and the seed (--hypothesis-seed=...).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
EXAMPLES="${1:-200}"
case "$EXAMPLES" in
    '' | *[!0-9]*) echo "fuzz-api: the argument is a number of examples, e.g. scripts/fuzz-api.sh 500" >&2; exit 2 ;;
esac
scripts/setup.sh --dev
echo "fuzz-api: $EXAMPLES examples per operation, caller and mode (random; the suite replays 12 fixed ones)"
FUZZ_MAX_EXAMPLES="$EXAMPLES" FUZZ_RANDOM=1 exec .venv/bin/python -m pytest tests/reliability/test_schemathesis.py \
    -p no:cacheprovider -q -k test_api_conforms_to_its_schema
