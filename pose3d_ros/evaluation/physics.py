"""
Physical consistency checks of the estimator on a real photograph.

Each check transforms the image and the camera together, estimates again, and measures how
far the 3D answer moves from what physics says.

Each check returns a :class:`Check`: the person's metric placement (the root, what the
intrinsics determine) against a bound, and the whole skeleton's change for information.
Relative errors are distances divided by the reference person's distance from the camera.
The tests assert the bounds; ``bench/evaluate.py`` prints the table.
"""

from dataclasses import dataclass
from typing import Callable, List

import cv2
import numpy as np

from ..estimation.estimator import PoseEstimator
from ..estimation.result import FrameResult, Person
from ..geometry.camera import CameraModel
from ..models.blazepose import LANDMARK_NAMES

#: Index of each landmark's mirror image (left <-> right).
MIRROR = tuple(LANDMARK_NAMES.index(name.replace('left', 'TMP').replace('right', 'left')
                                    .replace('TMP', 'right')) for name in LANDMARK_NAMES)

#: Known plumb_bob coefficients (k1, k2, p1, p2, k3) used to distort the photograph: the
#: barrel of a wide webcam lens (about 4 % shrink at the image corners here).
PLUMB_BOB = (-0.2, 0.05, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Check:
    """
    One measured check.

    Attributes
    ----------
    name, what
        Short name and what ``error`` measures.
    error
        The root's deviation from the physically expected answer (see ``what``).
    bound
        Largest accepted ``error``.
    skeleton_error
        Mean deviation of all 33 joints from the expected answer divided by the distance
        from the camera (not bounded: it includes the network's own root-relative depth
        noise under a changed input image).

    """

    name: str
    what: str
    error: float
    bound: float
    skeleton_error: float = float('nan')

    @property
    def passed(self) -> bool:
        """Return True when the error is within the bound."""
        return bool(np.isfinite(self.error) and self.error <= self.bound)


def calibrated(width: int, height: int, fx: float, fy: float, cx: float, cy: float,
               d: tuple = ()) -> CameraModel:
    """Return a calibrated plumb_bob camera for a ``width`` x ``height`` image."""
    return CameraModel.from_values(width, height, [fx, 0, cx, 0, fy, cy, 0, 0, 1], d)


def main_person(result: FrameResult) -> Person:
    """
    Return the largest person of a result (the one checked); raise ValueError for none.

    The photograph holds one whole person, but also a blurred crowd behind him (an ignore
    region of the labels, :mod:`.recall`), where the search may find a spectator: the
    checks are about the person, not about the crowd.
    """
    if not result.persons:
        raise ValueError('expected a person, found none')
    return max(result.persons, key=lambda person: np.prod(np.diff(
        person.bbox.reshape(2, 2), axis=0)))


def relative_errors(joints: np.ndarray, root: np.ndarray, reference: Person) -> tuple:
    """
    Return (root error, mean joint error) against ``reference``, over its distance.

    ``joints`` (33, 3) and ``root`` (3,) are in metres, already mapped to the reference's
    frame.
    """
    distance = np.linalg.norm(reference.root)
    return (float(np.linalg.norm(root - reference.root) / distance),
            float(np.linalg.norm(joints - reference.joints_3d, axis=1).mean() / distance))


class PhysicsChecks:
    """
    Run every check on one photograph of one person.

    Parameters
    ----------
    estimator
        The estimator under test.
    rgb
        (H, W, 3) uint8 RGB photograph with exactly one person.
    fx
        Focal length assumed for the photograph, pixels (principal point at the centre).

    """

    def __init__(self, estimator: PoseEstimator, rgb: np.ndarray, fx: float = 500.0) -> None:
        self.estimator = estimator
        self.rgb = rgb
        self.height, self.width = rgb.shape[:2]
        self.k = (fx, fx, (self.width - 1) / 2.0, (self.height - 1) / 2.0)
        self.reference = main_person(self._run(rgb, self.k))

    def _run(self, rgb: np.ndarray, k: tuple, d: tuple = ()) -> FrameResult:
        height, width = rgb.shape[:2]
        return self.estimator(np.ascontiguousarray(rgb), calibrated(width, height, *k, d))

    def _unchanged(self, person: Person, bound: float) -> tuple:
        """Return (error, bound, skeleton error) of a person expected not to move."""
        root_error, skeleton_error = relative_errors(person.joints_3d, person.root,
                                                     self.reference)
        return root_error, bound, skeleton_error

    def run_all(self) -> List[Check]:
        """Run every check."""
        checks: List[Callable[[], Check]] = [
            self.downscale, self.focal_length, self.crop, self.mirror, self.distortion,
            self.pasted_scales]
        return [check() for check in checks]

    def downscale(self, factor: float = 0.5) -> Check:
        """Downscale the image and K by ``factor``: the 3D answer must not change."""
        small = cv2.resize(self.rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        sy, sx = small.shape[0] / self.height, small.shape[1] / self.width
        fx, fy, cx, cy = self.k
        k = (fx * sx, fy * sy, (cx + 0.5) * sx - 0.5, (cy + 0.5) * sy - 0.5)
        person = main_person(self._run(small, k))
        return Check('downscale', f'image and K x {factor}: root change / distance',
                     *self._unchanged(person, 0.02))

    def focal_length(self, factor: float = 1.5) -> Check:
        """Multiply fx and fy by ``factor``: every depth must scale by it."""
        fx, fy, cx, cy = self.k
        person = main_person(self._run(self.rgb, (fx * factor, fy * factor, cx, cy)))
        ratio = person.root[2] / self.reference.root[2]
        shape = person.joints_3d - person.root + self.reference.root  # skeleton change only
        return Check('focal_length', f'fx, fy x {factor}: abs(root depth ratio / {factor} - 1)',
                     float(abs(ratio / factor - 1.0)), 0.02,
                     relative_errors(shape, self.reference.root, self.reference)[1])

    def crop(self, left: int = 60, top: int = 30) -> Check:
        """Crop the image with the principal point shifted: the 3D answer must not change."""
        fx, fy, cx, cy = self.k
        person = main_person(self._run(self.rgb[top:, left:], (fx, fy, cx - left, cy - top)))
        return Check('crop', f'crop ({left}, {top}) px, c shifted: root change / distance',
                     *self._unchanged(person, 0.02))

    def mirror(self) -> Check:
        """Flip horizontally: x must change sign and left and right swap."""
        fx, fy, cx, cy = self.k
        person = main_person(self._run(self.rgb[:, ::-1], (fx, fy, self.width - 1 - cx, cy)))
        flip = np.array([-1.0, 1.0, 1.0])
        root_error, skeleton_error = relative_errors(
            person.joints_3d[list(MIRROR)] * flip, person.root * flip, self.reference)
        # The networks are not exactly mirror-symmetric: the flipped person comes out a few
        # per cent larger or smaller, which moves the fitted depth by as much.
        return Check('mirror', 'horizontal flip, x negated, left/right swapped: '
                     'root change / distance', root_error, 0.08, skeleton_error)

    def distortion(self, coefficients: tuple = PLUMB_BOB) -> Check:
        """Distort the image with known plumb_bob coefficients and estimate with them."""
        fx, fy, cx, cy = self.k
        k = np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1]])
        grid = np.stack(np.meshgrid(np.arange(self.width, dtype=np.float64),
                                    np.arange(self.height, dtype=np.float64)), -1)
        rays = cv2.undistortPoints(grid.reshape(-1, 1, 2), k, np.array(coefficients))
        source = (rays.reshape(self.height, self.width, 2) * [fx, fy] + [cx, cy])
        distorted = cv2.remap(self.rgb, source[..., 0].astype(np.float32),
                              source[..., 1].astype(np.float32), cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
        person = main_person(self._run(distorted, self.k, coefficients))
        return Check('distortion', f'plumb_bob {coefficients}: root change / distance',
                     *self._unchanged(person, 0.03))

    def pasted_scales(self) -> Check:
        """Paste the person at scales 1 and 0.5 into one canvas: depths must differ by 2x."""
        x0, y0, x1, y1 = self.reference.bbox
        pad = 0.15 * max(x1 - x0, y1 - y0)
        left, top = int(max(0, x0 - pad)), int(max(0, y0 - pad))
        right = int(min(self.width, x1 + pad))
        bottom = int(min(self.height, y1 + pad))
        patch = self.rgb[top:bottom, left:right]
        half = cv2.resize(patch, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        ph, pw = patch.shape[:2]
        canvas = np.full((ph * 2, pw * 3, 3), 128, np.uint8)
        canvas[ph // 2:ph // 2 + ph, pw // 4:pw // 4 + pw] = patch
        hy, hx = ph - half.shape[0] // 2, 2 * pw
        canvas[hy:hy + half.shape[0], hx:hx + half.shape[1]] = half
        height, width = canvas.shape[:2]
        result = self._run(canvas, (self.k[0], self.k[1], (width - 1) / 2, (height - 1) / 2))
        if len(result.persons) != 2:
            return Check('pasted_scales', 'found persons (expected 2)',
                         float('inf'), 0.1)
        near, far = sorted(result.persons, key=lambda p: p.root[2])
        ratio = far.root[2] / near.root[2]
        return Check('pasted_scales', 'scales 1 and 0.5 in one canvas: abs(depth ratio / 2 - 1)',
                     float(abs(ratio / 2.0 - 1.0)), 0.10)
