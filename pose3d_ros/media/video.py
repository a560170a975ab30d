"""Video files: frames in (with their times), and an .mp4 of drawn frames out (OpenCV)."""

from pathlib import Path
from typing import Iterator, Optional, Tuple

import cv2
import numpy as np


def video_frames(path: Path) -> Tuple[int, float, Iterator[Tuple[float, np.ndarray]]]:
    """
    Open a video; return its frame count, its rate (Hz), and its frames.

    The frames are (time s, (H, W, 3) uint8 RGB), read one by one; ValueError when the file
    is not a readable video.
    """
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise ValueError('not a readable video')
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))

    def frames() -> Iterator[Tuple[float, np.ndarray]]:
        try:
            index = 0
            while True:
                ok, bgr = capture.read()
                if not ok:
                    return
                yield index / fps, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                index += 1
        finally:
            capture.release()
    return count, fps, frames()


class VideoOut:
    """An .mp4 written frame by frame; the file is created with the first frame's size."""

    def __init__(self, path: Path, fps: float) -> None:
        self.path, self.fps = path, fps
        self._writer: Optional[cv2.VideoWriter] = None

    def write(self, bgr: np.ndarray) -> None:
        """Append one (H, W, 3) uint8 BGR frame."""
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            height, width = bgr.shape[:2]
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*'mp4v'),
                                           self.fps, (width, height))
        self._writer.write(bgr)

    def close(self) -> None:
        """Finish the file (nothing when no frame was written)."""
        if self._writer is not None:
            self._writer.release()
