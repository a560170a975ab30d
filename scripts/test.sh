#!/usr/bin/env bash
# Set up everything from nothing (see scripts/bootstrap.sh), fetch what the tests read
# (the sample photographs, MediaPipe's own environment for the agreement test), and run
# the whole test suite. The tests themselves never download: a missing resource skips.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh requirements-test.txt
.venv/bin/python -m pose3d_ros.samples > /dev/null
.venv/bin/python -m pose3d_ros.evaluation.mediapipe_reference > /dev/null
exec .venv/bin/python -m pytest "$@"
