"""
The floor people stand on: a plane in the camera optical frame, its sources, rays meeting it.

A plane is the points X with ``n · X + d = 0`` (metres, camera optical frame: x right,
y down, z forward): ``n`` (3,) the unit normal pointing up, out of the floor towards the
camera, and ``d`` > 0 the camera's height above the floor (the camera centre is the
origin, so ``n · 0 + d = d``). ``n · X + d`` is then any point's height above the floor.

It comes from one of three sources (:class:`GroundSource`), in the order a stream prefers
them: the robot's TF (the z = 0 plane of a ground frame such as ``base_footprint``, whose
pose in the camera frame gives :meth:`GroundPlane.from_transform`); parameters, the
camera's height, pitch and roll (:meth:`GroundPlane.from_camera_pose`); or the people,
a robust fit to the foot points of people standing on it (:func:`fit_ground`). A ray
from the camera meets it at :meth:`GroundPlane.meet`: a foot's pixel gives where the person
stands, whatever their size.
"""

from dataclasses import dataclass
import enum
import math
from typing import Optional, Tuple

import numpy as np

from .rigid import RigidTransform


class GroundSource(enum.Enum):
    """Where a ground plane comes from."""

    TF = 'tf'
    PARAMETERS = 'parameters'
    PEOPLE = 'people'


#: A camera's height over the floor is at least this (metres): a plane through the camera
#: centre sees every ray meet it at the camera.
MIN_HEIGHT_M = 0.01
#: :func:`fit_ground`: a foot point within this of the plane (metres) fits it.
INLIER_DISTANCE_M = 0.1
#: :func:`fit_ground`: the fit needs at least this many foot points that fit.
MIN_INLIERS = 3
#: :func:`fit_ground`: the inliers must spread at least this far (metres, the standard
#: deviation along their second principal axis): points along one line leave the plane's
#: tilt about that line unknown.
MIN_SPREAD_M = 0.25
#: :func:`fit_ground`: with points that err along their rays, an inlier lies within this
#: many of their sigmas of the plane.
INLIER_SIGMAS = 2.5
#: :func:`fit_ground`: no fit is surer than a plane this far (metres, RMS) from its points.
MIN_RESIDUAL_M = 1e-3
#: :func:`fit_ground`: random triples tried before the least-squares refit.
RANSAC_TRIALS = 200


@dataclass(frozen=True)
class GroundPlane:
    """
    A floor ``n · X + d = 0`` in the camera optical frame (see the module docstring).

    ``normal`` (3,) unit, pointing up; ``height_m`` the camera's height above the floor
    (``d``), metres; ``normal_std_rad`` and ``height_std_m`` their one-sigma uncertainty
    (the normal's as an angle); ``inliers`` how many foot points support a fit from the
    people (0 for the other sources).

    Raises ValueError for a normal that is not a finite unit vector or a height under
    :data:`MIN_HEIGHT_M`.
    """

    normal: np.ndarray
    height_m: float
    source: GroundSource
    normal_std_rad: float = 0.0
    height_std_m: float = 0.0
    inliers: int = 0

    def __post_init__(self) -> None:
        """Check the normal and height, and freeze the normal as float64."""
        normal = np.array(self.normal, dtype=np.float64)
        if normal.shape != (3,) or not np.isfinite(normal).all() or \
                abs(float(np.linalg.norm(normal)) - 1.0) > 1e-6:
            raise ValueError(f'a ground normal must be a finite unit 3-vector, got {normal}')
        if not math.isfinite(self.height_m) or self.height_m < MIN_HEIGHT_M:
            raise ValueError(f'the camera must be at least {MIN_HEIGHT_M} m above the ground, '
                             f'got {self.height_m} m')
        normal.setflags(write=False)
        object.__setattr__(self, 'normal', normal)

    @classmethod
    def from_camera_pose(cls, height_m: float, pitch_rad: float, roll_rad: float = 0.0,
                         source: GroundSource = GroundSource.PARAMETERS,
                         **uncertainty: float) -> 'GroundPlane':
        """
        Return the floor under a camera ``height_m`` above it, pitched and rolled.

        ``pitch_rad`` is positive when the optical axis points below the horizon;
        ``roll_rad`` (about the optical axis) positive when the image's x axis (its right)
        points below it. Up, in the camera frame, is then
        (−sin roll · cos pitch, −cos roll · cos pitch, −sin pitch). ``uncertainty``:
        ``normal_std_rad``, ``height_std_m``.
        """
        up = np.array([-math.sin(roll_rad) * math.cos(pitch_rad),
                       -math.cos(roll_rad) * math.cos(pitch_rad), -math.sin(pitch_rad)])
        return cls(up, float(height_m), source, **uncertainty)

    @classmethod
    def from_transform(cls, ground_in_camera: RigidTransform,
                       source: GroundSource = GroundSource.TF,
                       **uncertainty: float) -> 'GroundPlane':
        """
        Return the z = 0 plane of a ground frame (REP 103: z up) given its camera-frame pose.

        ``ground_in_camera`` maps ground-frame points into the camera optical frame, as a TF
        lookup of the ground frame (source) in the camera's frame (target) gives it. Raises
        ValueError when the camera is not above that plane.
        """
        normal = ground_in_camera.rotation[:, 2]
        return cls(normal / np.linalg.norm(normal),
                   float(-normal @ ground_in_camera.translation), source, **uncertainty)

    @property
    def pitch_rad(self) -> float:
        """Return the camera's pitch: the optical axis' angle below the horizon."""
        return float(math.asin(np.clip(-self.normal[2], -1.0, 1.0)))

    @property
    def roll_rad(self) -> float:
        """Return the camera's roll about its optical axis (see :meth:`from_camera_pose`)."""
        return float(math.atan2(-self.normal[0], -self.normal[1]))

    def heights(self, points: np.ndarray) -> np.ndarray:
        """Return (N,) how far (N, 3) camera-frame points lie above the floor, metres."""
        return np.asarray(points, dtype=np.float64) @ self.normal + self.height_m

    def meet(self, rays: np.ndarray) -> np.ndarray:
        """
        Return (N, 3) where rays from the camera centre meet the floor, camera frame.

        ``rays`` (N, 3) directions, e.g. (u − cx) / fx, (v − cy) / fy, 1 for pixels
        (u, v) of an ideal pinhole camera. A ray that does not go down to the floor (at or
        above the horizon) meets it nowhere: NaN.
        """
        rays = np.asarray(rays, dtype=np.float64).reshape(-1, 3)
        down = rays @ self.normal
        with np.errstate(divide='ignore', invalid='ignore'):
            scale = np.where(down < -1e-9, -self.height_m / down, np.nan)
        return rays * scale[:, None]


def _plane_through(points: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Return the (n, d) of the least-squares plane through (N, 3) points, and its spread."""
    centre = points.mean(axis=0)
    _, singular, axes = np.linalg.svd(points - centre, full_matrices=False)
    normal = axes[2]
    return np.append(normal, -normal @ centre), singular / math.sqrt(len(points))


def _plane_near(points: np.ndarray, up: np.ndarray, up_std: float,
                point_std: float) -> np.ndarray:
    """
    Return the (n, d) of the plane through (N, 3) points with its normal drawn to ``up``.

    n minimises n^T S n / point_std^2 + |n - up|^2 / up_std^2 (S the points' scatter),
    which is n ∝ (S / point_std^2 + I / up_std^2)^-1 up / up_std^2, normalised.
    """
    centre = points.mean(axis=0)
    scatter = (points - centre).T @ (points - centre) / point_std ** 2
    up = up / np.linalg.norm(up)
    normal = np.linalg.solve(scatter + np.eye(3) / max(up_std, 1e-6) ** 2, up)
    normal /= np.linalg.norm(normal)
    return np.append(normal, -normal @ centre)


def _tilt_std(offsets: np.ndarray, normal: np.ndarray, residual: float,
              prior: Optional[Tuple[np.ndarray, float]]) -> float:
    """Return the normal's one-sigma angle: its information from the points and prior."""
    information = offsets.T @ offsets / residual ** 2
    if prior is not None:
        information = information + np.eye(3) / max(prior[1], 1e-6) ** 2
    across = np.linalg.svd(np.eye(3) - np.outer(normal, normal))[0][:, :2]  # (3, 2)
    covariance = np.linalg.pinv(across.T @ information @ across)
    return float(math.sqrt(max(np.linalg.eigvalsh(covariance).max(), 0.0)))


def fit_ground(points: np.ndarray, seed: int = 0, relative_std: float = 0.0,
               up: Optional[np.ndarray] = None, up_std_rad: float = 0.0
               ) -> Optional[Tuple[GroundPlane, np.ndarray]]:
    """
    Fit the floor to (N, 3) foot points of standing people, camera frame, metres.

    RANSAC over :data:`RANSAC_TRIALS` random triples keeps the plane most points lie
    within :data:`INLIER_DISTANCE_M` of (feet on a step, a sitting person's, a bad
    distance are outliers), then least squares through those inliers, once more with the
    inliers of that. Returns the plane (source people, its uncertainty from the inliers'
    residuals and spread) and the (N,) inlier mask; None when fewer than
    :data:`MIN_INLIERS` points fit, when they spread less than :data:`MIN_SPREAD_M` across
    (one line of feet leaves the tilt about it unknown) or when the camera is not above
    the plane. ``seed`` makes the random triples repeatable. Non-finite points are left
    out (and are no inliers).

    ``relative_std``: the points' error along their rays from the camera, a fraction of
    their distance (0: exact), as the feet of people placed one by one have. Such an error
    moves a foot off the floor by that fraction of the camera's height, whatever the
    distance: a candidate plane's inliers lie within :data:`INLIER_SIGMAS` of that (at
    least :data:`INLIER_DISTANCE_M`), and the fit's uncertainty is at least what it gives.

    ``up`` (3,) and ``up_std_rad``: a prior on the normal (e.g. the standing people's mean
    body axis), good to that angle. The refit then minimises the points' squared distances
    over their sigma squared plus the normal's squared distance from ``up`` over its
    sigma squared, so a line of feet, which leaves the tilt about it unknown, takes that
    tilt from the prior (and :data:`MIN_SPREAD_M` is not asked); RANSAC also tries the
    prior's plane through each point.
    """
    given = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    finite = np.isfinite(given).all(axis=1)
    points = given[finite]
    if len(points) < MIN_INLIERS:
        return None
    rng = np.random.default_rng(seed)
    triples = rng.random((RANSAC_TRIALS, len(points))).argsort(axis=1)[:, :3]  # distinct
    a, b, c = points[triples[:, 0]], points[triples[:, 1]], points[triples[:, 2]]
    normals = np.cross(b - a, c - a)
    lengths = np.linalg.norm(normals, axis=1)
    usable = lengths > 1e-9
    normals = normals[usable] / lengths[usable, None]
    offsets = -(normals * a[usable]).sum(axis=1)
    if up is not None:  # the prior's planes through each point are candidates too
        unit_up = np.asarray(up, dtype=np.float64) / np.linalg.norm(up)
        normals = np.concatenate([normals, np.tile(unit_up, (len(points), 1))])
        offsets = np.concatenate([offsets, -points @ unit_up])
    if not len(normals):
        return None

    def tolerance(offset: np.ndarray) -> np.ndarray:
        return np.maximum(INLIER_DISTANCE_M, INLIER_SIGMAS * relative_std * np.abs(offset))

    counts = (np.abs(points @ normals.T + offsets) <= tolerance(offsets)).sum(axis=0)
    best = int(np.argmax(counts))
    inliers = np.abs(points @ normals[best] + offsets[best]) <= tolerance(offsets[best])
    prior = None if up is None else (unit_up, up_std_rad)
    for _ in range(2):
        if inliers.sum() < MIN_INLIERS:
            return None
        plane, spread = _plane_through(points[inliers])
        if prior is not None:
            plane = _plane_near(points[inliers], *prior, max(
                float(np.sqrt(np.mean((points[inliers] @ plane[:3] + plane[3]) ** 2))),
                relative_std * abs(float(plane[3])), MIN_RESIDUAL_M))
        inliers = np.abs(points @ plane[:3] + plane[3]) <= tolerance(plane[3])
    if inliers.sum() < MIN_INLIERS or (prior is None and spread[1] < MIN_SPREAD_M):
        return None
    if plane[3] < 0:  # the normal points up, towards the camera
        plane = -plane
    if plane[3] < MIN_HEIGHT_M:
        return None
    count = int(inliers.sum())
    fitted = points[inliers]
    residual = max(float(np.sqrt(np.mean((fitted @ plane[:3] + plane[3]) ** 2))),
                   relative_std * float(plane[3]), MIN_RESIDUAL_M)
    # The tilt is known to about the residual over the points' spread across the plane
    # (and the prior's sigma); the height, to the residual over the points' count, plus
    # the tilt times the lever from the camera's foot to the points' centre.
    centre = fitted.mean(axis=0)
    normal_std = _tilt_std(fitted - centre, plane[:3], residual, prior)
    lever = float(np.linalg.norm(centre - (centre @ plane[:3]) * plane[:3]))
    height_std = math.hypot(residual / math.sqrt(count), lever * normal_std)
    mask = np.zeros(len(given), dtype=bool)
    mask[np.flatnonzero(finite)[inliers]] = True
    return GroundPlane(plane[:3], float(plane[3]), GroundSource.PEOPLE,
                       normal_std_rad=normal_std, height_std_m=height_std,
                       inliers=count), mask
