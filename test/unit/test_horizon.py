"""The horizon from the people found, and the far rows under it."""

import numpy as np
from pose3d_ros.estimation.horizon import (far_row_heights, far_rows, Horizon, INSIDE,
                                           PRIOR_RATIO, SIDE_PER_HEIGHT)
import pytest


def standing(heights, horizon: Horizon, column: float = 100.0) -> np.ndarray:
    """Return (N, 4) boxes of people of these heights standing on the horizon's floor."""
    feet = np.array([horizon.feet_row(h) for h in heights])
    return np.stack([np.full(len(feet), column), feet - heights,
                     np.full(len(feet), column + 20.0), feet], 1)


def test_the_line_through_people_of_several_sizes_is_their_horizon() -> None:
    truth = Horizon(300.0, 0.8)
    boxes = standing(np.array([40.0, 120.0, 260.0]), truth)
    fitted = Horizon.fit(boxes, 640, 720)
    # Three people of three sizes outweigh the prior: the line is nearly theirs.
    assert fitted.row == pytest.approx(300.0, abs=3.0)
    assert fitted.ratio == pytest.approx(0.8, abs=0.02)
    assert fitted.persons == 3


def test_one_person_gives_the_prior_ratio_and_a_cut_one_nothing() -> None:
    box = np.array([[100.0, 200.0, 140.0, 300.0]])
    one = Horizon.fit(box, 640, 480)
    assert (one.ratio, one.row) == pytest.approx((PRIOR_RATIO, 300.0 - PRIOR_RATIO * 100.0))
    # Soles on the bottom edge or a side on the frame: the frame may cut them.
    assert Horizon.fit(np.array([[100.0, 200.0, 140.0, 480.0]]), 640, 480) is None
    assert Horizon.fit(np.array([[0.0, 200.0, 40.0, 300.0]]), 640, 480) is None
    assert Horizon.fit(np.zeros((0, 4)), 640, 480) is None


def test_a_person_off_the_floor_is_left_out() -> None:
    truth = Horizon(250.0, 0.5)
    boxes = standing(np.array([50.0, 100.0, 200.0]), truth)
    sitting = np.array([[300.0, 200.0, 340.0, 260.0]])  # 60 px tall, soles 40 px too high
    fitted = Horizon.fit(np.concatenate([boxes, sitting]), 640, 480)
    assert fitted.persons == 3
    assert fitted.row == pytest.approx(250.0, abs=2.0)


def test_a_camera_under_the_floor_is_taken_level_with_it() -> None:
    # Taller people standing higher in the image: a negative ratio, clamped to 0.
    boxes = np.array([[100.0, 260.0, 120.0, 300.0], [200.0, 175.0, 240.0, 295.0],
                      [300.0, 90.0, 340.0, 290.0]])
    fitted = Horizon.fit(boxes, 640, 480)
    assert fitted.ratio == 0.0 and fitted.row == pytest.approx(295.0)


def test_far_row_heights_stop_where_the_finest_tiles_find_people() -> None:
    # 868 px, grid 6: tiles of 145 px find people from 58 px up.
    assert far_row_heights(28.0, 868, 600, (1, 2, 3, 4, 6)) == pytest.approx((28.0, 40.6))
    assert far_row_heights(28.0, 640, 480, (1, 8)) == (28.0,)  # tiles of 80 px: from 32 px
    assert far_row_heights(28.0, 640, 480, (1, 12)) == ()  # tiles of 53 px: from 21 px
    assert len(far_row_heights(28.0, 1920, 1080, (1, 2, 3))) == 6  # up to 256 px


def test_far_rows_lie_where_each_height_stands_and_reach_past_the_edges() -> None:
    horizon = Horizon(500.0, 0.25)
    squares = far_rows(horizon, (40.0,), 800, 600)
    side = SIDE_PER_HEIGHT * 40.0
    # A person 40 px tall has their soles at 510 and their middle at 490.
    assert {v for _, v, _ in squares} == {490.0} and {s for _, _, s in squares} == {side}
    columns = [u for u, _, _ in squares]
    assert columns[0] == pytest.approx(side * (INSIDE - 0.5))
    assert columns[-1] == pytest.approx(800 - side * (INSIDE - 0.5))
    assert max(np.diff(columns)) <= side / 2 + 1e-9  # half-overlapping
    # A row whose middle falls outside the image is left out.
    assert far_rows(Horizon(700.0, 0.0), (40.0,), 800, 600) == ()
