"""
What a person looks like: colour histograms of the torso and legs the landmarks locate.

Re-identification needs no new network: a person's clothes are sampled where their
landmarks put the torso (the quadrilateral of shoulders and hips, its inner part), the
thighs (hip to knee) and the shins (knee to ankle), each a strip of points along the bone;
a part whose ends are not visible is left empty. Each part's colours become a histogram
over hue and saturation for coloured pixels and over brightness for the grey ones (whose
hue means nothing): (3 parts, :data:`BINS`), each part summing to 1. Two descriptors are
alike by the mean Bhattacharyya coefficient of the parts both have, the torso counting
twice (1: the same colours).
"""

from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from .result import Person
from ..models.blazepose import VISIBILITY_THRESHOLD

#: The leg parts, each as the bones whose points it pools: (from, to) joint names.
LEG_BONES = {'thighs': (('left_hip', 'left_knee'), ('right_hip', 'right_knee')),
             'shins': (('left_knee', 'left_ankle'), ('right_knee', 'right_ankle'))}
#: The parts of a descriptor, in order.
PARTS = ('torso',) + tuple(LEG_BONES)
#: How much each part counts in :func:`similarity`: the torso is the largest part and the
#: most surely located; legs are the first thing a person in front hides, and their
#: strips then sample that person's clothes.
PART_WEIGHTS = np.array([2.0, 1.0, 1.0])
HUE_BINS = 8
#: Saturation (OpenCV's 0..255) from which a pixel's hue counts, and from which it is vivid.
COLOURED, VIVID = 50, 130
VALUE_BINS = 3
GREY_BINS = 4
BINS = HUE_BINS * 2 * VALUE_BINS + GREY_BINS
#: Points per bone, and across it (the strip is this fraction of the torso height wide).
ALONG, ACROSS, STRIP_WIDTH = 10, 3, 0.08


def _visible(person: Person, *names: str) -> Optional[np.ndarray]:
    """Return the (len(names), 2) pixels of the named joints, None unless all are visible."""
    indices = [person.joint_set.index(name) for name in names]
    if (person.visibility[indices] < VISIBILITY_THRESHOLD).any():
        return None
    return person.keypoints_2d[indices].astype(np.float64)


def _torso_points(person: Person) -> Optional[np.ndarray]:
    """Return (n, 2) points over the inner part of the shoulders-hips quadrilateral."""
    corners = _visible(person, 'left_shoulder', 'right_shoulder', 'left_hip', 'right_hip')
    if corners is None:
        return None
    across = np.linspace(0.2, 0.8, 8)[:, None]
    top = corners[0] + across * (corners[1] - corners[0])
    bottom = corners[2] + across * (corners[3] - corners[2])
    down = np.linspace(0.15, 0.85, ALONG)[:, None, None]
    return (top[None] + down * (bottom - top)[None]).reshape(-1, 2)


def _bone_points(person: Person, bone: Tuple[str, str], width: float) -> Optional[np.ndarray]:
    """Return (n, 2) points along a bone, in a strip ``width`` pixels wide."""
    ends = _visible(person, *bone)
    if ends is None:
        return None
    direction = ends[1] - ends[0]
    length = float(np.linalg.norm(direction))
    if length < 1.0:
        return None
    normal = np.array([-direction[1], direction[0]]) / length
    along = ends[0] + np.linspace(0.15, 0.85, ALONG)[:, None] * direction
    offsets = np.linspace(-width / 2, width / 2, ACROSS)[:, None] * normal
    return (along[:, None] + offsets[None]).reshape(-1, 2)


def _torso_height(person: Person) -> float:
    shoulders = person.keypoints_2d[list(person.joint_set.shoulders)].mean(0)
    hips = person.keypoints_2d[list(person.joint_set.hips)].mean(0)
    return max(float(np.linalg.norm(shoulders - hips)), 1.0)


def _histogram(rgb: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Return the (BINS,) colour histogram of the image at (n, 2) points, summing to 1."""
    height, width = rgb.shape[:2]
    columns = np.round(points[:, 0]).astype(int)
    rows = np.round(points[:, 1]).astype(int)
    inside = (columns >= 0) & (columns < width) & (rows >= 0) & (rows < height)
    if not inside.any():
        return np.zeros(BINS)
    colours = rgb[rows[inside], columns[inside]][None].astype(np.uint8)
    hue, saturation, value = cv2.cvtColor(colours, cv2.COLOR_RGB2HSV)[0].astype(int).T
    coloured = saturation >= COLOURED
    hue_bin = np.minimum(hue * HUE_BINS // 180, HUE_BINS - 1)
    value_bin = np.minimum(value * VALUE_BINS // 256, VALUE_BINS - 1)
    colour_bin = (hue_bin * 2 + (saturation >= VIVID)) * VALUE_BINS + value_bin
    grey_bin = HUE_BINS * 2 * VALUE_BINS + np.minimum(value * GREY_BINS // 256, GREY_BINS - 1)
    counts = np.bincount(np.where(coloured, colour_bin, grey_bin), minlength=BINS)
    return counts / counts.sum()


def describe(rgb: np.ndarray, person: Person) -> np.ndarray:
    """Return a person's (3 parts, BINS) descriptor from an (H, W, 3) uint8 RGB image."""
    width = STRIP_WIDTH * _torso_height(person)
    descriptor = np.zeros((len(PARTS), BINS))
    for part, name in enumerate(PARTS):
        if name == 'torso':
            points = [_torso_points(person)]
        else:
            points = [_bone_points(person, bone, width) for bone in LEG_BONES[name]]
        points = [p for p in points if p is not None]
        if points:
            descriptor[part] = _histogram(rgb, np.concatenate(points))
    return descriptor


def describe_all(rgb: np.ndarray, persons: Sequence[Person]) -> Tuple[np.ndarray, ...]:
    """Return each person's descriptor (:func:`describe`)."""
    return tuple(describe(rgb, person) for person in persons)


def similarity(a: np.ndarray, b: np.ndarray, weights: np.ndarray = PART_WEIGHTS) -> float:
    """
    Return how alike two descriptors are, in [0, 1]; NaN when they share no part.

    The parts' Bhattacharyya coefficients, averaged with ``weights`` (3 parts,) over the
    parts both have.
    """
    both = (a.sum(1) > 0) & (b.sum(1) > 0)
    if not both.any():
        return float('nan')
    weights = weights[both]
    return float(np.sqrt(a[both] * b[both]).sum(1) @ weights / weights.sum())
