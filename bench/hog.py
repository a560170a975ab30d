"""
HOG people detection: the torch computation against OpenCV's own, in one run.

Times :func:`pose3d_ros.estimation.hog.detect` with each engine (``torch`` and ``opencv``,
:data:`~pose3d_ros.estimation.hog.ENGINES`) on a 640 x 480 street photograph (bus.jpg,
resized) for each model, pyramid scale step and upscale, and prints a markdown table of
the best of the repeats and the ratio torch / opencv. Speed is reported, never asserted.

Usage: python bench/hog.py [--threads N] [--repeats N] [--device cpu|cuda]
"""

import argparse
import sys
import time
from typing import Callable

import cv2
from pose3d_ros.estimation import hog
from pose3d_ros.malloc_settings import keep_freed_memory
from pose3d_ros.samples import fetch_street_photos, read_rgb
import torch


def best_ms(function: Callable[[], object], repeats: int) -> float:
    """Return the fastest of ``repeats`` calls after one warm-up, milliseconds."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1e3 * min(times)


def main() -> int:
    """Measure and print the table; exit 0."""
    keep_freed_memory()  # as the node and pose3d-estimate run
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--threads', type=int, default=1, help='CPU threads of both engines')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--device', default='cpu', help="the torch engine's device")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    rgb = cv2.resize(read_rgb(fetch_street_photos() / 'bus.jpg'), (640, 480),
                     interpolation=cv2.INTER_AREA)
    image = torch.from_numpy(rgb).permute(2, 0, 1).float()
    on_device = image.to(args.device)
    print(f'{args.threads} thread(s); torch {torch.__version__} on {args.device}, '
          f'OpenCV {cv2.__version__}; bus.jpg at 640 x 480\n')
    print('| model | scale step | upscale | levels | torch ms | opencv ms | torch / opencv |')
    print('| --- | --- | --- | --- | --- | --- | --- |')
    for name in hog.HOG_MODELS:
        for step in (1.05, 1.1, 1.2):
            for upscale in (1.0, 2.0):
                def run(engine: str, frame: torch.Tensor) -> Callable[[], object]:
                    def call() -> None:
                        with torch.inference_mode():
                            hog.detect(frame, name, scale_step=step, upscale=upscale,
                                       engine=engine)
                        if frame.device.type == 'cuda':
                            torch.cuda.synchronize()
                    return call

                levels = len(hog.pyramid(640, 480, name, step, upscale))
                ours = best_ms(run('torch', on_device), args.repeats)
                theirs = best_ms(run('opencv', image), args.repeats)
                print(f'| {name} | {step} | {upscale:g} | {levels} | {ours:.1f} | '
                      f'{theirs:.1f} | {ours / theirs:.2f} |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
