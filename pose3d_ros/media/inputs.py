"""What an input path is: an image, a video or a rosbag2 bag (no file is opened here)."""

from pathlib import Path
from typing import Iterable, Iterator

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp', '.ppm', '.pgm')
VIDEO_SUFFIXES = ('.mp4', '.avi', '.mkv', '.mov', '.webm', '.m4v', '.mpg', '.mpeg')


def is_bag(path: Path) -> bool:
    """Return True for a rosbag2 directory or a single .mcap / .db3 file."""
    return (path.is_dir() and (path / 'metadata.yaml').exists()) or \
        path.suffix in ('.mcap', '.db3')


def is_stream(path: Path) -> bool:
    """Return True for a bag or a video: inputs whose frames form a stream."""
    return is_bag(path) or path.suffix.lower() in VIDEO_SUFFIXES


def input_files(inputs: Iterable[Path]) -> Iterator[Path]:
    """Yield the files and bags named, and the image files inside directories named."""
    for path in inputs:
        if path.is_dir() and not is_bag(path):
            yield from sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            yield path
