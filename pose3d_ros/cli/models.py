"""``pose3d-models``: fetch, locate and verify the bundled BlazePose model files."""

import argparse
import sys
from typing import List, Optional

from ..models.blazepose import MODEL_FILES
from ..models.store import fetch, ModelFileError, resolve_model_dir, verify


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='pose3d-models',
        description='Obtain the BlazePose GHUM 3D model files from the mediapipe==0.10.14 '
                    'wheel and keep them, digest-checked, in the model directory.')
    parser.add_argument('--model-dir', help='model directory (default: $POSE3D_MODEL_DIR or '
                                            '$XDG_CACHE_HOME/pose3d_ros/models)')
    commands = parser.add_subparsers(dest='command', required=True)
    fetch_parser = commands.add_parser('fetch', help='download (if needed) and install')
    fetch_parser.add_argument('--wheel', help='use this local mediapipe-0.10.14 wheel instead '
                                              'of downloading it')
    fetch_parser.add_argument('--force', action='store_true',
                              help='reinstall even if the files are intact')
    commands.add_parser('path', help='print the model directory')
    commands.add_parser('verify', help='check every file against its pinned SHA-256')
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point; returns the process exit code (0 ok, 1 problem found)."""
    args = build_parser().parse_args(argv)
    if args.command == 'path':
        print(resolve_model_dir(args.model_dir))
        return 0
    if args.command == 'fetch':
        try:
            fetch(MODEL_FILES, args.model_dir, wheel=args.wheel, force=args.force)
        except ModelFileError as exc:
            print(f'error: {exc}', file=sys.stderr)
            return 1
        return 0
    problems = verify(MODEL_FILES, args.model_dir)
    for name, problem in problems.items():
        print(f'{name}: {problem or "ok"}')
    if any(problems.values()):
        print('fix: run `pose3d-models fetch`', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
