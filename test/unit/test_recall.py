"""The labelled set and its measures: loading, matching found persons to labels, counts."""

import json

import numpy as np
from pose3d_ros.evaluation.recall import (CATEGORIES, LabelledImage, LabelledPerson, LABELS,
                                          load_labels, match, missed_people, summarise)
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
    assert [i.name for i in images if not i.persons] == [
        'pic1.png', 'pic2.png', 'pic3.png', 'pic4.png', 'pic5.png', 'pic6.png', 'fruits.jpg',
        'building.jpg']
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
