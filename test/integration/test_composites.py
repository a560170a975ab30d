"""Composites of the real people: cut out by the landmark network, stood on a ground plane."""

from pathlib import Path
from typing import Dict

import numpy as np
from pose3d_ros.evaluation.composites import (Composite, composites, GroundCamera, Layout,
                                              load_specs, OPAQUE, SOURCE)
from pose3d_ros.evaluation.recall import LabelledImage, match
from pose3d_ros.geometry.camera import CameraModel
from pose3d_ros.samples import read_rgb
import pytest

SPECS = load_specs()


@pytest.fixture(scope='module')
def built(sample_dir: Path, model_dir: Path) -> Dict[str, Composite]:
    """Every composite, by name."""
    return {c.labels.name: c for c in composites(sample_dir, model_dir)}


def layout(name: str) -> Layout:
    """Return the layout of a composite."""
    found, = [layout for layout in SPECS.layouts if layout.name == name]
    return found


def camera(name: str, composite: Composite) -> GroundCamera:
    """Return the ground camera of a composite's background."""
    height, width = composite.rgb.shape[:2]
    return GroundCamera.of(width, height, SPECS.backgrounds[layout(name).background])


def test_the_composites_are_built_the_same_each_time(built, sample_dir, model_dir) -> None:
    again = {c.labels.name: c for c in composites(sample_dir, model_dir)}
    assert list(again) == [layout.name for layout in SPECS.layouts] == list(built)
    for name, composite in built.items():
        assert np.array_equal(again[name].rgb, composite.rgb), name
        assert again[name].labels == composite.labels, name


def test_boxes_lie_where_the_pasted_mattes_show(built, sample_dir) -> None:
    for name, composite in built.items():
        background = read_rgb(sample_dir / layout(name).background)
        assert composite.labels.source == SOURCE
        for person, matte in zip(composite.labels.persons, composite.mattes):
            x0, y0, x1, y1 = person.box
            inside = np.zeros(matte.shape, bool)
            inside[y0:y1, x0:x1] = True
            assert matte[inside].max() >= OPAQUE and matte[~inside].max() < OPAQUE, name
            rows, columns = np.nonzero(matte >= OPAQUE)
            assert (rows.min(), rows.max() + 1, columns.min(), columns.max() + 1) == \
                (y0, y1, x0, x1), name
        untouched = composite.mattes.sum(axis=0) == 0  # nobody was pasted there
        assert np.array_equal(composite.rgb[untouched], background[untouched]), name


def test_feet_and_heights_follow_the_ground_plane(built) -> None:
    for name, composite in built.items():
        ground = camera(name, composite)
        for person, placement in zip(composite.labels.persons, layout(name).placements):
            if person.truncated or person.occluded:
                continue
            height_m = SPECS.cutouts[placement.cutout].height_m
            assert person.box[3] == pytest.approx(ground.feet_row(placement.distance) + 0.5,
                                                  abs=1.5), (name, person)
            expected = ground.pixel_height(height_m, placement.distance)
            assert person.height_px == pytest.approx(expected, rel=0.03, abs=2), (name, person)
            centre = ground.column(placement.lateral, placement.distance)
            assert person.box[0] < centre < person.box[2], (name, person)


def test_the_people_range_from_30_to_400_px_tall(built) -> None:
    heights = [p.height_px for c in built.values() for p in c.labels.persons]
    assert min(heights) <= 35 and any(300 <= h <= 400 for h in heights)
    assert sum(h < 100 for h in heights) >= 6


def test_a_side_by_side_pair_gives_two_labels_the_one_behind_occluded(built) -> None:
    behind, front = built['pair-near'].labels.persons
    assert behind.beside and front.beside and behind.occluded and not front.occluded
    assert behind.box[2] > front.box[0]  # their boxes overlap
    assert {behind.facing, front.facing} == {'front'}  # the mirrored one still faces front
    assert all(p.beside for name in ('pair-touching', 'far-pair', 'street-pair')
               for p in built[name].labels.persons)


def test_the_frame_edges_truncate(built) -> None:
    left = built['left-edge'].labels.persons[0]
    right = built['right-edge'].labels.persons[0]
    width = built['right-edge'].rgb.shape[1]
    assert left.truncated and left.box[0] == 0
    assert right.truncated and right.box[2] == width
    assert all(p.truncated for p in built['small-edges'].labels.persons)


def test_the_street_keeps_its_own_people_as_ignore_regions(built) -> None:
    street = built['street-pair'].labels
    assert (50, 398, 245, 902) in street.ignore and (190, 440, 250, 540) in street.ignore


def test_whole_people_standing_apart_are_found(built, estimator) -> None:
    for name, composite in built.items():
        image: LabelledImage = composite.labels
        rgb = composite.rgb
        persons = estimator(rgb, CameraModel.from_hfov(rgb.shape[1], rgb.shape[0])).persons
        result = match(np.array([p.bbox for p in persons]).reshape(-1, 4), image)
        easy = [i for i, p in enumerate(image.persons) if p.height_px >= 100 and
                not (p.truncated or p.occluded or p.beside)]
        assert not set(easy) & set(result.missed), (name, result)
