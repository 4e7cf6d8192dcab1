#!/usr/bin/env bash
# Check the pinned dependencies against the Python Packaging Advisory Database (pip-audit).
#
#   scripts/audit.sh                       requirements.txt (what runs in production)
#   scripts/audit.sh requirements-dev.txt  the test tools too
#
# Needs the internet (PyPI's JSON API and the advisory database): it is not part of CI
# (.ci/run), whose machines reach a package index but no vulnerability database. Run it on
# a machine with internet access, before a release and when an advisory is announced.
# pip-audit is installed in a venv of its own (.venv-audit), pinned, apart from the project.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
REQUIREMENTS="${1:-requirements.txt}"
[ -f "$REQUIREMENTS" ] || { echo "audit: no file $REQUIREMENTS" >&2; exit 2; }
PIP_AUDIT_VERSION="2.10.1"
if [ ! -x .venv-audit/bin/pip-audit ] || ! .venv-audit/bin/pip-audit --version | grep -q "$PIP_AUDIT_VERSION"; then
    python3 -m venv .venv-audit
    .venv-audit/bin/python -m pip install -q --disable-pip-version-check "pip-audit==$PIP_AUDIT_VERSION"
fi
# --strict: a requirement that cannot be resolved or audited is an error, not a skip.
if ! .venv-audit/bin/pip-audit -r "$REQUIREMENTS" --strict --progress-spinner off; then
    echo "audit: see above. A vulnerable pin: upgrade it in $REQUIREMENTS to a fixed version and run the tests." >&2
    echo "audit: 'Connection' errors, or 'Dependency not found on PyPI' for every package, mean this machine cannot" >&2
    echo "audit: reach PyPI's JSON API or the advisory database (as in CI here): run it where it can." >&2
    exit 1
fi
