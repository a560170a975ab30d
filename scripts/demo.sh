#!/usr/bin/env bash
# Set up everything from nothing (see scripts/bootstrap.sh) and run the main job on its
# built-in default input: pose3d-demo starts the real pose3d_node, a player publishes a
# clip made of a real photograph (Debian opencv-doc's messi5.jpg) as Image + CameraInfo
# over DDS, and a listener prints every person's track id and distance per frame and draws
# the last frame in ./pose3d_render.
# With arguments, they go to pose3d-estimate instead (images, videos, bags; see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh requirements.txt
if [ "$#" -eq 0 ]; then
  exec .venv/bin/pose3d-demo --output pose3d_render
fi
exec .venv/bin/pose3d-estimate "$@"
