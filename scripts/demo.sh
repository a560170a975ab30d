#!/usr/bin/env bash
# Set up everything from nothing (see scripts/bootstrap.sh) and run the main job on its
# built-in default input (a real photograph from Debian's opencv-doc package): every
# person's metric 3D skeleton as JSON lines on stdout, pictures in ./pose3d_render.
# Extra arguments replace the defaults and go to pose3d-estimate (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh requirements.txt
if [ "$#" -eq 0 ]; then
  set -- --render pose3d_render
fi
exec .venv/bin/pose3d-estimate "$@"
