"""
Frames with a chosen number of people, composited from a real person crop.

The benchmark measures how cost grows with image size and people; it needs real people in
known numbers, and the samples hold one. :func:`crowd` pastes that person, scaled and
every other copy mirrored, into a grid of cells over a real background photograph
without people.
"""

import math
from typing import Tuple

import cv2
import numpy as np

from .sequences import paste


def grid_shape(persons: int, size: Tuple[int, int], person_aspect: float) -> Tuple[int, int]:
    """
    Return the (columns, rows) of cells that show ``persons`` people largest.

    ``size`` is the image's (width, height), ``person_aspect`` the crop's width / height.
    """
    if persons < 1:
        raise ValueError(f'persons must be >= 1, got {persons}')
    width, height = size

    def person_height(columns: int) -> float:
        rows = math.ceil(persons / columns)
        return min(width / columns / person_aspect, height / rows)

    columns = max(range(1, persons + 1), key=person_height)
    return columns, math.ceil(persons / columns)


def crowd(person: np.ndarray, background: np.ndarray, persons: int,
          size: Tuple[int, int]) -> np.ndarray:
    """
    Paste ``persons`` copies of ``person`` into ``background`` resized to ``size``.

    Parameters
    ----------
    person
        (h, w, 3) uint8 RGB crop around one real person.
    background
        (H', W', 3) uint8 RGB photograph without people; resized to ``size``.
    persons
        Number of copies, one per grid cell, row by row; odd copies are mirrored.
    size
        (width, height) of the result in pixels.

    Returns
    -------
    np.ndarray
        (height, width, 3) uint8 RGB.

    """
    width, height = size
    canvas = cv2.resize(background, (width, height), interpolation=cv2.INTER_AREA)
    columns, rows = grid_shape(persons, size, person.shape[1] / person.shape[0])
    cell_w, cell_h = width / columns, height / rows
    scale = min(cell_w / person.shape[1], cell_h / person.shape[0])
    image = cv2.resize(person, (max(1, round(person.shape[1] * scale)),
                                max(1, round(person.shape[0] * scale))),
                       interpolation=cv2.INTER_AREA)
    for index in range(persons):
        row, column = divmod(index, columns)
        copy = image[:, ::-1] if index % 2 else image
        paste(canvas, copy, round((column + 0.5) * cell_w - image.shape[1] / 2),
              round((row + 0.5) * cell_h - image.shape[0] / 2))
    return canvas
