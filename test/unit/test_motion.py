"""The metric motion of a track: the constant-velocity filter and the speed gate."""

import numpy as np
from pose3d_ros.estimation.motion import MetricMotion, reachable


def test_the_filter_learns_a_walking_speed_and_predicts_ahead() -> None:
    motion = MetricMotion.start(np.array([-1.0, 0.0, 5.0]), 0.0, max_speed=3.0)
    rng = np.random.default_rng(0)
    for frame in range(1, 31):  # 1.2 m/s to the right, 10 fps, 2 cm of noise
        time_s = frame / 10
        motion.update(np.array([-1.0 + 1.2 * time_s, 0.0, 5.0]) + rng.normal(0, 0.02, 3),
                      time_s)
    assert np.allclose(motion.velocity, [1.2, 0.0, 0.0], atol=0.15), motion.velocity
    assert np.allclose(motion.predict(4.0), [-1.0 + 4.8, 0.0, 5.0], atol=0.2)
    assert motion.distance(motion.predict(3.1), 3.1) < 0.5
    assert motion.distance(motion.predict(3.1) + [1.0, 0.0, 0.0], 3.1) > 3.0


def test_the_speed_never_exceeds_the_limit() -> None:
    motion = MetricMotion.start(np.array([0.0, 0.0, 4.0]), 0.0, max_speed=2.0)
    for frame in range(1, 10):  # 10 m/s
        motion.update(np.array([1.0 * frame, 0.0, 4.0]), frame / 10)
    assert np.linalg.norm(motion.velocity) <= 2.0 + 1e-9


def test_the_gate_allows_depth_error_along_the_ray_not_across_it() -> None:
    last = np.array([0.0, 0.0, 6.0])
    assert reachable(last, 0.1, np.array([0.2, 0.0, 6.0]), 3.0, 0.3)  # 2 m/s
    assert not reachable(last, 0.1, np.array([1.0, 0.0, 6.0]), 3.0, 0.3)  # 10 m/s across
    assert reachable(last, 0.1, np.array([0.0, 0.0, 7.5]), 3.0, 0.3)  # 25 % farther
    assert not reachable(last, 0.1, np.array([0.0, 0.0, 9.0]), 3.0, 0.3)  # 50 % farther
    assert reachable(last, 1.0, np.array([2.5, 0.0, 6.0]), 3.0, 0.3)  # later: farther away
