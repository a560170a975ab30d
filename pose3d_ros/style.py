"""
How a person looks in every output: one colour and one label per person, everywhere.

The node's markers, its debug image, ``pose3d-estimate``'s pictures and videos, and the
demo's drawing all take a person's colour and label from here, so a person has the same
colour in RViz and in the image beside it.
"""

import colorsys
from typing import Tuple

import numpy as np

from .estimation.result import Person

#: Hue step between consecutive ids: the golden ratio spreads any run of ids evenly.
GOLDEN_RATIO = 0.618033988749895


def person_id(person: Person, index: int) -> int:
    """Return the person's track id, or its index in the frame when not tracked."""
    return person.track_id if person.track_id is not None else index


def colour(identifier: int) -> Tuple[float, float, float]:
    """Return a deterministic, well-separated colour for an id: (red, green, blue) in [0, 1]."""
    return colorsys.hsv_to_rgb((identifier * GOLDEN_RATIO) % 1.0, 0.85, 0.95)


def colour_bgr(identifier: int) -> Tuple[int, int, int]:
    """Return :func:`colour` as 8-bit (blue, green, red), as OpenCV draws."""
    red, green, blue = colour(identifier)
    return int(round(blue * 255)), int(round(green * 255)), int(round(red * 255))


def label(person: Person, index: int) -> str:
    """Return the text shown beside a person: ``#id distance m``."""
    return f'#{person_id(person, index)} {float(np.linalg.norm(person.root)):.2f} m'
