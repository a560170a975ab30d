"""
Joint sets: BlazePose's 33 landmarks, sets mapped from them, and 3DMPPE's own sets.

COCO-17 and Human3.6M-17 are maps from BlazePose: each joint is a weighted mean of
landmarks, so the map is one (J, 33) matrix that applies to 2D pixels and 3D metres alike
(``matrix @ joints``). Joints BlazePose does not have are approximated and say so in
:attr:`JointSet.caveats`. MuCo-21 and Human3.6M-18 are what 3DMPPE's PoseNet predicts
(:mod:`pose3d_ros.mppe`); they have no map from BlazePose. A person's result carries the
set its joints are in, with the names, skeleton edges, hips and shoulders that drawing and
geometry need.
"""

from dataclasses import dataclass
from functools import cached_property
from typing import Dict, Optional, Tuple

import numpy as np

from .blazepose import LANDMARK_NAMES, SKELETON_EDGES


@dataclass(frozen=True)
class JointSet:
    """
    A joint set: names, skeleton edges and how each joint comes from the 33 landmarks.

    Attributes
    ----------
    name
        Short name.
    joint_names
        Names in the set's order.
    edges
        Skeleton as (parent, child) index pairs into ``joint_names``.
    sources
        Per joint, the BlazePose landmark names averaged to make it; None for a network's
        own set, which cannot be made from BlazePose's landmarks.
    caveats
        Where the mapping is approximate.

    """

    name: str
    joint_names: Tuple[str, ...]
    edges: Tuple[Tuple[int, int], ...]
    sources: Optional[Tuple[Tuple[str, ...], ...]] = None
    caveats: str = ''

    def index(self, name: str) -> int:
        """Return the index of the joint called ``name``."""
        return self.joint_names.index(name)

    @cached_property
    def hips(self) -> Tuple[int, int]:
        """Return the (left, right) hip indices: their midpoint is the root."""
        return self.index('left_hip'), self.index('right_hip')

    def root_of(self, joints: np.ndarray) -> np.ndarray:
        """Return the root, the hips' midpoint, of (..., J, D) joints: (..., D)."""
        return np.asarray(joints)[..., list(self.hips), :].mean(axis=-2)

    @cached_property
    def shoulders(self) -> Tuple[int, int]:
        """Return the (left, right) shoulder indices."""
        return self.index('left_shoulder'), self.index('right_shoulder')

    @cached_property
    def head(self) -> int:
        """Return the index of the face joint labels hang above: the nose, else the head."""
        return self.index('nose' if 'nose' in self.joint_names else 'head')

    @cached_property
    def redundant(self) -> Tuple[int, ...]:
        """Return the joints that only average other joints of the set (e.g. the pelvis)."""
        if self.sources is None:
            return ()
        own = {names[0] for names in self.sources if len(names) == 1}
        return tuple(index for index, names in enumerate(self.sources)
                     if len(names) > 1 and set(names) <= own)

    @cached_property
    def matrix(self) -> np.ndarray:
        """Return the (J, 33) averaging matrix, built once: do not modify it."""
        if self.sources is None:
            raise ValueError(f'{self.name} is what a network predicts: it cannot be made '
                             'from BlazePose landmarks')
        matrix = np.zeros((len(self.joint_names), len(LANDMARK_NAMES)))
        for row, names in enumerate(self.sources):
            for name in names:
                matrix[row, LANDMARK_NAMES.index(name)] = 1.0 / len(names)
        return matrix

    def convert(self, joints: np.ndarray) -> np.ndarray:
        """
        Map (..., 33, D) BlazePose joints to (..., J, D) joints of this set.

        BlazePose's own set returns them as they are (its matrix is the identity).
        """
        joints = np.asarray(joints)
        if joints.shape[-2] != len(LANDMARK_NAMES):
            raise ValueError(f'expected 33 BlazePose joints, got shape {joints.shape}')
        if self.joint_names == LANDMARK_NAMES:
            return joints
        return np.einsum('jk,...kd->...jd', self.matrix, joints)

    def convertible_from(self, source: 'JointSet') -> bool:
        """Return whether joints of ``source`` can be made into this set's."""
        return source is self or (source.name == 'blazepose33' and self.sources is not None)

    def convert_from(self, joints: np.ndarray, source: 'JointSet') -> np.ndarray:
        """
        Map (..., J', D) joints of ``source`` to this set.

        Joints already in this set are returned as they are; others must be BlazePose's
        landmarks, which every set is defined from (:meth:`convertible_from`).
        """
        if not self.convertible_from(source):
            raise ValueError(f'{source.name} joints cannot be converted to {self.name}')
        return np.asarray(joints) if source is self else self.convert(joints)

    def rebuild_redundant(self, joints: np.ndarray) -> np.ndarray:
        """
        Return (N, J, D) joints with the :attr:`redundant` ones remade from their sources.

        E.g. Human3.6M-17's pelvis becomes the hip midpoint again, as it is defined.
        """
        joints = np.array(joints, dtype=np.float64)
        for index in self.redundant:
            sources = [self.index(name) for name in self.sources[index]]
            joints[:, index] = joints[:, sources].mean(axis=1)
        return joints


BLAZEPOSE_33 = JointSet(
    name='blazepose33',
    joint_names=LANDMARK_NAMES,
    edges=SKELETON_EDGES,
    sources=tuple((name,) for name in LANDMARK_NAMES),
    caveats="BlazePose GHUM 3D's own landmarks.",
)

COCO_17 = JointSet(
    name='coco17',
    joint_names=('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder',
                 'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist',
                 'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle',
                 'right_ankle'),
    edges=((15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6),
           (5, 7), (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5),
           (4, 6)),
    sources=tuple((name,) for name in (
        'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder',
        'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist',
        'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle')),
    caveats='Every COCO keypoint has a BlazePose landmark of the same name.',
)

HUMAN36M_17 = JointSet(
    name='h36m17',
    joint_names=('pelvis', 'right_hip', 'right_knee', 'right_ankle', 'left_hip', 'left_knee',
                 'left_ankle', 'spine', 'thorax', 'nose', 'head', 'left_shoulder',
                 'left_elbow', 'left_wrist', 'right_shoulder', 'right_elbow', 'right_wrist'),
    edges=((0, 1), (1, 2), (2, 3), (0, 4), (4, 5), (5, 6), (0, 7), (7, 8), (8, 9), (9, 10),
           (8, 11), (11, 12), (12, 13), (8, 14), (14, 15), (15, 16)),
    sources=(
        ('left_hip', 'right_hip'), ('right_hip',), ('right_knee',), ('right_ankle',),
        ('left_hip',), ('left_knee',), ('left_ankle',),
        ('left_hip', 'right_hip', 'left_shoulder', 'right_shoulder'),
        ('left_shoulder', 'right_shoulder'), ('nose',), ('left_ear', 'right_ear'),
        ('left_shoulder',), ('left_elbow',), ('left_wrist',), ('right_shoulder',),
        ('right_elbow',), ('right_wrist',)),
    caveats=('BlazePose has no spine, thorax or head-top joint: spine is the mean of hips '
             'and shoulders, thorax the shoulder midpoint, head the ear midpoint (Human3.6M '
             'places its head joint higher, near the top of the skull).'),
)

#: The sets results can be converted to (``--joint-set``).
JOINT_SETS: Dict[str, JointSet] = {s.name: s for s in (COCO_17, HUMAN36M_17)}

MUCO_21 = JointSet(
    name='muco21',
    joint_names=('head_top', 'thorax', 'right_shoulder', 'right_elbow', 'right_wrist',
                 'left_shoulder', 'left_elbow', 'left_wrist', 'right_hip', 'right_knee',
                 'right_ankle', 'left_hip', 'left_knee', 'left_ankle', 'pelvis', 'spine',
                 'head', 'right_hand', 'left_hand', 'right_toe', 'left_toe'),
    edges=((0, 16), (16, 1), (1, 15), (15, 14), (14, 8), (14, 11), (8, 9), (9, 10), (10, 19),
           (11, 12), (12, 13), (13, 20), (1, 2), (2, 3), (3, 4), (4, 17), (1, 5), (5, 6),
           (6, 7), (7, 18)),
    caveats="MuCo-3DHP's 21 joints, as 3DMPPE's PoseNet trained on MuCo predicts them.",
)

HUMAN36M_18 = JointSet(
    name='h36m18',
    joint_names=('pelvis', 'right_hip', 'right_knee', 'right_ankle', 'left_hip', 'left_knee',
                 'left_ankle', 'torso', 'neck', 'nose', 'head', 'left_shoulder',
                 'left_elbow', 'left_wrist', 'right_shoulder', 'right_elbow', 'right_wrist',
                 'thorax'),
    edges=HUMAN36M_17.edges,
    caveats="Human3.6M's 17 joints and the thorax, as 3DMPPE's PoseNet trained on "
            'Human3.6M predicts them (the thorax is not drawn, as in the official code). The '
            "names are the release's: joints 7 and 8 are torso and neck here, where "
            "Human3.6M-17 calls them spine and thorax, and this set's thorax is joint 17.",
)

#: Every set results can be in, by number of joints (the sizes differ).
RESULT_SETS: Dict[int, JointSet] = {len(s.joint_names): s for s in (
    BLAZEPOSE_33, HUMAN36M_17, MUCO_21, HUMAN36M_18)}
