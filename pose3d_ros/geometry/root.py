"""
Metric root (pelvis) placement: the 3DMPPE distance prior and a weighted least-squares fit.

Two estimates of where a person stands, both in the camera optical frame (x right, y down,
z forward), metres:

* :func:`prior_depth` is RootNet's distance prior (Moon et al. 2019): a person's square box
  covers about ``REAL_AREA_M2`` (2 m x 2 m) of the world, so its depth is
  ``sqrt(fx * fy * A_real / A_img)``.
* :func:`fit_translation` finds the translation that best lines the metric root-relative
  joints up with their image rays, by weighted linear least squares as MeTRAbs'
  ``reconstruct_absolute`` does, with the prior depth as a Gaussian prior (a MAP estimate:
  the prior decides only when the joints say little, e.g. a few joints close together).
"""

from typing import Tuple

import numpy as np

from ..models.joint_sets import JointSet

#: Real-world area covered by a person's square box, 2.0 m x 2.0 m (3DMPPE RootNet).
REAL_AREA_M2 = 2.0 * 2.0

#: 3DMPPE's square box is a person's tight box made square and enlarged this many times
#: about its centre (``process_bbox``).
BOX_SCALE = 1.25

#: Spread of the prior depth, as a fraction of it: a person's box is only roughly 2 m.
PRIOR_DEPTH_RELATIVE_STD = 0.25

#: Spread of one joint's constraint residual, metres: the network's root-relative joints
#: are good to a few centimetres.
JOINT_RESIDUAL_STD_M = 0.05

#: Fewer confidently weighted joints than this (sum of weights) and the fit is not trusted.
MIN_TOTAL_WEIGHT = 3.0

#: A fitted depth closer than this (metres) is treated as a failed fit.
MIN_DEPTH_M = 0.1


def prior_depth(fx: float, fy: float, box_side_px: np.ndarray) -> np.ndarray:
    """
    Return RootNet's prior depth in metres for square boxes of ``box_side_px`` pixels.

    ``box_side_px`` is (N,) sides of each person's square box in the delivered image.
    """
    sides = np.asarray(box_side_px, dtype=np.float64)
    if np.any(sides <= 0) or fx <= 0 or fy <= 0:
        raise ValueError('focal lengths and box sides must be positive')
    return np.sqrt(fx * fy * REAL_AREA_M2 / sides ** 2)


def fit_translation(relative: np.ndarray, rays: np.ndarray, weights: np.ndarray,
                    prior: np.ndarray, prior_strength: float = 1.0) -> tuple:
    """
    Fit each person's translation T so that ``relative + T`` lies on the joints' rays.

    For a joint at root-relative (X, Y, Z) seen along the ray (x, y) = (u/z, v/z), the
    constraints ``(X + Tx) - x (Z + Tz) = 0`` and ``(Y + Ty) - y (Z + Tz) = 0`` are linear
    in T. Rows are weighted by the joint's weight over ``JOINT_RESIDUAL_STD_M`` squared; the
    prior depth adds ``prior_strength * ((Tz - Zp) / (PRIOR_DEPTH_RELATIVE_STD * Zp))**2``.

    Parameters
    ----------
    relative
        (N persons, J joints, 3) root-relative joints, metres, camera axes.
    rays
        (N, J, 2) undistorted normalised image coordinates of the same joints.
    weights
        (N, J) joint weights in [0, 1] (e.g. visibility, 0 outside the image).
    prior
        (N, 3) prior translations, metres, with positive z.
    prior_strength
        Multiplier of the prior term; 0 fits the joints alone.

    Returns
    -------
    translation
        (N, 3) metres.
    from_fit
        (N,) bool; False where the fit was degenerate (too little weight, singular, or a
        depth under ``MIN_DEPTH_M``) and the prior was used instead.

    """
    relative = np.asarray(relative, dtype=np.float64)
    rays = np.asarray(rays, dtype=np.float64)
    weights = np.clip(np.asarray(weights, dtype=np.float64), 0.0, None)
    prior = np.asarray(prior, dtype=np.float64)
    count = relative.shape[0]
    if rays.shape != relative.shape[:2] + (2,) or weights.shape != relative.shape[:2] \
            or prior.shape != (count, 3):
        raise ValueError(f'shape mismatch: relative {relative.shape}, rays {rays.shape}, '
                         f'weights {weights.shape}, prior {prior.shape}')
    # Rows [1, 0, -x] T = x Z - X and [0, 1, -y] T = y Z - Y for every joint.
    design = np.zeros(relative.shape[:2] + (2, 3))
    design[..., 0, 0] = design[..., 1, 1] = 1.0
    design[..., :, 2] = -rays
    target = rays * relative[..., 2:3] - relative[..., :2]
    rows = 2 * relative.shape[1]  # explicit: no persons is a valid input
    design = design.reshape(count, rows, 3)
    target = target.reshape(count, rows)
    row_weights = np.repeat(weights, 2, axis=1) / JOINT_RESIDUAL_STD_M ** 2
    normal = np.einsum('nri,nr,nrj->nij', design, row_weights, design)
    rhs = np.einsum('nri,nr,nr->ni', design, row_weights, target)
    depth_precision = prior_strength / (PRIOR_DEPTH_RELATIVE_STD * prior[:, 2]) ** 2
    normal[:, 2, 2] += depth_precision
    rhs[:, 2] += depth_precision * prior[:, 2]
    total = weights.sum(axis=1)
    translation = prior.copy()
    from_fit = np.zeros(count, dtype=bool)
    for index in range(count):
        if total[index] < MIN_TOTAL_WEIGHT:
            continue
        try:
            solution = np.linalg.solve(normal[index], rhs[index])
        except np.linalg.LinAlgError:
            continue
        if np.all(np.isfinite(solution)) and solution[2] >= MIN_DEPTH_M:
            translation[index], from_fit[index] = solution, True
    return translation, from_fit


def place(relative: np.ndarray, rays: np.ndarray, weights: np.ndarray, joint_set: JointSet,
          prior_z: np.ndarray, prior_strength: float = 1.0) -> Tuple[np.ndarray, np.ndarray]:
    """
    Place root-relative skeletons in the camera: the prior on the root's ray, then the fit.

    ``relative`` (N, J, 3) metres, relative to the root of ``joint_set`` (the hips'
    midpoint); ``rays`` (N, J, 2) undistorted normalised coordinates; ``weights`` (N, J);
    ``prior_z`` (N,) prior depths (:func:`prior_depth`), metres. Returns the (N, J, 3)
    joints in metres, camera optical frame, and the (N,) fit flags of
    :func:`fit_translation`.
    """
    prior_z = np.asarray(prior_z, dtype=np.float64)
    root_rays = joint_set.root_of(np.asarray(rays, dtype=np.float64))  # (N, 2)
    prior = np.concatenate([root_rays * prior_z[:, None], prior_z[:, None]], axis=1)
    translation, from_fit = fit_translation(relative, rays, weights, prior, prior_strength)
    return np.asarray(relative) + translation[:, None], from_fit
