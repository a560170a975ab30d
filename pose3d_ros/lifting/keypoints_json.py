"""
Another detector's 2D keypoints, read from JSON, lifted and placed as metric 3D skeletons.

:func:`read_keypoints` reads two formats:

* COCO keypoint results, as mmpose, detectron2 and OpenPose (COCO mode) write them: a list
  of objects, each with ``keypoints`` (17 x (x, y, score) flattened, COCO-17 order) and
  optionally ``score`` and ``image_id``.
* ``{"joint_set": "coco17" | "h36m17", "persons": [{"keypoints": [[u, v], ...]}, ...]}``,
  each keypoint ``[u, v]`` (confidence 1) or ``[u, v, confidence]``, optionally with
  ``"image_size": [W, H]`` and, per person, ``score`` and ``image_id``.

In both, a keypoint at exactly (0, 0) with confidence 0 is one the detector did not find
(COCO's and OpenPose's convention); the lifter needs every joint, so such a person is not
lifted (:func:`lift_keypoints`).

COCO-17 keypoints become Human3.6M-17 by the definitions of :data:`HUMAN36M_17`, whose
every source landmark is a COCO-17 joint (:data:`COCO_SOURCES`): the pelvis is the hip
midpoint, the thorax the shoulder midpoint, the spine the mean of hips and shoulders and
the head the ear midpoint. :func:`lift_keypoints` then lifts them with a trained
:class:`~pose3d_ros.lifting.lifter.Lifter` and places them with the estimator's lifting
backend (:meth:`pose3d_ros.estimation.backends.Lifting.lift_and_place`).
"""

from dataclasses import dataclass
import json
from typing import Any, List, Optional, Tuple

import numpy as np

from .lifter import Lifter
from ..estimation.backends import Lifting
from ..geometry.camera import CameraModel
from ..geometry.root import BOX_SCALE, prior_depth
from ..models.joint_sets import COCO_17, HUMAN36M_17


#: Per Human3.6M-17 joint, the COCO-17 joints it averages: each COCO joint is exactly the
#: BlazePose landmark of its name, so the sources' names index COCO-17 directly.
COCO_SOURCES = tuple(tuple(COCO_17.index(name) for name in names)
                     for names in HUMAN36M_17.sources)

#: The joint sets a file in the persons format may be in.
READABLE_SETS = {joint_set.name: joint_set for joint_set in (COCO_17, HUMAN36M_17)}

#: Joints less confident than this are left out of the root fit (``--min-confidence``).
DEFAULT_MIN_CONFIDENCE = 0.3

#: A person needs at least this many confident joints in the root fit to be placed (the
#: fit itself needs a total weight of ``geometry.root.MIN_TOTAL_WEIGHT``).
MIN_CONFIDENT_JOINTS = 4

#: Skeletons lifted in one batch, to bound the network's memory on large files.
LIFT_BATCH = 4096


@dataclass(frozen=True)
class Keypoints:
    """
    Persons' 2D keypoints read from a file, as Human3.6M-17.

    Attributes
    ----------
    points
        (N, 17, 2) u, v, pixels of the image the detector saw.
    confidence
        (N, 17) the detector's confidence in each joint (1 when it gave none).
    missing
        (N, 17) True for a joint the detector did not find: one of its keypoints is at
        (0, 0) with confidence 0.
    image_ids
        Each person's ``image_id`` (None when absent).
    scores
        Each person's ``score`` (None when absent).
    image_size
        (width, height) pixels from the file, or None.

    """

    points: np.ndarray
    confidence: np.ndarray
    missing: np.ndarray
    image_ids: Tuple[Any, ...]
    scores: Tuple[Optional[float], ...]
    image_size: Optional[Tuple[int, int]] = None


def coco_to_h36m(points: np.ndarray, confidence: np.ndarray,
                 missing: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    Map COCO-17 keypoints (N, 17, 2), confidences and missing flags (N, 17) to Human3.6M-17.

    A joint made of several keypoints (pelvis, spine, thorax, head) sits at their mean and
    takes the least of their confidences: the midpoint of a sure and an unsure ear is
    unsure, and so a joint counts as confident only when all of its sources do. It is
    missing when any of its sources is.
    """
    points = np.asarray(points, dtype=np.float64)
    confidence = np.asarray(confidence, dtype=np.float64)
    return (np.stack([points[:, list(s)].mean(axis=1) for s in COCO_SOURCES], axis=1),
            np.stack([confidence[:, list(s)].min(axis=1) for s in COCO_SOURCES], axis=1),
            np.stack([missing[:, list(s)].any(axis=1) for s in COCO_SOURCES], axis=1))


def _numbers(value: Any, what: str) -> np.ndarray:
    """Return ``value`` as a finite float array; raise ValueError saying ``what`` it is."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f'{what}: not an array of numbers ({exc})') from exc
    if not np.all(np.isfinite(array)):
        raise ValueError(f'{what}: not finite')
    return array


def _entries(entries: Any, what: str) -> List[dict]:
    """Return the list of objects with ``keypoints``; raise ValueError otherwise."""
    if not isinstance(entries, list) or not all(
            isinstance(entry, dict) and 'keypoints' in entry for entry in entries):
        raise ValueError(f'{what} must be a list of objects with "keypoints"')
    return entries


def _score(entry: dict, index: int) -> Optional[float]:
    """Return person ``index``'s optional ``score`` as a float; ValueError if malformed."""
    if entry.get('score') is None:
        return None
    score = _numbers(entry['score'], f'person {index} "score"')
    if score.shape != ():
        raise ValueError(f'person {index} "score": expected one number')
    return float(score)


def _gathered(rows: List[np.ndarray], entries: List[dict], count: int) -> tuple:
    """Return (N, count, 2) points, (N, count) confidences and missing flags, ids, scores."""
    scores = tuple(_score(entry, index) for index, entry in enumerate(entries))
    points = np.reshape([row[:, :2] for row in rows], (-1, count, 2))
    confidence = np.reshape([row[:, 2] if row.shape[1] == 3 else np.ones(count)
                             for row in rows], (-1, count))
    missing = (confidence == 0.0) & (points == 0.0).all(axis=-1)
    return (points, confidence, missing, tuple(entry.get('image_id') for entry in entries),
            scores)


def _coco_results(document: list) -> Keypoints:
    entries = _entries(document, 'a COCO keypoint results file')
    rows = []
    for index, entry in enumerate(entries):
        what = f'person {index} "keypoints"'
        values = _numbers(entry['keypoints'], what)
        if values.shape != (51,):
            raise ValueError(f'{what}: expected 17 x 3 = 51 numbers (COCO-17 x, y, score), '
                             f'got shape {values.shape}')
        rows.append(values.reshape(17, 3))
    points, confidence, missing, image_ids, scores = _gathered(rows, entries, 17)
    return Keypoints(*coco_to_h36m(points, confidence, missing), image_ids, scores)


def _persons(document: dict) -> Keypoints:
    name = document.get('joint_set')
    if name not in READABLE_SETS:
        raise ValueError(f'"joint_set" must be one of {sorted(READABLE_SETS)}, got {name!r}')
    count = len(READABLE_SETS[name].joint_names)
    entries = _entries(document.get('persons'), '"persons"')
    rows = []
    for index, entry in enumerate(entries):
        what = f'person {index} "keypoints"'
        values = _numbers(entry['keypoints'], what)
        if values.ndim != 2 or values.shape[0] != count or values.shape[1] not in (2, 3):
            raise ValueError(f'{what}: expected {count} ({name}) of [u, v] or '
                             f'[u, v, confidence], got shape {values.shape}')
        rows.append(values)
    points, confidence, missing, image_ids, scores = _gathered(rows, entries, count)
    if name == COCO_17.name:
        points, confidence, missing = coco_to_h36m(points, confidence, missing)
    image_size = None
    if document.get('image_size') is not None:
        size = _numbers(document['image_size'], '"image_size"')
        if size.shape != (2,) or np.any(size < 1) or np.any(size != np.round(size)):
            raise ValueError(f'"image_size" must be two positive integers [W, H], got '
                             f'{document["image_size"]}')
        image_size = (int(size[0]), int(size[1]))
    return Keypoints(points, confidence, missing, image_ids, scores, image_size)


def read_keypoints(text: str) -> Keypoints:
    """
    Read a keypoints file's text in either format (see the module docstring).

    Raises
    ------
    ValueError
        The text is not JSON, or not one of the formats: a person has the wrong number of
        keypoints, or numbers that are missing or not finite (the message says where).

    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f'not JSON: {exc}') from exc
    if isinstance(document, list):
        return _coco_results(document)
    if isinstance(document, dict):
        return _persons(document)
    raise ValueError('expected a list of COCO keypoint results or an object with "persons"')


def lift_keypoints(lifter: Lifter, camera: CameraModel, keypoints: Keypoints,
                   min_confidence: float, prior_strength: float) -> List[dict]:
    """
    Lift and place every person; return one JSON record each, in the file's order.

    The lifter sees all 17 joints wherever the detector put them, so a person with a
    joint the detector did not find (:attr:`Keypoints.missing`) is not lifted: at the
    image's corner the joint would bend the whole skeleton. The root fit weighs
    each joint 1 when its confidence is at least ``min_confidence`` and 0 otherwise, and
    the pelvis, spine and thorax 0 (they only average the hips and shoulders), as the
    estimator does. Thresholded rather than weighted by the confidence: detectors' scores
    are not on one scale (heatmap maxima, affinities, COCO's visibility flags), and the
    threshold is the only thing that reads the same for all of them. The prior depth comes
    from the confident joints' extent (undistorted pixels) made square and enlarged by
    :data:`~pose3d_ros.geometry.root.BOX_SCALE` (1.25, as 3DMPPE's ``process_bbox``).

    A person with a missing joint, with fewer than :data:`MIN_CONFIDENT_JOINTS` weighted
    joints, or whom the lifter refuses, is returned with ``"placed": false`` and the
    ``reason``.

    Raises
    ------
    ValueError
        ``min_confidence`` is negative or not a number.

    """
    if not min_confidence >= 0.0:
        raise ValueError(f'the minimum confidence must be >= 0, got {min_confidence}')
    if len(keypoints.points) == 0:
        return []
    weights = (keypoints.confidence >= min_confidence).astype(np.float64)
    weights[:, list(HUMAN36M_17.redundant)] = 0.0
    rays = camera.normalised(keypoints.points)
    fx, fy, _, _ = camera.intrinsics
    records, sides = [], np.zeros(len(weights))
    for index, (points, confidence) in enumerate(zip(keypoints.points, keypoints.confidence)):
        record = {'index': index, 'image_id': keypoints.image_ids[index],
                  'score': keypoints.scores[index], 'joint_set': HUMAN36M_17.name,
                  'joint_names': list(HUMAN36M_17.joint_names),
                  'keypoints_2d': np.round(points, 2).tolist(),
                  'confidence': np.round(confidence, 4).tolist(), 'placed': False}
        records.append(record)
        missing = keypoints.missing[index]
        if missing.any():
            names = ', '.join(np.array(HUMAN36M_17.joint_names)[missing])
            record['reason'] = (f'not found by the detector (at (0, 0) with confidence 0): '
                                f'{names}; the lifter needs every joint')
            continue
        confident = rays[index, weights[index] > 0] * [fx, fy]  # undistorted pixels
        if len(confident) < MIN_CONFIDENT_JOINTS:
            record['reason'] = (f'{len(confident)} joints with confidence >= '
                                f'{min_confidence:g} in the root fit, fewer than '
                                f'{MIN_CONFIDENT_JOINTS}')
            continue
        sides[index] = BOX_SCALE * np.ptp(confident, axis=0).max()
        if sides[index] <= 0.0:
            record['reason'] = 'the confident keypoints are all at one point'
    backend = Lifting(lifter)
    candidates = np.flatnonzero(sides > 0.0)
    for start in range(0, len(candidates), LIFT_BATCH):
        batch = candidates[start:start + LIFT_BATCH]
        prior_z = prior_depth(fx, fy, sides[batch])
        done = backend.lift_and_place(rays[batch], weights[batch], prior_z, prior_strength)
        for index, reason in zip(batch, done.reasons):
            if reason is not None:
                records[index]['reason'] = f'not lifted: {reason}'
        for n, index in enumerate(batch[done.lifted]):
            records[index].update({
                'placed': True, 'joints_3d': np.round(done.joints[n], 4).tolist(),
                'root': np.round(HUMAN36M_17.root_of(done.joints[n]), 4).tolist(),
                'root_prior_z': round(float(prior_z[done.lifted][n]), 4),
                'root_from_fit': bool(done.from_fit[n])})
    return records
