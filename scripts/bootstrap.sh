#!/usr/bin/env bash
# Create or update the local virtual environment .venv with the pinned dependencies,
# install this package into it (editable) and fetch the model files.
# Usage: scripts/bootstrap.sh [requirements file]   (default: requirements.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
requirements="${1:-requirements.txt}"
python="${PYTHON:-python3}"

if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
# opencv-contrib-python-headless replaced opencv-python-headless (HOG's people detector):
# both install cv2, so an environment made before holds the plain wheel; remove both and
# let the pinned one install cleanly.
if .venv/bin/python -m pip show --quiet opencv-python-headless >/dev/null 2>&1; then
  .venv/bin/python -m pip uninstall --quiet -y opencv-python-headless \
    opencv-contrib-python-headless
fi
# Installing is a no-op when everything pinned is already there.
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
.venv/bin/python -m pose3d_ros.cli.models fetch
