"""Proposal sources without networks: boxes to regions, the search's squares, concatenation."""

from pose3d_ros.estimation import hog
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.horizon import far_rows, Horizon
from pose3d_ros.estimation.landmarks import REGION_SCALE, regions_from_keypoints
from pose3d_ros.estimation.proposals import (DETECTOR_ONLY, FarRows, Frame, FrameEdges,
                                             NearField, Proposals, Search, SOURCES)
from pose3d_ros.estimation.views import squares
import pytest
import torch


def frame(image: torch.Tensor) -> Frame:
    """Return the frame of a (3, H, W) float image, with its host copy."""
    return Frame(image, image.permute(1, 2, 0).to(torch.uint8).numpy())


def test_a_box_gives_the_upright_region_about_it() -> None:
    corners = torch.tensor([[100.0, 50.0, 160.0, 250.0], [0.0, 0.0, 300.0, 100.0]])
    proposals = Proposals.from_boxes(corners, torch.tensor([0.8, 0.1]))
    regions = regions_from_keypoints(proposals.keypoints)
    assert regions.centres.tolist() == [[130.0, 150.0], [150.0, 50.0]]
    # The longer side, enlarged as a detection's region is; upright.
    assert regions.sides.tolist() == [pytest.approx(200 * REGION_SCALE),
                                      pytest.approx(300 * REGION_SCALE)]
    assert regions.rotations.abs().max() < 1e-6
    assert proposals.from_box.tolist() == [True, True]


def test_only_box_regions_are_refined_after_concatenation() -> None:
    detected = Proposals(torch.zeros(2, 2, 2), torch.ones(2))
    boxes = Proposals.from_boxes(torch.tensor([[0.0, 0.0, 10.0, 20.0]]), torch.zeros(1))
    both = Proposals.cat([detected, boxes])
    assert both.from_box.tolist() == [False, False, True]
    # What presence each needs: the landmark stage's own (NaN) unless a source says.
    strict = Proposals.from_boxes(torch.tensor([[0.0, 0.0, 10.0, 20.0]]), torch.zeros(1), 0.99)
    needed = Proposals.cat([both, strict]).min_presence
    assert needed[:3].isnan().all() and needed[3] == pytest.approx(0.99)
    assert both.keypoints.shape == (3, 2, 2) and both.scores.tolist() == [1.0, 1.0, 0.0]


def test_near_field_squares_cover_the_image_half_overlapping() -> None:
    source = NearField(torch.device('cpu'))
    image = torch.zeros(3, 480, 640)
    config = EstimatorConfig(near_field=True, near_field_scale=1.0)
    proposals = source.propose(source.prepare(frame(image), config, Search()), config)
    regions = regions_from_keypoints(proposals.keypoints)
    # Two squares of one image height, at the left and right edges: they overlap by
    # 320 px, at least half their side.
    assert regions.centres.tolist() == [[240.0, 240.0], [400.0, 240.0]]
    assert proposals.scores.tolist() == [0.0, 0.0]
    assert len(source.propose((640, 480, Search()), EstimatorConfig(near_field=False)).scores) == 0
    # Smaller squares: a grid over the whole image, neighbours overlapping by half or more
    # (5 columns 100 px apart, 3 rows 120 px apart), the outer ones at the edges.
    centres = squares(640, 480, 240.0, 0.5)
    assert sorted({u for u, _ in centres}) == [120.0, 220.0, 320.0, 420.0, 520.0]
    assert sorted({v for _, v in centres}) == [120.0, 240.0, 360.0] and len(centres) == 15


def test_frame_edge_squares_stand_on_both_side_edges_partly_outside() -> None:
    source = FrameEdges(torch.device('cpu'))
    config = EstimatorConfig(frame_edges=True, frame_edge_scale=0.5)
    regions = regions_from_keypoints(source.propose((640, 480, Search()), config).keypoints)
    # Squares of 240 px, 65 % of them inside: centres 36 px beyond the edges' insides,
    # three rows overlapping by half from top to bottom.
    assert regions.centres.tolist() == [[u, v] for v in (120.0, 240.0, 360.0)
                                        for u in (36.0, 604.0)]
    assert regions.sides.tolist() == [pytest.approx(240 * REGION_SCALE)] * 6
    off = EstimatorConfig(frame_edges=False)
    assert len(source.propose((640, 480, Search()), off).scores) == 0
    # Dealt out to two frames of a stream: every other square each, both parts all of them.
    parts = [source.propose((640, 480, Search((index, 2))), config) for index in range(2)]
    parts = [regions_from_keypoints(part.keypoints) for part in parts]
    assert [part.centres.tolist() for part in parts] == [regions.centres[0::2].tolist(),
                                                         regions.centres[1::2].tolist()]


def test_far_rows_look_once_under_a_horizon_only() -> None:
    source = FarRows(torch.device('cpu'))
    config = EstimatorConfig(far_rows='auto', far_row_min_height=28.0,
                             far_row_pose_presence=0.99)
    assert len(source.propose((868, 600, Search()), config).scores) == 0  # no horizon yet
    horizon = Horizon(529.0, 0.15)
    proposals = source.propose((868, 600, Search(horizon=horizon)), config)
    # 868 px wide, grids up to 6: rows for people 28 and 40.6 px tall (the tiles of 145 px
    # find people from 58 px up), each square 1.2 times the height, not refined, needing
    # far_row_pose_presence.
    expected = far_rows(horizon, (28.0, 28.0 * 1.45), 868, 600)
    regions = regions_from_keypoints(proposals.keypoints)
    assert regions.centres.flatten().tolist() == pytest.approx(
        [value for u, v, _ in expected for value in (u, v)], abs=1e-3)
    assert regions.sides.tolist() == pytest.approx([side * REGION_SCALE
                                                    for _, _, side in expected], abs=1e-3)
    assert not proposals.from_box.any()
    assert proposals.min_presence.tolist() == pytest.approx([0.99] * len(expected))
    # Off; and by default (auto) not in a stream on the CPU, unless turned on.
    assert len(source.propose((868, 600, Search(horizon=horizon)),
                              EstimatorConfig(far_rows='off')).scores) == 0
    in_stream = Search(horizon=horizon, stream=True)
    assert len(source.propose((868, 600, in_stream), config).scores) == 0
    assert len(source.propose((868, 600, in_stream), EstimatorConfig(far_rows='on')).scores) == \
        len(expected)


def test_every_source_is_registered_and_the_reference_turns_the_others_off() -> None:
    assert set(SOURCES) == {'detector', 'near_field', 'frame_edges', 'far_rows', 'hog'}
    config = EstimatorConfig(**DETECTOR_ONLY)
    image = torch.zeros(3, 480, 640)
    for name, make in SOURCES.items():
        if name != 'detector':
            source = make(None, torch.device('cpu'))
            prepared = source.prepare(frame(image), config, Search())
            assert len(source.propose(prepared, config).scores) == 0


def test_hog_source_proposes_person_boxes_only_when_on(monkeypatch: pytest.MonkeyPatch) -> None:
    source = SOURCES['hog'](None, torch.device('cpu'))
    blank = frame(torch.zeros(3, 160, 96))
    assert len(source.propose(blank, EstimatorConfig(hog_detectors='none')).scores) == 0
    # A flat image has no gradients: every window scores the SVM's bias alone, below 0.
    for engine in ('torch', 'opencv'):
        proposals = source.propose(blank, EstimatorConfig(hog_detectors='both',
                                                          hog_runtime=engine))
        assert not proposals.valid.any() and proposals.keypoints.shape[1:] == (2, 2)
    # A window becomes the box of the person it holds, a region refined from its landmarks.
    window = torch.tensor([[10.0, 20.0, 74.0, 148.0]])
    monkeypatch.setattr(hog, 'detect_slots', lambda *args, **kwargs: (
        window, torch.tensor([0.0]), torch.tensor([True])))
    found = source.propose(blank, EstimatorConfig(hog_detectors='people_64x128'))
    person = hog.HOG_MODELS['people_64x128'].person_boxes(window)
    expected = Proposals.from_boxes(person, torch.zeros(1))
    assert found.keypoints.tolist() == expected.keypoints.tolist()
    assert found.scores.tolist() == [0.5] and found.from_box.tolist() == [True]


def test_a_part_of_the_search_without_detector_views_proposes_nobody() -> None:
    # Every grid is the search and there are more parts than its views: this part has none.
    source = SOURCES['detector'](None, torch.device('cpu'))
    config = EstimatorConfig(detector_grids=(4,), search_grid=2)
    prepared = source.prepare(frame(torch.zeros(3, 480, 640)), config,
                              Search((500, 1000)))
    proposals = source.propose(prepared, config)
    assert proposals.keypoints.shape == (0, 2, 2) and len(proposals.scores) == 0
