"""The node's parameter table: descriptors, validation, the YAML file and the config."""

from pathlib import Path

from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.node.parameters import BY_NAME, estimator_config, PARAMETERS
import pytest
import yaml

CONFIG = Path(__file__).resolve().parents[1] / 'config' / 'pose3d.yaml'


def defaults() -> dict:
    """Return every parameter's default value."""
    return {p.name: p.default for p in PARAMETERS}


def test_yaml_lists_every_parameter_with_its_default() -> None:
    listed = yaml.safe_load(CONFIG.read_text())['/**/pose3d']['ros__parameters']
    assert listed == defaults()


def test_descriptors() -> None:
    for parameter in PARAMETERS:
        descriptor = parameter.descriptor()
        assert descriptor.name == parameter.name and len(descriptor.description) > 20
        if parameter.low is not None:
            ranges = list(descriptor.integer_range) + list(descriptor.floating_point_range)
            assert len(ranges) == 1 and ranges[0].from_value == parameter.low
    for name in ('device', 'fp16', 'model_dir', 'image_transport', 'reliable_input',
                 'use_depth', 'autostart'):
        assert BY_NAME[name].descriptor().read_only, name
    assert not BY_NAME['min_detection_score'].descriptor().read_only
    assert 'raw, compressed' in BY_NAME['image_transport'].descriptor().description


@pytest.mark.parametrize('name, value', [
    ('min_detection_score', 1.2), ('max_persons', 0), ('tile_grids', [1]),
    ('tile_grids', [2, 9]), ('image_transport', 'theora'), ('marker_scale', 0.0),
    ('default_hfov_deg', 180.0)])
def test_check_rejects_with_a_reason(name: str, value: object) -> None:
    reason = BY_NAME[name].check(value)
    assert reason and name in reason


@pytest.mark.parametrize('name, value', [
    ('min_detection_score', 0.3), ('max_persons', 100), ('tile_grids', [0]),
    ('tile_grids', [2, 4, 8]), ('image_transport', 'compressed')])
def test_check_accepts(name: str, value: object) -> None:
    assert BY_NAME[name].check(value) is None


def test_estimator_config_from_values() -> None:
    assert estimator_config(defaults()) == EstimatorConfig()
    values = dict(defaults(), tile_grids=[0], max_persons=3, min_pose_presence=0.7)
    config = estimator_config(values)
    assert config.tile_grids == () and config.max_persons == 3
    assert config.min_pose_presence == 0.7
