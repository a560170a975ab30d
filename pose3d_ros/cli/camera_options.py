"""Camera options shared by the commands: --camera-info, --fx/--fy/--cx/--cy, --hfov."""

import argparse
from pathlib import Path
from typing import Optional

from ..geometry.calibration_file import load_camera_info
from ..geometry.camera import CameraModel, DEFAULT_HFOV_DEG


def add_camera_arguments(parser: argparse.ArgumentParser, title: str) -> None:
    """Add the camera options to ``parser`` as an argument group called ``title``."""
    camera = parser.add_argument_group(title)
    camera.add_argument('--camera-info', type=Path, metavar='FILE',
                        help='ROS camera_calibration YAML')
    for name in ('fx', 'fy', 'cx', 'cy'):
        camera.add_argument(f'--{name}', type=float,
                            help='pixels' + ('' if name in ('fx', 'fy') else
                                             ' (default: the image centre)'))
    camera.add_argument('--hfov', type=float, metavar='DEG',
                        help=f'horizontal field of view in degrees (default '
                             f'{DEFAULT_HFOV_DEG:g})')


def camera_argument_problem(args: argparse.Namespace) -> Optional[str]:
    """Return what is wrong with the camera options, or None: checked before any work."""
    if args.hfov is not None and not 0 < args.hfov < 180:
        return '--hfov must be in (0, 180) degrees'
    return None


def camera_for(args: argparse.Namespace, width: int, height: int) -> CameraModel:
    """Return the camera model the options describe for a ``width`` x ``height`` image."""
    if args.camera_info:
        camera = load_camera_info(args.camera_info)
        if (camera.width, camera.height) != (width, height):
            raise ValueError(f'image is {width} x {height} but {args.camera_info} is for '
                             f'{camera.width} x {camera.height}')
        return camera
    if args.fx is not None or args.fy is not None:
        if args.fx is None or args.fy is None:
            raise ValueError('give both --fx and --fy')
        cx = (width - 1) / 2.0 if args.cx is None else args.cx
        cy = (height - 1) / 2.0 if args.cy is None else args.cy
        return CameraModel.from_values(width, height, [args.fx, 0, cx, 0, args.fy, cy, 0, 0, 1])
    return CameraModel.from_hfov(width, height,
                                 DEFAULT_HFOV_DEG if args.hfov is None else args.hfov)
