"""
People on the floor: who stands, where a foot meets the floor, distance and height from it.

A skeleton placed by the least-squares fit (:mod:`.root`) projects onto its 2D landmarks.
Scaling it about the camera centre, ``k · X``, keeps every projection and changes only its
size and distance: the one ambiguity a single view leaves (a small near person looks like
a tall far one). The fit settles it with the skeleton's metric size (``k = 1``), which is
good to :data:`FIT_SCALE_STD`, a fraction. A floor ``n · X + d = 0``
(:class:`~.ground.GroundPlane`) settles it too, for a person who stands on it: the scale
at which the first of their visible foot joints reaches it (every foot joint rests at or
above the floor, so the smallest such scale; that joint ``c`` is the contact, at its
height ``h_c`` over the soles),

    k_floor = (h_c − d) / (n · X_c),

good to ``σ_floor² = (σ_d / d)² + tan² α · (σ_n² + (σ_u / f)²)``, where α is the angle
between the foot's ray and straight down (a far foot's ray grazes the floor, and a small
tilt of it or of the ray moves the meeting point far), σ_d and σ_n the plane's height and
tilt uncertainty, σ_u the foot pixel's (:data:`CONTACT_PIXEL_STD` of the person's size)
and f the focal length. The two are fused by their inverse variances, in log scale:

    log k = w · log k_floor,   w = σ_fit² / (σ_fit² + σ_floor²).

Where the two disagree by more than :data:`MAX_DISAGREEMENT` of their joint spread, the
person is not on this floor (on a step, a chair, in a jump) and the fit stands. A person
on the floor gets a stature by single-view metrology (:func:`statures`): the height over
the floor at which their head marks' ray passes the upright line through their foot point,
divided by where those marks sit on a body (:data:`STATURE_MARKS`, the eyes at 0.936).

Nothing here imports rclpy; shapes: N persons, J joints of a :class:`~..models.joint_sets.
JointSet`, metres, camera optical frame (x right, y down, z forward).
"""

from dataclasses import dataclass, replace
import math
from typing import Dict, Optional, Tuple

import numpy as np

from .ground import fit_ground, GroundPlane
from ..models.joint_sets import JointSet

#: The fit's scale (its distance and size) is good to this fraction, one sigma: adults'
#: statures spread about 4 %, and the network's metric size errs by more than that.
FIT_SCALE_STD = 0.12
#: A foot landmark's pixel is good to this fraction of the person's size (the longer side
#: of their landmarks' box), one sigma.
CONTACT_PIXEL_STD = 0.015
#: The fit and the floor disagreeing by more than this many sigmas: not on this floor.
MAX_DISAGREEMENT = 3.0
#: A visible joint: at least this visibility, inside the image (BlazePose's threshold).
MIN_VISIBILITY = 0.5
#: Foot joints a person can rest on, and their height over the soles (metres) standing,
#: shod (a sole of about 2.5 cm): the ankle's centre about 7 cm over a bare foot's sole
#: (0.039 of the stature), the heel landmark on the back of the heel, the toe landmarks
#: on the toe tips.
CONTACT_HEIGHTS_M: Dict[str, float] = {
    'left_heel': 0.06, 'right_heel': 0.06, 'left_foot_index': 0.04, 'right_foot_index': 0.04,
    'left_toe': 0.04, 'right_toe': 0.04, 'left_ankle': 0.095, 'right_ankle': 0.095}
#: Per joint set, the joints a stature is measured at and where they sit on a standing
#: body, a fraction of the stature (Drillis and Contini's proportions: the eyes at 0.936;
#: Human3.6M-17's head is BlazePose's ear midpoint, a little below the eyes; 3DMPPE's
#: Human3.6M head joint lies near the top of the skull, MuCo's head_top on it).
STATURE_MARKS: Dict[str, Tuple[Tuple[str, ...], float]] = {
    'blazepose33': (('left_eye', 'right_eye'), 0.936),
    'coco17': (('left_eye', 'right_eye'), 0.936),
    'h36m17': (('head',), 0.93),
    'h36m18': (('head',), 0.97),
    'muco21': (('head_top',), 1.0),
}
#: Adults' statures spread this much about their mean, a fraction, one sigma (men and women
#: together: about 0.095 m about 1.70 m).
STATURE_STD = 0.056
#: The standing people's mean body axis (hips to shoulders) is this far from the floor's
#: normal, one sigma (degrees): people lean, and the network's 3D pose tilts with the
#: view, alike for everyone in it, so the mean is no surer than one person's.
AXIS_STD_DEG = 15.0
#: Standing: the torso (hips to shoulders) leans at most this far from the body's axis
#: (degrees).
MAX_TORSO_LEAN_DEG = 30.0
#: Standing: each leg spans at least this fraction of its length (thigh plus shin) along
#: the body's axis, from hip to ankle.
MIN_LEG_SPAN = 0.75
#: Standing: the body's axis (ankles to shoulders) lies within this many degrees of up.
MAX_AXIS_TILT_DEG = 50.0


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.clip(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12, None)


def _pair(joint_set: JointSet, name: str) -> Tuple[int, int]:
    return joint_set.index(f'left_{name}'), joint_set.index(f'right_{name}')


def standing(joints: np.ndarray, joint_set: JointSet,
             up: Optional[np.ndarray] = None) -> np.ndarray:
    """
    Return (N,) bool: whose (N, J, 3) skeleton stands upright on straight legs.

    The body's own axis runs from the ankles' midpoint to the shoulders'; the torso (hips
    to shoulders) must lean at most :data:`MAX_TORSO_LEAN_DEG` from it and each leg span
    :data:`MIN_LEG_SPAN` of its length along it (a sitting person's thighs are level, a
    kneeling one's shins). The axis must lie within :data:`MAX_AXIS_TILT_DEG` of ``up``
    (3,), the floor's normal, or of the image's up (−y) without one: a person lying down
    is not standing. (The network's 3D pose follows the view, so the axis is not held to
    the floor's normal more tightly.)
    """
    joints = np.asarray(joints, dtype=np.float64).reshape(-1, len(joint_set.joint_names), 3)
    hips, knees, ankles = (joints[:, list(_pair(joint_set, part))]
                           for part in ('hip', 'knee', 'ankle'))  # (N, 2, 3) each
    shoulders = joints[:, list(joint_set.shoulders)].mean(axis=1)
    axis = _unit(shoulders - ankles.mean(axis=1))
    up = np.array([0.0, -1.0, 0.0]) if up is None else _unit(np.asarray(up, dtype=np.float64))
    upright = axis @ up >= math.cos(math.radians(MAX_AXIS_TILT_DEG))
    torso = _unit(shoulders - hips.mean(axis=1))
    upright &= (torso * axis).sum(-1) >= math.cos(math.radians(MAX_TORSO_LEAN_DEG))
    lengths = (np.linalg.norm(hips - knees, axis=-1) + np.linalg.norm(knees - ankles, axis=-1))
    spans = ((hips - ankles) * axis[:, None]).sum(-1)
    return upright & (spans >= MIN_LEG_SPAN * lengths).all(axis=1)


def _contacts(joint_set: JointSet) -> Tuple[np.ndarray, np.ndarray]:
    """Return the indices of the set's foot joints (its ankles at least) and their rest."""
    names = [name for name in CONTACT_HEIGHTS_M if name in joint_set.joint_names]
    return (np.array([joint_set.index(name) for name in names], dtype=np.int64),
            np.array([CONTACT_HEIGHTS_M[name] for name in names]))


def soles(joints: np.ndarray, visible: np.ndarray, joint_set: JointSet,
          up: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """
    Return each person's contact joint and their soles' point under it.

    ``joints`` (N, J, 3), ``visible`` (N, J) bool, ``up`` (N, 3) or (3,) unit. The contact
    joint is the visible foot joint (:data:`CONTACT_HEIGHTS_M`) whose sole lies lowest
    along ``up``; (N,) its index (−1: no foot visible) and (N, 3) the sole point, the joint
    less its height along ``up`` (NaN without a visible foot).
    """
    joints = np.asarray(joints, dtype=np.float64)
    up = np.broadcast_to(np.asarray(up, dtype=np.float64), (len(joints), 3))
    indices, heights = _contacts(joint_set)
    feet = joints[:, indices] - heights[:, None] * up[:, None]  # (N, F, 3) sole points
    level = np.where(visible[:, indices], (feet * up[:, None]).sum(-1), np.inf)
    lowest = np.argmin(level, axis=1)
    seen = np.isfinite(level[np.arange(len(joints)), lowest])
    contact = np.where(seen, indices[lowest], -1)
    points = np.where(seen[:, None], feet[np.arange(len(joints)), lowest], np.nan)
    return contact, points


def visible_joints(keypoints: np.ndarray, visibility: np.ndarray, width: int,
                   height: int) -> np.ndarray:
    """Return (N, J) bool: joints at least :data:`MIN_VISIBILITY` visible, inside the image."""
    keypoints = np.asarray(keypoints, dtype=np.float64)
    inside = ((keypoints >= 0) & (keypoints <= [width - 1, height - 1])).all(-1)
    return inside & (np.asarray(visibility) >= MIN_VISIBILITY)


@dataclass(frozen=True)
class OnFloor:
    """
    N persons placed with a floor (see the module docstring).

    ``joints`` (N, J, 3) the fused skeletons, metres, camera optical frame; ``on_ground``
    (N,) whose floor scale was fused; ``height_m`` (N,) statures over the floor, NaN off
    it; ``feet`` (N, 3) each person's contact point on the floor, NaN off it; ``scale``
    (N,) the fused k (1 off the floor); ``floor_scale`` (N,) k_floor (NaN where no foot
    meets the floor).
    """

    joints: np.ndarray
    on_ground: np.ndarray
    height_m: np.ndarray
    feet: np.ndarray
    scale: np.ndarray
    floor_scale: np.ndarray


def floor_scale_std(plane: GroundPlane, rays: np.ndarray, pixel_std: np.ndarray,
                    focal: float) -> np.ndarray:
    """
    Return (N,) σ_floor: how well the floor fixes each scale, a fraction (one sigma).

    ``rays`` (N, 3) the contact joints' directions, ``pixel_std`` (N,) their pixels'
    uncertainty, ``focal`` pixels. Rays that do not go down to the floor: infinite.
    """
    down = -_unit(np.asarray(rays, dtype=np.float64)) @ plane.normal  # cos α
    with np.errstate(divide='ignore', invalid='ignore'):
        tangent_sq = np.where(down > 1e-9, (1.0 - down ** 2) / down ** 2, np.inf)
    tilt_sq = plane.normal_std_rad ** 2 + (np.asarray(pixel_std) / focal) ** 2
    return np.sqrt((plane.height_std_m / plane.height_m) ** 2 + tangent_sq * tilt_sq)


def place_on_floor(joints: np.ndarray, keypoints: np.ndarray, visibility: np.ndarray,
                   sizes: np.ndarray, focal: float, image_size: Tuple[int, int],
                   joint_set: JointSet, plane: GroundPlane) -> OnFloor:
    """
    Fuse each standing person's fitted placement with where their foot meets ``plane``.

    ``joints`` (N, J, 3) the least-squares placement; ``keypoints`` (N, J, 2) pixels of
    the delivered image; ``visibility`` (N, J); ``sizes`` (N,) pixels, each person's size
    (the longer side of their landmarks' box); ``focal`` pixels (sqrt(fx · fy));
    ``image_size`` (width, height). The rule is the module docstring's.
    """
    joints = np.asarray(joints, dtype=np.float64)
    count = len(joints)
    visible = visible_joints(keypoints, visibility, *image_size)
    indices, heights = _contacts(joint_set)
    # Every foot joint rests at or above the floor: the scale at which the first of them
    # reaches it is the person's, and that joint the contact.
    with np.errstate(divide='ignore', invalid='ignore'):
        scales = (heights - plane.height_m) / (joints[:, indices] @ plane.normal)  # (N, F)
    scales = np.where(visible[:, indices] & (scales > 0), scales, np.inf)
    lowest = np.argmin(scales, axis=1)
    floor = scales[np.arange(count), lowest]
    upright = standing(joints, joint_set, plane.normal) & np.isfinite(floor)
    contact = indices[lowest]
    foot = joints[np.arange(count), contact]  # (N, 3) the contact joints
    with np.errstate(divide='ignore', invalid='ignore'):
        floor = np.where(upright, floor, np.nan)
        log_floor = np.log(floor)
        spread = np.hypot(FIT_SCALE_STD, floor_scale_std(
            plane, foot, CONTACT_PIXEL_STD * np.asarray(sizes, dtype=np.float64), focal))
        on_ground = np.isfinite(log_floor) & (np.abs(log_floor) <= MAX_DISAGREEMENT * spread)
    weight = FIT_SCALE_STD ** 2 / spread ** 2
    scale = np.exp(np.where(on_ground, weight * np.nan_to_num(log_floor), 0.0))
    placed = joints * scale[:, None, None]
    placed_foot = foot * scale[:, None]
    under = placed_foot - plane.heights(placed_foot)[:, None] * plane.normal  # on the floor
    feet = np.where(on_ground[:, None], under, np.nan)
    height = np.where(on_ground, statures(placed, np.nan_to_num(feet), joint_set, plane),
                      np.nan)
    return OnFloor(placed, on_ground, height, feet, scale, floor)


def head_marks(joints: np.ndarray, joint_set: JointSet) -> Tuple[np.ndarray, float]:
    """Return (N, 3) the head marks of (N, J, 3) skeletons and where they sit on a body."""
    names, fraction = STATURE_MARKS[joint_set.name]
    marks = np.asarray(joints, dtype=np.float64)[
        :, [joint_set.index(name) for name in names]].mean(axis=1)
    return marks, fraction


def mark_heights(marks: np.ndarray, feet: np.ndarray, plane: GroundPlane) -> np.ndarray:
    """
    Return (N,) how high over ``plane`` head marks stand above the foot points ``feet``.

    Single-view metrology: the mark's ray from the camera passes the upright line through
    the person's foot point, ``feet + t · n``, closest at the height t; only the marks'
    directions count, not where along their rays they lie.
    """
    rays = _unit(np.asarray(marks, dtype=np.float64))
    feet = np.asarray(feet, dtype=np.float64)
    # Minimise |feet + t n - s r|^2: t - c s = -feet . n, -c t + s = feet . r, c = n . r.
    cosine = rays @ plane.normal
    along_up, along_ray = -(feet @ plane.normal), (feet * rays).sum(-1)
    with np.errstate(divide='ignore', invalid='ignore'):
        return (along_up + cosine * along_ray) / (1.0 - cosine ** 2)


def statures(joints: np.ndarray, feet: np.ndarray, joint_set: JointSet,
             plane: GroundPlane) -> np.ndarray:
    """
    Return (N,) the statures of people standing at ``feet`` (N, 3) on ``plane``, metres.

    The height of the head marks (:data:`STATURE_MARKS`) of the (N, J, 3) skeletons over
    the foot points (:func:`mark_heights`), over where those marks sit on a body. Only the
    marks' directions count, not the skeleton's size or tilt.
    """
    marks, fraction = head_marks(joints, joint_set)
    return mark_heights(marks, feet, plane) / fraction


@dataclass(frozen=True)
class Soles:
    """
    N people's soles as their least-squares placement has them, for a floor to be fitted to.

    ``points`` (N, 3) the sole under each standing person's lowest visible foot joint (NaN
    for who does not stand or shows no foot); ``axes`` (N, 3) their unit body axes (hips
    to shoulders); ``marks`` (N, 3) their head marks and ``mark_fraction`` where those sit
    on a body (:func:`head_marks`). Metres, camera optical frame.
    """

    points: np.ndarray
    axes: np.ndarray
    marks: np.ndarray
    mark_fraction: float

    def __getitem__(self, rows: np.ndarray) -> 'Soles':
        """Return the soles of the selected people."""
        return Soles(self.points[rows], self.axes[rows], self.marks[rows], self.mark_fraction)

    @staticmethod
    def joined(first: 'Soles', second: 'Soles') -> 'Soles':
        """Return the soles of both, first's first."""
        return Soles(*(np.concatenate([getattr(first, name), getattr(second, name)])
                       for name in ('points', 'axes', 'marks')), second.mark_fraction)


def standing_soles(joints: np.ndarray, keypoints: np.ndarray, visibility: np.ndarray,
                   image_size: Tuple[int, int], joint_set: JointSet) -> Soles:
    """
    Return the :class:`Soles` of N fitted skeletons.

    ``joints`` (N, J, 3) the least-squares placement, ``keypoints`` (N, J, 2),
    ``visibility`` (N, J). Each person's up is their own axis, hips to shoulders
    (:func:`standing` without a floor).
    """
    joints = np.asarray(joints, dtype=np.float64)
    visible = visible_joints(keypoints, visibility, *image_size)
    upright = standing(joints, joint_set)
    hips = joint_set.root_of(joints)
    axes = _unit(joints[:, list(joint_set.shoulders)].mean(axis=1) - hips)
    _, points = soles(joints, visible, joint_set, axes)
    points[~upright] = np.nan
    return Soles(points, axes, *head_marks(joints, joint_set))


def scaled_by_statures(plane: GroundPlane, soles: Soles, people: np.ndarray,
                       stature_m: float) -> GroundPlane:
    """
    Return a floor fitted to people's soles with its height weighed with their statures'.

    The fit's height rests on the skeletons' metric size, shared by all of them. Their
    statures on that floor (single-view metrology, rays only) scale with its height: the
    height at which their median stature (the median over ``people``, (N,) who each sole
    belongs to, of each one's median) is ``stature_m`` is a second estimate, good to
    :data:`STATURE_STD` over the square root of how many people. The two are fused by
    inverse variance in log scale, the fit's spread its own relative height uncertainty.
    ``soles`` are those that fit the plane. ``stature_m`` 0: the plane as it is.
    """
    if stature_m <= 0.0 or not len(soles.points):
        return plane
    feet = plane.meet(soles.points)
    heights = mark_heights(soles.marks, feet, plane) / soles.mark_fraction
    own = [np.nanmedian(heights[people == person]) for person in np.unique(people)]
    measured = float(np.nanmedian(own)) if np.isfinite(own).any() else math.nan
    if not math.isfinite(measured) or measured <= 0.0:
        return plane
    count = int(np.isfinite(own).sum())
    fit_std = max(plane.height_std_m / plane.height_m, 1e-6)
    stature_std = STATURE_STD / math.sqrt(count)
    weight = fit_std ** 2 / (fit_std ** 2 + stature_std ** 2)
    scale = (stature_m / measured) ** weight
    fused_std = 1.0 / math.sqrt(1.0 / fit_std ** 2 + 1.0 / stature_std ** 2)
    return GroundPlane(plane.normal, plane.height_m * scale, plane.source,
                       normal_std_rad=plane.normal_std_rad,
                       height_std_m=fused_std * plane.height_m * scale, inliers=plane.inliers)


def fit_to_soles(soles: Soles, people: Optional[np.ndarray] = None,
                 seed: int = 0) -> Optional[Tuple[GroundPlane, np.ndarray]]:
    """
    Fit the floor to N standing people's :class:`Soles`.

    :func:`~.ground.fit_ground` with the points' error along their rays
    (:data:`FIT_SCALE_STD` of their distance) and the mean axis of those with a sole as
    a weak prior on the normal (:data:`AXIS_STD_DEG`), which settles the tilt a row of
    feet leaves open. ``people`` (N,) says who each sole is (default: each their own):
    one person's soles share their skeleton's size error, so the fit's height is known as
    well as from as many points as there are people. Rows with a NaN sole are left out.
    Returns the plane and (N,) who supports it, or None (fewer than three soles, or a fit
    that fails).
    """
    supported = np.isfinite(soles.points).all(axis=1)
    if supported.sum() < 3:
        return None
    mean_axis = _unit(soles.axes[supported].mean(axis=0))
    fitted = fit_ground(soles.points, seed=seed, relative_std=FIT_SCALE_STD, up=mean_axis,
                        up_std_rad=math.radians(AXIS_STD_DEG))
    if fitted is None:
        return None
    plane, inliers = fitted
    people = np.arange(len(soles.points)) if people is None else np.asarray(people)
    shared = math.sqrt(inliers.sum() / len(np.unique(people[inliers])))
    return replace(plane, height_std_m=plane.height_std_m * shared), inliers


def floor_from_people(joints: np.ndarray, keypoints: np.ndarray, visibility: np.ndarray,
                      image_size: Tuple[int, int], joint_set: JointSet, stature_m: float,
                      seed: int = 0) -> Optional[Tuple[GroundPlane, np.ndarray]]:
    """
    Fit the floor to the soles of the standing persons among N fitted skeletons.

    :func:`fit_to_soles` of :func:`standing_soles`, each person their own, its height
    weighed with theirs (:func:`scaled_by_statures`). Returns the plane and (N,) who
    supports it, or None (fewer than three standing persons with a foot in view, or a fit
    that fails).
    """
    soles = standing_soles(joints, keypoints, visibility, image_size, joint_set)
    fitted = fit_to_soles(soles, seed=seed)
    if fitted is None:
        return None
    plane, inliers = fitted
    return scaled_by_statures(plane, soles[inliers], np.flatnonzero(inliers), stature_m), \
        inliers
