"""Appearance descriptors: torso and leg colours where the landmarks put them."""

import numpy as np
from pose3d_ros.estimation.appearance import describe, PARTS, similarity
from pose3d_ros.estimation.result import Person
from pose3d_ros.models.joint_sets import BLAZEPOSE_33
import pytest


def standing(x: float) -> Person:
    """Return a person standing at column ``x``: shoulders row 100, hips 200, feet 380."""
    keypoints = np.zeros((33, 2))
    rows = {'shoulder': 100, 'hip': 200, 'knee': 290, 'ankle': 380}
    for joint, row in rows.items():
        for side, dx in (('left', 20), ('right', -20)):
            keypoints[BLAZEPOSE_33.index(f'{side}_{joint}')] = (x + dx, row)
    return Person(0.9, np.array([x - 30, 60, x + 30, 390]), keypoints, np.ones(33),
                  np.zeros((33, 3)), 3.0, True)


def image(torso, legs) -> np.ndarray:
    """Return a 400 x 400 RGB image, the torso rows in one colour, the legs in another."""
    rgb = np.full((400, 400, 3), 128, np.uint8)
    rgb[100:200] = torso
    rgb[200:390] = legs
    return rgb


def test_the_same_clothes_are_alike_and_other_clothes_are_not() -> None:
    beige_jeans = image((200, 180, 150), (40, 60, 140))
    black_jeans = image((20, 20, 25), (40, 60, 140))
    red_white = image((200, 30, 30), (240, 240, 240))
    a = describe(beige_jeans, standing(100))
    assert a.shape[0] == len(PARTS) and np.allclose(a.sum(1), 1.0)
    assert similarity(a, describe(beige_jeans, standing(250))) > 0.99
    assert similarity(a, describe(red_white, standing(100))) < 0.1
    legs_agree = similarity(a, describe(black_jeans, standing(100)))
    assert 0.4 < legs_agree < 0.6  # the torso counts twice: half of the weight agrees
    assert 0.6 < similarity(a, describe(black_jeans, standing(100)), np.ones(3)) < 0.8


def test_the_torso_outweighs_a_leg_part_that_samples_someone_else() -> None:
    # Shins hidden behind a person in front: their strips read that person's trousers.
    rgb = image((200, 180, 150), (40, 60, 140))
    own = describe(rgb, standing(100))
    shins_covered = rgb.copy()
    shins_covered[290:390] = (240, 240, 240)
    other_torso = describe(image((20, 20, 25), (40, 60, 140)), standing(100))
    covered = describe(shins_covered, standing(100))
    assert similarity(own, covered) > similarity(own, other_torso) + 0.2
    # Counting the parts alike, the two would tie.
    assert similarity(own, covered, np.ones(3)) == pytest.approx(
        similarity(own, other_torso, np.ones(3)), abs=0.05)


def test_parts_out_of_sight_are_left_out() -> None:
    person = standing(100)
    hidden = person.visibility.copy()
    hidden[[BLAZEPOSE_33.index(f'{s}_ankle') for s in ('left', 'right')]] = 0.0
    legs_hidden = Person(**{**person.__dict__, 'visibility': hidden})
    rgb = image((200, 180, 150), (40, 60, 140))
    descriptor = describe(rgb, legs_hidden)
    assert descriptor[PARTS.index('shins')].sum() == 0.0
    assert similarity(descriptor, describe(rgb, person)) > 0.99
    assert np.isnan(similarity(np.zeros_like(descriptor), descriptor))
