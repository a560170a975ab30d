"""The identity measures of a tracked clip, on hand-made tracks."""

import numpy as np
from pose3d_ros.evaluation.identities import identities

BOX_A, BOX_B = np.array([0.0, 0.0, 50.0, 100.0]), np.array([200.0, 0.0, 250.0, 100.0])


def test_switches_jumps_gaps_and_idf1() -> None:
    frames = 10
    truth = np.stack([np.tile(BOX_A, (frames, 1)), np.tile(BOX_B, (frames, 1))], 1)
    shown = np.ones((frames, 2))
    shown[4:6, 1] = 0.0  # b hidden for two frames
    tracked = []
    for frame in range(frames):
        found = [(1, BOX_A)]
        if frame < 4:
            found.append((2, BOX_B))
        elif frame >= 6:
            found.append((3, BOX_B))  # b comes back with a new id
        if frame == 8:
            found = [(3, BOX_A), (1, BOX_B)]  # the two ids swap persons for a frame
        tracked.append(found)
    result = identities(truth, shown, shown >= 0.3, tracked, fps=10.0)
    assert result.matched == 18 and result.missed == 0 and result.false_alarms == 0
    assert result.pairs == 5 and result.fragmentation == 2.5
    assert result.id_switches == 1 + 2 + 2  # a: 1->3->1; b: 2->3, 3->1->3
    assert result.id_jumps == 4  # track 1 and track 3 each to the other person and back
    assert len(result.gaps) == 1 and not result.gaps[0].kept
    assert result.gaps[0].seconds == 0.2
    assert np.isclose(result.idf1, 2 * (9 + 4) / (18 + 18))  # best map: a -> 1, b -> 2


def test_a_false_alarm_and_a_miss() -> None:
    truth = np.tile(BOX_A, (3, 1, 1))
    shown = np.ones((3, 1))
    tracked = [[(1, BOX_A)], [(1, BOX_B)], []]
    result = identities(truth, shown, shown >= 0.3, tracked, fps=10.0)
    assert result.matched == 1 and result.missed == 2 and result.false_alarms == 1
    assert result.recall == 1 / 3 and result.fragmentation == 1.0
