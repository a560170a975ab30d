#!/usr/bin/env bash
# Set up everything from nothing (see scripts/bootstrap.sh) and run the whole test suite.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh requirements-test.txt
exec .venv/bin/python -m pytest "$@"
