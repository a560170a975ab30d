#!/usr/bin/env bash
# Set up everything from nothing (see scripts/bootstrap.sh) and run the main job on its
# built-in default input (a real photograph from Debian's opencv-doc package).
# Extra arguments go to pose3d-demo (e.g. an image path).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh requirements.txt
exec .venv/bin/pose3d-demo "$@"
