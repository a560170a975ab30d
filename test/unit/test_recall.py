"""The labelled set and its measures: loading, matching, counts; composites' geometry."""

import json

import numpy as np
from pose3d_ros.evaluation.composites import (Background, compose, cut_out, CutOut,
                                              CutOutSpec, GroundCamera, largest_region,
                                              Layout, load_specs, Placement)
from pose3d_ros.evaluation.recall import (CATEGORIES, LabelledImage, LabelledPerson, LABELS,
                                          load_labels, match, missed_people, summarise)
from pose3d_ros.samples import NO_PERSON_IMAGES
import pytest


def image(*boxes, ignore=()) -> LabelledImage:
    """Return a labelled image with a front-facing person per box."""
    return LabelledImage('x.jpg', 'test', tuple(LabelledPerson(box, 'front', False, False)
                                                for box in boxes), tuple(ignore))


def test_labels_are_well_formed_and_leave_the_held_out_data_alone() -> None:
    images = load_labels()
    names = [i.name for i in images]
    assert len(names) == len(set(names)) and {'bus.jpg', 'zidane.jpg', 'messi5.jpg'} <= set(names)
    assert not any(word in name for name in names for word in ('basketball', '.avi'))
    assert sum(len(i.persons) for i in images) >= 8
    assert [i.name for i in images if not i.persons] == list(NO_PERSON_IMAGES)
    facings = {p.facing for i in images for p in i.persons}
    assert facings <= {'front', 'profile', 'back', 'unknown'}


def test_bad_label_is_refused(tmp_path) -> None:
    document = json.loads(LABELS.read_text())
    document['images'][0]['persons'][0]['box'] = [10, 10, 5, 20]
    path = tmp_path / 'labels.json'
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match='bad label'):
        load_labels(path)


def test_match_pairs_each_person_once_by_overlap() -> None:
    labelled = image((0, 0, 100, 200), (300, 0, 400, 200))
    found = np.array([[10, 20, 95, 190], [0, 0, 60, 100], [600, 0, 700, 100]])
    result = match(found, labelled)
    assert result.hits == ((0, 0),)  # the better overlap; the second box is a duplicate
    assert result.missed == (1,) and result.false_alarms == (1, 2)
    assert match(np.zeros((0, 4)), labelled).missed == (0, 1)


def test_a_detection_inside_an_ignore_region_is_no_false_alarm() -> None:
    labelled = image((0, 0, 100, 200), ignore=[(500, 0, 800, 300)])
    found = np.array([[550, 20, 650, 150], [420, 20, 520, 150], [0, 0, 100, 200]])
    result = match(found, labelled)
    assert result.hits == ((0, 2),) and result.false_alarms == (1,)  # mostly outside


def test_summary_counts_per_category_and_source() -> None:
    person = LabelledPerson((0, 0, 50, 80), 'back', True, False)  # small, truncated, back
    labelled = LabelledImage('y.jpg', 'street', (person,) + image((100, 0, 200, 300)).persons, ())
    result = match(np.array([[100, 0, 200, 300], [400, 0, 450, 50]]), labelled)
    categories, sources = summarise([(labelled, result)])
    assert set(categories) == set(CATEGORIES)
    assert (categories['all'].labelled, categories['all'].found) == (2, 1)
    assert categories['back'].recall == 0.0 and categories['front'].recall == 1.0
    assert categories['under 100 px'].labelled == 1 and categories['truncated'].found == 0
    assert sources['street'].precision == 0.5 and sources['street'].recall == 0.5
    assert missed_people([(labelled, result)]) == [
        'y.jpg [0, 0, 50, 80]: back, truncated, under 100 px, 80 px']


def test_side_by_side_is_a_category() -> None:
    pair = (LabelledPerson((0, 0, 50, 200), 'front', False, False, True),
            LabelledPerson((48, 0, 100, 200), 'front', False, True, True))
    labelled = LabelledImage('z.jpg', 'test', pair, ())
    categories, _ = summarise([(labelled, match(np.array([[0, 0, 50, 200]]), labelled))])
    assert (categories['side by side'].labelled, categories['side by side'].found) == (2, 1)
    assert all('beside' in person for entry in json.loads(LABELS.read_text())['images']
               for person in entry['persons'])


def test_the_composites_use_labelled_whole_people_and_no_held_out_data() -> None:
    specs, images = load_specs(), {image.name: image for image in load_labels()}
    assert 10 <= len(specs.layouts) <= 16 and set(specs.backgrounds) <= set(images)
    for spec in specs.cutouts.values():
        person = images[spec.image].persons[spec.person]
        assert not (person.truncated or person.occluded), spec
    used = {spec.image for spec in specs.cutouts.values()} | set(specs.backgrounds)
    assert not any(word in name for name in used for word in ('basketball', '.avi'))


def test_a_bad_placement_is_refused(tmp_path) -> None:
    document = json.loads(LABELS.read_text())
    document['composites'][0]['persons'][0]['distance'] = 0
    path = tmp_path / 'labels.json'
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match='bad placement'):
        load_specs(path)


def test_the_ground_camera_puts_feet_and_heights_where_distance_says() -> None:
    camera = GroundCamera.of(868, 600, Background('b.jpg', 529.0, 0.25))
    assert camera.focal == pytest.approx(434 / np.tan(np.radians(30)))
    assert camera.feet_row(10.0) == pytest.approx(529 + camera.focal * 0.025)
    assert camera.pixel_height(1.7, 3.4) == pytest.approx(camera.focal / 2)
    assert camera.column(0.0, 5.0) == camera.centre_u == 433.5


#: A level camera 1.5 m up whose horizon is row 100; at 5 m a 1.7 m person is 170 px tall.
CAMERA = GroundCamera(focal=500.0, centre_u=200.0, horizon=100.0, height_m=1.5)


def block(facing: str = 'back') -> CutOut:
    """Return a 100 x 40 px cut-out, opaque but for a 5 px clear border."""
    alpha = np.zeros((100, 40), np.float32)
    alpha[5:95, 5:35] = 1.0
    return CutOut(np.full((100, 40, 3), 200, np.uint8), alpha, 95.0, 1.7, facing)


def compose_blocks(*placements: Placement, scene: LabelledImage = None):
    """Paste blocks into a black 400 x 300 background."""
    scene = scene or LabelledImage('bg.jpg', 'test', (), ())
    layout = Layout('blocks', 'bg.jpg', placements)
    return compose(layout, np.zeros((300, 400, 3), np.uint8), scene, CAMERA,
                   {'block': block()})


def test_a_pasted_person_stands_on_the_ground_at_their_size() -> None:
    composite = compose_blocks(Placement('block', 5.0, 0.0, True))
    person, = composite.labels.persons
    x0, y0, x1, y1 = person.box
    assert y1 - y0 == pytest.approx(170 * 90 / 95, abs=1)  # the opaque rows
    assert y1 == pytest.approx(CAMERA.feet_row(5.0) + 0.5, abs=1)
    assert (x0 + x1) / 2 == pytest.approx(200, abs=1)
    assert person.facing == 'back' and not (person.truncated or person.occluded or
                                            person.beside)
    assert composite.labels.source == 'composite'
    assert composite.rgb[y0 + 1:y1 - 1, x0 + 1:x1 - 1].min() == 200  # the soft edge aside
    assert composite.rgb.sum() == composite.rgb[y0 - 1:y1 + 1, x0 - 1:x1 + 1].sum()


def test_a_pair_is_side_by_side_and_the_one_behind_occluded() -> None:
    # 1.7 m cut-outs 72 px wide at 5 m (opaque 54 px), 0.45 m apart: 45 px.
    near, far = Placement('block', 5.0, 0.0, False), Placement('block', 5.5, 0.45, False)
    behind, front = compose_blocks(far, near).labels.persons
    assert behind.beside and front.beside
    assert behind.occluded and not front.occluded
    assert behind.box[0] == front.box[2]  # only the visible part of the one behind


def test_people_far_apart_in_depth_are_not_side_by_side() -> None:
    persons = compose_blocks(Placement('block', 5.0, 0.0, False),
                             Placement('block', 10.0, 0.3, False)).labels.persons
    assert not any(p.beside for p in persons) and persons[1].occluded


def test_the_frame_edge_truncates_and_a_scene_person_is_never_covered() -> None:
    person, = compose_blocks(Placement('block', 5.0, -2.0, False)).labels.persons
    assert person.truncated and person.box[0] == 0
    standing = LabelledPerson((150, 50, 250, 280), 'front', False, False)
    scene = LabelledImage('bg.jpg', 'test', (standing,), ((0, 0, 9, 9),))
    with pytest.raises(ValueError, match='covers a person'):
        compose_blocks(Placement('block', 5.0, 0.0, False), scene=scene)
    aside = compose_blocks(Placement('block', 5.0, 1.5, False), scene=scene)
    assert aside.labels.ignore == ((150, 50, 250, 280), (0, 0, 9, 9))


def test_a_person_out_of_the_frame_is_refused() -> None:
    with pytest.raises(ValueError, match='out of the frame or hidden'):
        compose_blocks(Placement('block', 5.0, 20.0, False))


def test_only_a_whole_unhidden_person_is_cut_out() -> None:
    spec = CutOutSpec('cut', 'x.jpg', 0, 1.7)
    with pytest.raises(ValueError, match='whole person'):
        cut_out(None, np.zeros((10, 10, 3), np.uint8),
                LabelledPerson((0, 0, 5, 9), 'front', True, False), spec)


def test_the_matte_keeps_its_largest_region() -> None:
    alpha = np.zeros((50, 50), np.float32)
    alpha[5:40, 5:20] = 0.9
    alpha[10:15, 40:45] = 0.8  # a stray blob
    alpha[5:40, 20:22] = 0.3  # the soft border of the large region
    kept = largest_region(alpha)
    assert kept[10:15, 40:45].max() == 0 and kept[5:40, 5:22].tolist() == \
        alpha[5:40, 5:22].tolist()
