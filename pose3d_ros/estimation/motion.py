"""
A tracked person's motion in metres: a constant-velocity Kalman filter on the root.

The state is the root (3,) and its velocity (3,), metres and metres per second, camera
optical frame. The process noise is white acceleration (:data:`ACCELERATION` m/s²: a
person starting or stopping); a measurement is the root the estimator placed, whose error
lies mostly along the viewing ray (the monocular distance, :data:`DEPTH_NOISE` of it)
and little across it (:data:`LATERAL_NOISE` of the distance). The velocity never exceeds
the human speed limit the filter is given.

:func:`reachable` is the physical gate of the association: could a person last seen at
one root, some time ago, be at another now? Across the viewing ray they may have moved
at most ``max_speed`` times the time since, plus the lateral noise; along it as much plus
the depth tolerance (a monocular distance of a half-hidden person can be off by tens of
per cent).
"""

from dataclasses import dataclass

import numpy as np

#: Standard deviation of a walking person's acceleration, m/s².
ACCELERATION = 2.0
#: Standard deviation of a root's distance along its viewing ray, fraction of the distance.
DEPTH_NOISE = 0.1
#: Standard deviation of a root across its viewing ray, fraction of the distance.
LATERAL_NOISE = 0.02
#: Slack of the gate across the viewing ray: metres, plus this fraction of the distance.
LATERAL_SLACK_M = 0.1
#: Standard deviation of a new track's velocity, m/s.
INITIAL_SPEED = 1.5


def _ray_basis(position: np.ndarray) -> np.ndarray:
    """Return (3, 3) rows: the unit viewing ray through ``position`` and two across it."""
    ray = position / max(float(np.linalg.norm(position)), 1e-6)
    helper = np.array([1.0, 0.0, 0.0]) if abs(ray[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    across = np.cross(ray, helper)
    across /= np.linalg.norm(across)
    return np.stack([ray, across, np.cross(ray, across)])


def measurement_covariance(position: np.ndarray) -> np.ndarray:
    """Return the (3, 3) covariance of a measured root at ``position``, metres²."""
    distance = max(float(np.linalg.norm(position)), 0.1)
    basis = _ray_basis(position)
    sigma = np.array([DEPTH_NOISE, LATERAL_NOISE, LATERAL_NOISE]) * distance
    return basis.T @ np.diag(sigma ** 2) @ basis


def reachable(last: np.ndarray, elapsed_s: float, position: np.ndarray, max_speed: float,
              depth_tolerance: float) -> bool:
    """
    Return whether a person at root ``last`` could be at ``position`` ``elapsed_s`` later.

    Both (3,) metres in the camera frame; ``depth_tolerance`` is the fraction of the
    nearer of the two distances a monocular root may be off along its viewing ray.
    """
    step = np.asarray(position, float) - np.asarray(last, float)
    distance = min(float(np.linalg.norm(position)), float(np.linalg.norm(last)))
    along, *across = _ray_basis(np.asarray(position, float)) @ step
    travel = max_speed * max(elapsed_s, 0.0)
    return (abs(along) <= travel + depth_tolerance * distance and
            float(np.hypot(*across)) <= travel + LATERAL_SLACK_M + LATERAL_NOISE * distance)


@dataclass
class MetricMotion:
    """The root and its velocity, with their (6, 6) covariance, at ``time`` seconds."""

    state: np.ndarray  # (6,) root (m), velocity (m/s)
    covariance: np.ndarray  # (6, 6)
    time: float
    max_speed: float

    @classmethod
    def start(cls, root: np.ndarray, time_s: float, max_speed: float) -> 'MetricMotion':
        """Start at a measured (3,) root, standing still as far as we know."""
        covariance = np.zeros((6, 6))
        covariance[:3, :3] = measurement_covariance(root)
        covariance[3:, 3:] = np.eye(3) * INITIAL_SPEED ** 2
        return cls(np.concatenate([np.asarray(root, float), np.zeros(3)]), covariance, time_s,
                   max_speed)

    @property
    def velocity(self) -> np.ndarray:
        """Return the (3,) velocity, m/s."""
        return self.state[3:]

    def _predicted(self, time_s: float):
        dt = max(time_s - self.time, 0.0)
        transition = np.eye(6)
        transition[:3, 3:] = np.eye(3) * dt
        noise = np.zeros((6, 6))  # white acceleration over dt
        noise[:3, :3] = np.eye(3) * dt ** 4 / 4
        noise[:3, 3:] = noise[3:, :3] = np.eye(3) * dt ** 3 / 2
        noise[3:, 3:] = np.eye(3) * dt ** 2
        return (transition @ self.state,
                transition @ self.covariance @ transition.T + noise * ACCELERATION ** 2)

    def predict(self, time_s: float) -> np.ndarray:
        """Return the (3,) root expected at ``time_s``, metres."""
        return self._predicted(time_s)[0][:3]

    def distance(self, root: np.ndarray, time_s: float) -> float:
        """Return the Mahalanobis distance of a measured (3,) root from the prediction."""
        state, covariance = self._predicted(time_s)
        innovation = np.asarray(root, float) - state[:3]
        spread = covariance[:3, :3] + measurement_covariance(root)
        return float(np.sqrt(innovation @ np.linalg.solve(spread, innovation)))

    def update(self, root: np.ndarray, time_s: float) -> None:
        """Take a measured (3,) root at ``time_s``; the speed stays within the limit."""
        state, covariance = self._predicted(time_s)
        spread = covariance[:3, :3] + measurement_covariance(root)
        gain = covariance[:, :3] @ np.linalg.inv(spread)
        state = state + gain @ (np.asarray(root, float) - state[:3])
        speed = float(np.linalg.norm(state[3:]))
        if speed > self.max_speed:
            state[3:] *= self.max_speed / speed
        self.state, self.time = state, time_s
        self.covariance = covariance - gain @ covariance[:3, :]
