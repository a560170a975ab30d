"""
How well a tracker keeps identities: fragmentation, id switches and jumps, IDF1, gaps.

Each frame's tracked persons are matched one to one with the true persons in view by the
IoU of their boxes (Hungarian, at least :data:`MIN_IOU`); true persons partly in view
(some of them shows, less than :data:`~.sequences.IN_VIEW`) may be matched to what the
persons in view leave, but are not counted missed, and a tracked person matched to nobody
is a false alarm. Then, per true person, the track ids it was matched to over the frames:

- fragmentation: distinct (true person, track id) pairs per true person (1.0: one id each);
- id switches: how often a true person's id changes from one matched frame to the next;
- id jumps: how often a track's true person changes (an id passing to somebody else);
- IDF1 (Ristani et al. 2016): the F1 score of the best one-to-one map of track ids to true
  persons, over every frame;
- gaps: each time a true person is out of view and comes back, whether they had an id
  before the gap and whether the id after it is that one, with the gap's length in
  seconds.
"""

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..geometry.boxes import overlap

#: A tracked person and a true person match when their boxes overlap by at least this.
MIN_IOU = 0.4


@dataclass(frozen=True)
class Gap:
    """
    A true person out of view for ``seconds``.

    ``tracked``: they had an id before the gap; ``kept``: the same id came back after it.
    """

    person: int
    seconds: float
    tracked: bool
    kept: bool


@dataclass
class Identities:
    """The identity measures of one clip (see the module docstring)."""

    persons: int
    matched: int = 0  # true person-frames matched
    missed: int = 0  # true person-frames in view and not matched
    false_alarms: int = 0
    id_switches: int = 0
    id_jumps: int = 0
    pairs: int = 0  # distinct (true person, track id) pairs
    idf1: float = float('nan')
    gaps: List[Gap] = field(default_factory=list)

    @property
    def fragmentation(self) -> float:
        """Return the distinct ids per true person that was matched at all."""
        return self.pairs / self.persons if self.persons else float('nan')

    @property
    def recall(self) -> float:
        """Return the fraction of in-view true person-frames matched."""
        total = self.matched + self.missed
        return self.matched / total if total else float('nan')


def frame_matches(truth: np.ndarray, shown: np.ndarray, in_view: np.ndarray,
                  found: np.ndarray, min_iou: float = MIN_IOU) -> Dict[int, int]:
    """
    Match tracked persons to true ones in one frame; return {true index: found index}.

    ``truth`` (N, 4) boxes, NaN rows for persons out of the frame; ``shown`` (N,) the
    fraction of each person that shows; ``in_view`` (N,) whether they count as in view;
    ``found`` (M, 4) the tracked persons' boxes. The persons in view are matched first;
    those partly shown take what is left, so that a person mostly hidden behind another
    never takes the box of the one in front.
    """
    found = np.asarray(found, float).reshape(-1, 4)
    matches: Dict[int, int] = {}
    rounds = (in_view, (shown > 0) & ~in_view)
    for chosen in rounds:
        candidates = [i for i in range(len(truth)) if chosen[i] and np.isfinite(truth[i]).all()]
        free = [j for j in range(len(found)) if j not in matches.values()]
        if not candidates or not free:
            continue
        iou = overlap(truth[candidates], found[free])
        rows, columns = linear_sum_assignment(-iou)
        matches.update({candidates[r]: free[c] for r, c in zip(rows, columns)
                        if iou[r, c] >= min_iou})
    return matches


def identities(truth: np.ndarray, shown: np.ndarray, in_view: np.ndarray,
               tracked: Sequence[Sequence[Tuple[int, np.ndarray]]],
               fps: float) -> Identities:
    """
    Measure one clip's tracking.

    ``truth`` (F frames, N persons, 4) boxes, NaN out of the frame; ``shown`` (F, N) the
    fraction of each person that shows; ``in_view`` (F, N) whether they count as in view;
    ``tracked`` per frame the published persons as (track id, (4,) box) pairs.
    """
    persons = truth.shape[1]
    result = Identities(persons)
    ids: List[List[Optional[int]]] = [[None] * len(tracked) for _ in range(persons)]
    counts: Dict[Tuple[int, int], int] = {}  # in-view frames matched, per pair
    pairs = set()
    outputs = 0
    last_person: Dict[int, int] = {}
    for frame, found in enumerate(tracked):
        boxes = np.array([box for _, box in found], float).reshape(-1, 4)
        matches = frame_matches(truth[frame], shown[frame], in_view[frame], boxes)
        counted = set()
        for person, index in matches.items():
            track_id = found[index][0]
            ids[person][frame] = track_id
            pairs.add((person, track_id))
            if last_person.get(track_id, person) != person:
                result.id_jumps += 1
            last_person[track_id] = person
            if in_view[frame, person]:
                result.matched += 1
                counts[person, track_id] = counts.get((person, track_id), 0) + 1
                counted.add(index)
        unmatched = set(range(len(found))) - set(matches.values())
        result.false_alarms += len(unmatched)
        outputs += len(unmatched) + len(counted)
        result.missed += int(sum(in_view[frame, p] and p not in matches
                                 for p in range(persons)))
    result.pairs = len(pairs)
    for person in range(persons):
        seen = [track_id for track_id in ids[person] if track_id is not None]
        result.id_switches += sum(a != b for a, b in zip(seen, seen[1:]))
        result.gaps.extend(_gaps(person, in_view[:, person], ids[person], fps))
    result.idf1 = _idf1(counts, result.matched + result.missed, outputs)
    return result


def _gaps(person: int, in_view: np.ndarray, ids: List[Optional[int]], fps: float
          ) -> List[Gap]:
    """Return the person's gaps out of view between two stretches in view."""
    gaps, frame = [], 0
    frames = len(in_view)
    while frame < frames:
        if in_view[frame] or not in_view[:frame].any():
            frame += 1
            continue
        end = frame
        while end < frames and not in_view[end]:
            end += 1
        if end == frames:
            break
        before = next((i for i in reversed(ids[:frame]) if i is not None), None)
        after = next((i for i in ids[end:] if i is not None), None)
        gaps.append(Gap(person, (end - frame) / fps, before is not None,
                        before is not None and before == after))
        frame = end
    return gaps


def _idf1(counts: Dict[Tuple[int, int], int], truths: int, outputs: int) -> float:
    """Return IDF1 from matched frames per (true person, track id) and the totals."""
    if not truths + outputs:
        return float('nan')
    if not counts:
        return 0.0
    persons = sorted({p for p, _ in counts})
    tracks = sorted({t for _, t in counts})
    table = np.zeros((len(persons), len(tracks)))
    for (person, track_id), count in counts.items():
        table[persons.index(person), tracks.index(track_id)] = count
    rows, columns = linear_sum_assignment(-table)
    return 2.0 * float(table[rows, columns].sum()) / (truths + outputs)
