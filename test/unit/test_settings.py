"""
The settings schema and its four surfaces: ROS parameters, YAML file, command line, docs.

Each setting is declared once (:mod:`pose3d_ros.settings.schema`); these tests prove that
the node's descriptors, ``config/pose3d.yaml``, ``pose3d-estimate``'s options and the
table in docs/node.md say the same of every setting, and that a new declaration reaches
all four.
"""

import argparse
import array
from dataclasses import dataclass
from pathlib import Path

from pose3d_ros.cli.estimate import build_parser
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.pipeline import PipelineConfig
from pose3d_ros.node.config import NODE_SETTINGS, NodeConfig
from pose3d_ros.node.parameters import BY_NAME, descriptor, node_config, ros_default
from pose3d_ros.settings import __main__ as generate
from pose3d_ros.settings.schema import from_values, setting, settings_of, values_of
from pose3d_ros.settings.surfaces import (add_arguments, markdown_table, option, YAML_KEY,
                                          yaml_text)
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / 'config' / 'pose3d.yaml'
DOCS = ROOT / 'docs' / 'node.md'


def defaults() -> dict:
    """Return every node setting's default value."""
    return {s.name: s.default for s in NODE_SETTINGS}


# ------------------------------------------------------------------ generated files
def test_committed_files_are_the_generated_ones() -> None:
    # `python -m pose3d_ros.settings` writes them; --check says whether they are stale.
    assert generate.main(['--check']) == 0
    assert CONFIG.read_text() == yaml_text(NODE_SETTINGS)
    assert markdown_table(NODE_SETTINGS) in DOCS.read_text()


def test_yaml_lists_every_parameter_with_its_default() -> None:
    listed = yaml.safe_load(CONFIG.read_text())[YAML_KEY]['ros__parameters']
    assert listed == {s.name: ros_default(s) for s in NODE_SETTINGS}


# ------------------------------------------------------------------ the four surfaces agree
def test_every_surface_says_the_same_of_every_setting() -> None:
    listed = yaml.safe_load(CONFIG.read_text())[YAML_KEY]['ros__parameters']
    table = {line.split('|')[1].strip(' `'): line for line in DOCS.read_text().splitlines()
             if line.startswith('| `')}
    parser = build_parser()
    actions = {action.dest: action for action in parser._actions}
    for s in NODE_SETTINGS:
        ros = descriptor(s)
        assert ros.name == s.name and s.description in ros.description
        assert len(s.description) > 20, s.name
        assert ros.read_only == (not s.runtime)
        ranges = list(ros.integer_range) + list(ros.floating_point_range)
        if s.low is not None and s.kind is not tuple:
            assert [(r.from_value, r.to_value) for r in ranges] == [(s.low, s.high)], s.name
        else:
            assert not ranges, s.name
        assert listed[s.name] == ros_default(s)
        assert s.description in table[s.name] and s.allowed_text() in table[s.name]
        if 'cli' in s.surfaces:
            assert actions[s.name].default == s.default
            assert option(s) in actions[s.name].option_strings
    cli_names = {s.name for s in settings_of(EstimatorConfig) + settings_of(PipelineConfig)
                 if 'cli' in s.surfaces}
    assert cli_names == {s.name for s in settings_of(EstimatorConfig)} | {
        s.name for s in settings_of(PipelineConfig)} - {'use_depth'}
    assert cli_names <= set(actions)


@pytest.mark.parametrize('name, value', [
    ('min_detection_score', 1.2), ('max_persons', 0), ('detector_grids', [0]),
    ('detector_grids', [2, 9]), ('detector_grids', [3, 2]), ('detector_grids', []),
    ('device', 'cudax'), ('pose_backend', 'openpose'), ('tile_overlap', -0.1),
    ('track_min_hits', 0), ('world_min_cutoff', 0.0), ('image_transport', 'theora'),
    ('track_keep_lost_s', -1.0), ('track_max_speed', 0.0), ('track_depth_tolerance', 3.0),
    ('reid_min_similarity', 1.5),
    ('marker_scale', 0.0), ('default_hfov_deg', 180.0)])
def test_one_message_for_a_bad_value_on_every_surface(name: str, value: object,
                                                      capsys: pytest.CaptureFixture) -> None:
    spec = BY_NAME[name]
    reason = spec.problem(value)
    assert reason and name in reason
    with pytest.raises(ValueError) as library:
        from_values(NodeConfig, {name: value})
    assert str(library.value) == reason
    if 'cli' not in spec.surfaces:
        return
    text = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    with pytest.raises(SystemExit):
        build_parser().parse_args([option(spec), *text])
    if text:  # argparse itself rejects an option without values
        assert reason in capsys.readouterr().err


@pytest.mark.parametrize('name, value', [
    ('min_detection_score', 0.3), ('max_persons', 100), ('detector_grids', [1]),
    ('detector_grids', [2, 4, 8]), ('detector_grids', array.array('q', [1, 3])),
    ('image_transport', 'compressed'), ('device', 'cuda:1'), ('default_hfov_deg', 90)])
def test_good_values_pass(name: str, value: object) -> None:
    assert BY_NAME[name].problem(value) is None


def test_node_config_from_values() -> None:
    assert node_config(defaults()) == NodeConfig()
    values = dict(defaults(), detector_grids=[1], max_persons=3, min_pose_presence=0.7,
                  track_keep_lost_s=1.0, default_hfov_deg=90)
    config = node_config(values)
    assert config.estimator.detector_grids == (1,) and config.estimator.max_persons == 3
    assert config.estimator.min_pose_presence == 0.7
    assert config.pipeline.tracker.track_keep_lost_s == 1.0
    assert config.default_hfov_deg == 90.0 and isinstance(config.default_hfov_deg, float)
    assert values_of(config) == dict(values, detector_grids=(1,), default_hfov_deg=90.0)


def test_command_line_builds_the_same_settings() -> None:
    args = build_parser().parse_args(['--detector-grids', '1', '2', '--no-smoothing',
                                      '--max-persons', '3', '--device', 'cpu'])
    settings = {s.name: getattr(args, s.name) for s in settings_of(EstimatorConfig)}
    assert from_values(EstimatorConfig, settings) == EstimatorConfig(
        detector_grids=(1, 2), max_persons=3, device='cpu')
    assert args.smoothing is False


def test_descriptors() -> None:
    for name in ('device', 'fp16', 'model_dir', 'image_transport', 'reliable_input',
                 'use_depth', 'autostart'):
        assert descriptor(BY_NAME[name]).read_only, name
    assert not descriptor(BY_NAME['min_detection_score']).read_only
    assert 'raw, compressed' in descriptor(BY_NAME['image_transport']).description


# ------------------------------------------------------------------ one declaration
@dataclass(frozen=True)
class Extended(EstimatorConfig):
    """The estimator's settings and one more, declared as any setting is."""

    brand_new_threshold: float = setting(0.25, 'A setting the package does not have.',
                                         low=0.0, high=1.0, runtime=True)


def test_a_new_setting_reaches_every_surface_from_its_declaration() -> None:
    new = {s.name: s for s in settings_of(Extended)}['brand_new_threshold']
    ros = descriptor(new)
    assert not ros.read_only and ros.floating_point_range[0].to_value == 1.0
    assert 'brand_new_threshold: 0.25' in yaml_text(settings_of(Extended))
    assert '| `brand_new_threshold` | `0.25` | [0, 1] | yes |' in markdown_table(
        settings_of(Extended))
    parser = argparse.ArgumentParser()
    add_arguments(parser, [new])
    assert parser.parse_args(['--brand-new-threshold', '0.5']).brand_new_threshold == 0.5
    with pytest.raises(SystemExit):
        parser.parse_args(['--brand-new-threshold', '2'])
    assert from_values(Extended, {'brand_new_threshold': 0.5}).brand_new_threshold == 0.5
    with pytest.raises(ValueError, match=r'brand_new_threshold must be in \[0, 1\]'):
        Extended(brand_new_threshold=2.0)


def test_a_setting_declared_twice_is_refused() -> None:
    @dataclass(frozen=True)
    class Twice:
        estimator: EstimatorConfig = EstimatorConfig()
        pipeline: PipelineConfig = PipelineConfig()
        device: str = setting('cpu', 'Again.')

    with pytest.raises(ValueError, match='declared twice'):
        settings_of(Twice)


def test_every_pose_backend_choice_has_its_strategy() -> None:
    from pose3d_ros.estimation.backends import BACKENDS
    from pose3d_ros.estimation.config import POSE_BACKENDS
    assert tuple(BACKENDS) == POSE_BACKENDS
