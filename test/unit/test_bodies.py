"""People as ROS data, without DDS: body IDs and frames, Skeleton2D's keypoints."""

from dataclasses import replace
from pathlib import Path
import re

from builtin_interfaces.msg import Time
import numpy as np
from pose3d_ros.geometry.rigid import quaternion_to_matrix
from pose3d_ros.models.joint_sets import HUMAN36M_17
from pose3d_ros.node.bodies import (body_id, body_transforms, SKELETON2D_JOINTS,
                                    skeleton2d_points, tracked)
import pytest
from std_msgs.msg import Header

from .test_node_messages import J, upright_person


def test_only_tracked_persons_are_bodies_and_their_ids_are_valid_ros_names() -> None:
    persons = [upright_person(12), replace(upright_person(0), track_id=None)]
    assert [body_id(p) for p in tracked(persons)] == ['b12']
    with pytest.raises(ValueError, match='tracked'):
        body_id(persons[1])


def test_a_body_frame_is_at_the_hips_facing_out_of_the_body() -> None:
    header = Header(stamp=Time(sec=7, nanosec=9), frame_id='cam_optical')
    persons = [upright_person(3, x=1.0), replace(upright_person(4), track_id=None)]
    transforms = body_transforms(header, persons)
    assert len(transforms) == 1  # the untracked one has no frame
    frame = transforms[0]
    assert frame.child_frame_id == 'body_b3' and frame.header == header
    t, q = frame.transform.translation, frame.transform.rotation
    np.testing.assert_allclose([t.x, t.y, t.z], persons[0].root)
    # Facing the camera: the body's x (out of the body) points back along the optical axis,
    # its z (towards the head) up the image, its y (the person's left) to the image's right.
    rotation = quaternion_to_matrix([q.x, q.y, q.z, q.w])
    np.testing.assert_allclose(rotation, [[0, 1, 0], [0, 0, -1], [-1, 0, 0]], atol=1e-9)


def test_the_keypoints_are_in_the_order_of_skeleton2d_constants() -> None:
    # The constants of the definition (NAME = index), e.g. RIGHT_SHOULDER = 2.
    definition = (Path(__file__).resolve().parents[2] / 'pose3d_ros' / 'interfaces' /
                  'definitions' / 'hri_msgs' / 'msg' / 'Skeleton2D.msg').read_text()
    constants = dict(re.findall(r'^uint8 (\w+) = (\d+)$', definition, re.MULTILINE))
    assert len(constants) == len(SKELETON2D_JOINTS) == 18
    for name, index in constants.items():
        first = SKELETON2D_JOINTS[int(index)][0]
        assert first == (name.lower(),) or (name == 'NECK' and first == ('neck',)), name


def test_skeleton2d_keypoints_follow_openpose_order_normalised() -> None:
    person = upright_person(1)
    keypoints = np.tile([320.0, 240.0], (33, 1))
    keypoints[J['left_shoulder']], keypoints[J['right_shoulder']] = (400, 100), (240, 120)
    keypoints[J['nose']] = (320, 60)
    keypoints[J['right_ankle']] = (700, 470)  # outside the 640 x 480 image
    visibility = np.full(33, 0.9)
    visibility[J['left_shoulder']] = 0.6
    points = skeleton2d_points(keypoints, visibility, person.joint_set, 640, 480)
    assert points.shape == (18, 3)
    np.testing.assert_allclose(points[0], [0.5, 0.125, 0.9])  # NOSE
    np.testing.assert_allclose(points[1], [0.5, 110 / 480, 0.6])  # NECK: the shoulders'
    np.testing.assert_allclose(points[2, :2], [240 / 640, 0.25])  # RIGHT_SHOULDER
    np.testing.assert_allclose(points[10], [1.0, 470 / 480, 0.0])  # clipped, not seen
    assert ((points >= 0) & (points <= 1)).all()
    # Human3.6M-17 has a thorax for the neck and no eyes or ears.
    h36m = skeleton2d_points(np.full((17, 2), 100.0), np.ones(17), HUMAN36M_17, 200, 200)
    np.testing.assert_allclose(h36m[1], [0.5, 0.5, 1.0])
    np.testing.assert_allclose(h36m[14:], 0.0)
