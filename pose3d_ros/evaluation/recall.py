"""
Who is found in real photographs: hand-made labels, matching, recall and precision.

The labels (``people_labels.json`` beside this module) give every person's box in the
sample photographs (:mod:`pose3d_ros.samples`) with what makes a person hard to find:
which way they face, whether the frame cuts them, whether another person hides part of
them, whether they stand next to another person, and their height in pixels.
:func:`match` pairs the persons an estimator found with the labelled ones;
:func:`summarise` counts recall per category and per source, and precision per source
(``bench/recall.py`` prints them, for these photographs and for the composites of
:mod:`.composites`).
"""

from dataclasses import dataclass
import json
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Sequence, Tuple

import numpy as np

from ..geometry.boxes import overlap
from ..samples import read_rgb

LABELS = Path(__file__).with_name('people_labels.json')

#: A found box and a labelled one are the same person at this IoU or more. Low, because a
#: found box is the extent of the landmarks (no head top, arms as the network sees them)
#: and a label the whole visible body.
MIN_IOU = 0.3
#: A false alarm whose box lies this much inside an ignore region is not counted.
IGNORED_FRACTION = 0.5
#: Persons under this many pixels tall are small.
SMALL_PX = 100.0


@dataclass(frozen=True)
class LabelledPerson:
    """
    One labelled person: ``box`` (4,) x0, y0, x1, y1 pixels, and what makes them hard.

    ``beside``: standing next to another person at about the same distance, their boxes
    touching or overlapping.
    """

    box: Tuple[float, float, float, float]
    facing: str
    truncated: bool
    occluded: bool
    beside: bool = False

    @property
    def height_px(self) -> float:
        """Return the box's height in pixels."""
        return self.box[3] - self.box[1]


@dataclass(frozen=True)
class LabelledImage:
    """A labelled photograph: its file name in the sample cache, source, persons, ignores."""

    name: str
    source: str
    persons: Tuple[LabelledPerson, ...]
    ignore: Tuple[Tuple[float, float, float, float], ...]


#: Each category: which labelled persons belong to it.
CATEGORIES: Dict[str, Callable[[LabelledPerson], bool]] = {
    'all': lambda p: True,
    'front': lambda p: p.facing == 'front',
    'profile': lambda p: p.facing == 'profile',
    'back': lambda p: p.facing == 'back',
    'truncated': lambda p: p.truncated,
    'occluded': lambda p: p.occluded,
    'side by side': lambda p: p.beside,
    f'under {SMALL_PX:g} px': lambda p: p.height_px < SMALL_PX,
}

FACINGS = ('front', 'profile', 'back', 'unknown')


def load_labels(path: Path = LABELS) -> Tuple[LabelledImage, ...]:
    """Read the labels; ValueError names what is malformed."""
    images = []
    for entry in json.loads(Path(path).read_text())['images']:
        persons = []
        for person in entry['persons']:
            x0, y0, x1, y1 = person['box']
            if not (x1 > x0 and y1 > y0) or person['facing'] not in FACINGS:
                raise ValueError(f'{entry["name"]}: bad label {person}')
            persons.append(LabelledPerson((x0, y0, x1, y1), person['facing'],
                                          bool(person['truncated']), bool(person['occluded']),
                                          bool(person['beside'])))
        images.append(LabelledImage(entry['name'], entry['source'], tuple(persons),
                                    tuple(tuple(box) for box in entry['ignore'])))
    return tuple(images)


def photographs(directory: Path, path: Path = LABELS
                ) -> Iterator[Tuple[str, str, np.ndarray, LabelledImage]]:
    """Yield (name, source, (H, W, 3) uint8 RGB, labels) of each labelled photograph."""
    for image in load_labels(path):
        yield image.name, image.source, read_rgb(Path(directory) / image.name), image


@dataclass(frozen=True)
class Match:
    """
    Found persons against one image's labels.

    ``hits`` (label index, found index) pairs; ``missed`` label indices; ``false_alarms``
    found indices that match no label and lie outside the ignore regions.
    """

    hits: Tuple[Tuple[int, int], ...]
    missed: Tuple[int, ...]
    false_alarms: Tuple[int, ...]


def match(found: np.ndarray, image: LabelledImage, min_iou: float = MIN_IOU) -> Match:
    """
    Pair (N, 4) found boxes with the labelled persons, most overlapping pairs first.

    Each label and each found box is used once; a pair needs an IoU of ``min_iou``.
    """
    found = np.asarray(found, np.float64).reshape(-1, 4)
    labelled = np.array([p.box for p in image.persons], np.float64).reshape(-1, 4)
    iou = overlap(labelled, found)
    hits, used_labels, used_found = [], set(), set()
    for flat in np.argsort(-iou, axis=None, kind='stable'):
        label, index = np.unravel_index(flat, iou.shape)
        if iou[label, index] < min_iou:
            break
        if label not in used_labels and index not in used_found:
            hits.append((int(label), int(index)))
            used_labels.add(label)
            used_found.add(index)
    ignore = np.array(image.ignore, np.float64).reshape(-1, 4)
    inside = np.zeros(len(found))  # the part of each found box inside an ignore region
    if len(ignore) and len(found):
        inside = overlap(found, ignore, over='first').max(axis=1)
    false_alarms = tuple(i for i in range(len(found))
                         if i not in used_found and inside[i] < IGNORED_FRACTION)
    return Match(tuple(sorted(hits)),
                 tuple(i for i in range(len(labelled)) if i not in used_labels), false_alarms)


@dataclass(frozen=True)
class Counts:
    """Labelled persons, those found, and (for precision) the false alarms."""

    labelled: int = 0
    found: int = 0
    false_alarms: int = 0

    @property
    def recall(self) -> float:
        """Return found / labelled (NaN without labels)."""
        return self.found / self.labelled if self.labelled else float('nan')

    @property
    def precision(self) -> float:
        """Return found / (found + false alarms) (NaN when nothing was reported)."""
        reported = self.found + self.false_alarms
        return self.found / reported if reported else float('nan')

    def __add__(self, other: 'Counts') -> 'Counts':
        """Add two counts."""
        return Counts(self.labelled + other.labelled, self.found + other.found,
                      self.false_alarms + other.false_alarms)


def summarise(results: Sequence[Tuple[LabelledImage, Match]]
              ) -> Tuple[Dict[str, Counts], Dict[str, Counts]]:
    """
    Return the counts per category and per source.

    A category's counts hold no false alarms (a false alarm has no category); the sources'
    do, so their precision is the precision of that source's images.
    """
    categories: Dict[str, Counts] = {name: Counts() for name in CATEGORIES}
    sources: Dict[str, Counts] = {}
    for image, found in results:
        hit = {label for label, _ in found.hits}
        for name, belongs in CATEGORIES.items():
            members = [i for i, person in enumerate(image.persons) if belongs(person)]
            categories[name] += Counts(len(members), len(hit.intersection(members)))
        sources[image.source] = sources.get(image.source, Counts()) + Counts(
            len(image.persons), len(hit), len(found.false_alarms))
    return categories, sources


def missed_people(results: Sequence[Tuple[LabelledImage, Match]]) -> List[str]:
    """Describe each missed person: image, box, and categories, for the printed report."""
    lines = []
    for image, found in results:
        for label in found.missed:
            person = image.persons[label]
            kinds = [name for name, belongs in CATEGORIES.items()
                     if name != 'all' and belongs(person)]
            lines.append(f'{image.name} {list(person.box)}: {", ".join(kinds) or "-"}, '
                         f'{person.height_px:.0f} px')
    return lines
