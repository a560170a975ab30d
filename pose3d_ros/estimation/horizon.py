"""
Where far people stand: the horizon fitted from the people found, and the far rows below it.

People standing on one floor, seen by a camera without roll, obey to first order one line
(Crowd3D's ground-aware cropping rests on the same geometry): a person ``h`` pixels tall
stands with their soles at row ``row + ratio * h``, where ``row`` is the horizon and
``ratio`` the camera's height over the person's. The smaller a person, the nearer the
horizon they stand. :meth:`Horizon.fit` finds the line from the persons an image shows
whole; :func:`far_rows` lays squares along the rows where people too small for the
detector's tiles then stand, for the landmark network to look at
(:class:`~.proposals.FarRows`). Heights here are landmark extents (the boxes of
:class:`~.result.Person`: eyes to soles, about 0.9 of a person's height).
"""

from dataclasses import dataclass
import math
from typing import Optional, Sequence, Tuple

import numpy as np

#: The ratio a fit leans to when its persons barely tell it (all about one size): a
#: camera at about half a person's height, as on most robots.
PRIOR_RATIO = 0.5
#: How firmly the fit holds to :data:`PRIOR_RATIO`: a ratio off by 1 weighs as much as one
#: person's soles off by this fraction of the persons' mean height.
PRIOR_WEIGHT = 0.3
#: A person whose soles miss the fitted line by more than this fraction of their height
#: does not stand on the floor the others do (sitting, lunging, on a step): the line is
#: refitted without them.
MAX_RESIDUAL = 0.15
#: A person's box this close to the frame (pixels) may be cut by it: not fitted.
FRAME_MARGIN = 2.0


@dataclass(frozen=True)
class Horizon:
    """
    The floor's horizon: ``row`` (image pixels) and ``ratio`` (camera height / person's).

    A person ``h`` pixels tall stands with their soles at ``row + ratio * h``
    (:meth:`feet_row`).
    """

    row: float
    ratio: float
    #: How many persons the line was fitted from (0: given, not fitted).
    persons: int = 0

    def feet_row(self, height: float) -> float:
        """Return the row a person ``height`` pixels tall stands at, image pixels."""
        return self.row + self.ratio * height

    @staticmethod
    def fit(boxes: np.ndarray, width: int, height: int) -> Optional['Horizon']:
        """
        Fit the horizon to the (N, 4) person boxes (x0, y0, x1, y1 pixels) of one image.

        Boxes the frame may cut are left out. A least-squares line through (height, soles
        row), leaning to :data:`PRIOR_RATIO` as :data:`PRIOR_WEIGHT` says (so that one
        person, or several of one size, still give a horizon); the person farthest off it
        (:data:`MAX_RESIDUAL`) is dropped and the line refitted, until all are on it.
        Returns None when no box is whole.
        """
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        whole = ((boxes[:, 0] > FRAME_MARGIN) & (boxes[:, 1] > FRAME_MARGIN) &
                 (boxes[:, 2] < width - FRAME_MARGIN) & (boxes[:, 3] < height - FRAME_MARGIN) &
                 (boxes[:, 3] > boxes[:, 1]))
        heights, feet = boxes[whole, 3] - boxes[whole, 1], boxes[whole, 3]
        if not len(heights):
            return None
        while True:
            line = _line(heights, feet)
            off = np.abs(feet - line.feet_row(heights)) / (MAX_RESIDUAL * heights)
            worst = int(np.argmax(off))
            if off[worst] <= 1.0 or len(heights) == 1:
                return line
            heights, feet = np.delete(heights, worst), np.delete(feet, worst)


def _line(heights: np.ndarray, feet: np.ndarray) -> Horizon:
    """Return the ridge least-squares line soles = row + ratio * height, ratio >= 0."""
    weight = (PRIOR_WEIGHT * heights.mean()) ** 2
    normal = np.array([[len(heights), heights.sum()],
                       [heights.sum(), heights @ heights + weight]])
    row, ratio = np.linalg.solve(normal, [feet.sum(), feet @ heights + weight * PRIOR_RATIO])
    if ratio < 0:  # the camera under the floor: level with it instead
        row, ratio = feet.mean(), 0.0
    return Horizon(float(row), float(ratio), len(heights))


#: Each far row looks for people this many times taller than the one before.
HEIGHT_STEP = 1.45
#: A far-row square's side, a multiple of the height it looks for (measured: the landmark
#: network finds people 28 to 58 px tall on squares of 1 to 1.5 times their height,
#: offset up to a quarter of the side, and loses them at twice).
SIDE_PER_HEIGHT = 1.2
#: The detector's tiles find people of at least this fraction of their side (measured:
#: 58 px people at 2.5 times their height, not 43 px ones at 3.4).
TILE_PERSON_FRACTION = 0.4
#: The fraction of the outermost squares' side inside the frame: people the edge cuts.
INSIDE = 0.65


def far_row_heights(min_height: float, width: int, height: int,
                    grids: Sequence[int]) -> Tuple[float, ...]:
    """
    Return the person heights (pixels) the far rows look for: from ``min_height`` up.

    Each :data:`HEIGHT_STEP` times the one before, while under what the finest detector
    grid's tiles find (:data:`TILE_PERSON_FRACTION` of their side).
    """
    largest = TILE_PERSON_FRACTION * max(width, height) / max(grids)
    count = max(0, math.ceil(math.log(largest / min_height, HEIGHT_STEP) - 1e-9))
    return tuple(min_height * HEIGHT_STEP ** k for k in range(count))


def far_rows(horizon: Horizon, heights: Sequence[float], width: int,
             height: int) -> Tuple[Tuple[float, float, float], ...]:
    """
    Return the far rows' squares: (u, v, side) pixels, row by row, smallest people first.

    For each height, squares of :data:`SIDE_PER_HEIGHT` times it centred on the row where
    a person that tall has their middle (:meth:`Horizon.feet_row` less half the height),
    half-overlapping across the frame, the outermost standing out of it (:data:`INSIDE`).
    A row whose middle lies outside the image is left out.
    """
    squares = []
    for person in heights:
        middle = horizon.feet_row(person) - person / 2
        if not 0 <= middle < height:
            continue
        side = SIDE_PER_HEIGHT * person
        first = side * (INSIDE - 0.5)
        count = max(1, math.ceil((width - 2 * first) / (side / 2)) + 1)
        squares += [(first + (width - 2 * first) * i / max(1, count - 1), middle, side)
                    for i in range(count)]
    return tuple(squares)
