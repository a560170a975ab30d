"""
The multi-person 3D pose estimator: one RGB image and its camera in, metric skeletons out.

Top-down as 3DMPPE (Moon et al. 2019), on the bundled BlazePose GHUM 3D networks:

1. ``preprocess``: upload the uint8 image once; crop the full frame and the tiles
   (:mod:`.views`) to 224 x 224 in one batched ``grid_sample`` on the device.
2. ``detect`` (DetectNet): one detector forward over all views; SSD decoding, weighted
   NMS per view, merge across views in image pixels.
3. ``landmarks`` (PoseNet): one rotated square region per person, all cropped to 256 x 256
   in one batch; one landmark forward; decoding, heatmap refinement, projection to image
   pixels, world landmarks rotated to camera axes; weak poses and duplicates dropped.
4. ``root`` (RootNet): undistort the 2D landmarks, the 3DMPPE distance prior, and the
   weighted least-squares translation (:mod:`pose3d_ros.geometry.root`). With
   ``pose_backend: 3dmppe`` this stage runs 3DMPPE's own RootNet and PoseNet instead, on
   each person's box (:mod:`pose3d_ros.mppe`).
5. ``postprocess``: one :class:`~.result.Person` per person, in numpy.

Each stage is timed (``FrameResult.timings_ms``). Nothing here imports rclpy.
"""

from dataclasses import dataclass, fields
from typing import Optional, Tuple

import numpy as np
import torch

from .config import EstimatorConfig
from .detection import decode, Detections, ssd_anchor_centres
from .landmarks import decode_landmarks, duplicate_mask, regions_from_keypoints
from .regions import crop, Regions
from .result import FrameResult, Person
from .timing import stage
from .views import merge_views, view_regions
from ..geometry.camera import CameraModel
from ..geometry.root import place, prior_depth
from ..lifting.lifter import Lifter, lifter_dir
from ..models.blazepose import POSE_DETECTION, POSE_LANDMARK_FULL
from ..models.joint_sets import BLAZEPOSE_33, HUMAN36M_17, JointSet
from ..models.runtime import load_networks
from ..models.store import PathLike
from ..mppe.backend import Mppe
from ..mppe.preprocessing import process_boxes


@dataclass(frozen=True)
class KeptPersons:
    """
    The persons the landmark stage keeps, on the host: float64 NumPy, N persons.

    ``pixels`` (N, 33, 2) landmarks in the ideal pinhole image and ``delivered``
    (N, 33, 2) the same in the delivered image, pixels; ``world`` (N, 33, 3) metres,
    hip-centred, camera axes (x right, y down, z forward); ``visibility`` (N, 33) in
    [0, 1]; ``inside`` (N, 33) 1 where the delivered landmark lies inside the image, else
    0; ``alignment`` (N, 2, 2) the region keypoints for the next frame, delivered-image
    pixels; ``sides`` (N,) region sides, pinhole pixels; ``scores`` (N,) their scores.
    """

    pixels: np.ndarray
    delivered: np.ndarray
    world: np.ndarray
    visibility: np.ndarray
    inside: np.ndarray
    alignment: np.ndarray
    sides: np.ndarray
    scores: np.ndarray

    @staticmethod
    def to_host(keep: torch.Tensor, **values: torch.Tensor) -> 'KeptPersons':
        """Copy each field's (N, ...) values at the (N,) ``keep`` mask in one transfer."""
        names = [field.name for field in fields(KeptPersons)]
        shapes = [values[name].shape[1:] for name in names]
        block = torch.cat([values[name].double().reshape(len(keep), shape.numel())
                           for name, shape in zip(names, shapes)], 1)[keep].cpu().numpy()
        parts = np.split(block, np.cumsum([shape.numel() for shape in shapes])[:-1], axis=1)
        return KeptPersons(*(part.reshape(len(block), *shape)
                             for part, shape in zip(parts, shapes)))

    def select(self, index: np.ndarray) -> 'KeptPersons':
        """Return the persons at ``index`` (indices or a boolean mask)."""
        return KeptPersons(*(getattr(self, field.name)[index] for field in fields(self)))


@dataclass(frozen=True)
class Placement:
    """
    The kept persons in the results' joint set (N persons, J joints).

    ``keypoints`` (N, J, 2) delivered-image pixels; ``visibility`` (N, J) in [0, 1];
    ``joints`` (N, J, 3) and ``translation`` (N, 3) metres, camera optical frame (x right,
    y down, z forward); ``prior_z`` (N,) the distance prior, metres; ``from_fit`` (N,)
    False where the prior alone placed the person.
    """

    keypoints: np.ndarray
    visibility: np.ndarray
    joints: np.ndarray
    translation: np.ndarray
    prior_z: np.ndarray
    from_fit: np.ndarray


def inside_image(pixels: torch.Tensor, camera: CameraModel) -> torch.Tensor:
    """Return which (..., 2) delivered-image pixels lie inside the image, (...,) bool."""
    limits = pixels.new_tensor([camera.width - 1, camera.height - 1])
    return ((pixels >= 0) & (pixels <= limits)).all(-1)


def extent_boxes(pixels: np.ndarray, camera: CameraModel) -> np.ndarray:
    """Return the (N, 4) x0, y0, x1, y1 extent of (N, K, 2) pixels clipped to the image."""
    clipped = np.clip(pixels, 0.0, [camera.width - 1.0, camera.height - 1.0])
    return np.concatenate([clipped.min(axis=1), clipped.max(axis=1)], axis=1)


def resolve_device(name: str) -> torch.device:
    """Turn ``'auto'`` into CUDA when available, else CPU; check explicit CUDA requests."""
    if name == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    device = torch.device(name)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise ValueError(f'device {name!r} requested but CUDA is not available')
    return device


class PoseEstimator:
    """
    Estimate every person's metric skeleton in one image (joints of :attr:`joint_set`).

    Parameters
    ----------
    config
        Settings; the defaults follow MediaPipe on the full frame, plus tiles.
    model_dir
        Directory with the verified model files (default: the model store).

    """

    def __init__(self, config: EstimatorConfig = EstimatorConfig(),
                 model_dir: Optional[PathLike] = None) -> None:
        self.config = config
        # LiteRT runs on the CPU: 'auto' means the CPU for it even beside a GPU.
        self.device = resolve_device(
            'cpu' if config.runtime == 'litert' and config.device == 'auto' else config.device)
        if config.fp16 and self.device.type != 'cuda':
            raise ValueError(f'fp16 needs a CUDA device, not {self.device}')
        self.dtype = torch.float16 if config.fp16 else torch.float32
        if config.threads:
            torch.set_num_threads(config.threads)
        self.detector, self.landmarker = load_networks(
            (POSE_DETECTION, POSE_LANDMARK_FULL), config.runtime, self.device, self.dtype,
            torch.get_num_threads(), model_dir)
        #: The runtime the networks run in: ``'torch'`` or ``'litert'``.
        self.runtime: str = self.detector.name
        self.lifter: Optional[Lifter] = None
        if config.pose_backend == 'lifting':
            self.lifter = Lifter.load(config.lifter_weights or lifter_dir() / 'default.pt')
        self.mppe: Optional[Mppe] = None
        if config.pose_backend == '3dmppe':
            self.mppe = Mppe.load(config.rootnet_checkpoint, config.posenet_checkpoint,
                                  self.device, self.dtype)
        self.anchors = ssd_anchor_centres().to(self.device)

    @property
    def joint_set(self) -> JointSet:
        """Return the set results are in: BlazePose's 33, Human3.6M-17 or PoseNet's own."""
        if self.mppe is not None:
            return self.mppe.joint_set
        return BLAZEPOSE_33 if self.lifter is None else HUMAN36M_17

    def __call__(self, rgb: np.ndarray, camera: CameraModel,
                 seeds: Optional[np.ndarray] = None, seed_scores: Optional[np.ndarray] = None,
                 detect: bool = True) -> FrameResult:
        """
        Find the persons in ``rgb``.

        Parameters
        ----------
        rgb
            (H, W, 3) uint8 RGB image as delivered by the camera.
        camera
            The camera that took it; its size must be (W, H).
        seeds
            (K, 2, 2) regions to run the landmark network on besides the detections, as
            the two region keypoints (hip centre, full-body scale point) in delivered-image
            pixels: the previous frame's :attr:`Person.alignment_2d` when tracking, as
            MediaPipe does. Duplicates of detections are removed as usual.
        seed_scores
            (K,) scores the seeded persons carry (their tracks' detector scores).
        detect
            False skips the detector: only the seeds are looked at.

        Raises
        ------
        ValueError
            The image is not (H, W, 3) uint8 or does not match the camera's size.

        """
        if not (isinstance(rgb, np.ndarray) and rgb.dtype == np.uint8 and rgb.ndim == 3
                and rgb.shape[2] == 3 and rgb.shape[0] > 0 and rgb.shape[1] > 0):
            raise ValueError('image must be a non-empty (H, W, 3) uint8 RGB array, got '
                             f'{getattr(rgb, "shape", None)} {getattr(rgb, "dtype", None)}')
        height, width = rgb.shape[:2]
        if (camera.width, camera.height) != (width, height):
            raise ValueError(f'image is {width} x {height} but the camera model is '
                             f'{camera.width} x {camera.height}')
        timings: dict = {}
        with torch.inference_mode():
            with stage(timings, 'preprocess', self.device):
                pixels = np.require(rgb, requirements='CW')  # read-only buffers are copied
                # Uploaded once as uint8, made planar on the device (planar sampling is faster).
                image = torch.from_numpy(pixels).to(self.device).permute(2, 0, 1).contiguous()
                image = image.float()
                if detect:
                    views = view_regions(width, height, tuple(self.config.tile_grids),
                                         self.config.tile_overlap, self.device)
                    detector_input = POSE_DETECTION.to_input(crop(
                        image, views, POSE_DETECTION.input_size[0], 'zeros'))
            with stage(timings, 'detect', self.device):
                keypoints = image.new_zeros((0, 2, 2))
                scores = image.new_zeros(0)
                if detect:
                    detections = self._detect(detector_input, views)
                    keypoints, scores = detections.keypoints[:, :2], detections.scores
                if seeds is not None and len(seeds):
                    keypoints = torch.cat([keypoints, torch.as_tensor(
                        seeds, dtype=keypoints.dtype, device=self.device).reshape(-1, 2, 2)])
                    scores = torch.cat([scores, torch.as_tensor(
                        seed_scores, dtype=scores.dtype, device=self.device).reshape(-1)])
            with stage(timings, 'landmarks', self.device):
                kept = self._landmarks(image, keypoints, scores, camera)
            with stage(timings, 'root', self.device):
                if self.mppe is None:
                    kept, placement = self._root(kept, camera)
                else:
                    kept, placement = self._mppe(image, kept, camera)
            with stage(timings, 'postprocess', self.device):
                persons = self._persons(kept, placement, camera)
        return FrameResult((width, height), camera, persons, timings)

    def warm_up(self, width: int = 640, height: int = 480) -> None:
        """
        Run every stage once on a blank frame with one seeded region.

        Lazy initialisation, memory pools and kernel selection then happen here (the node
        calls it while configuring) instead of on the first real frame.
        """
        seed = np.array([[[width / 2, height / 2], [width / 2, height / 4]]])
        camera = CameraModel.from_hfov(width, height, 60.0)
        self(np.zeros((height, width, 3), np.uint8), camera, seeds=seed, seed_scores=np.ones(1))
        if self.mppe is not None:  # a blank frame has nobody for its networks to look at
            self.mppe(torch.zeros((3, height, width), device=self.device),
                      np.array([[0.0, 0.0, height, height]]), camera.intrinsics)

    def _detect(self, detector_input: torch.Tensor, views: Regions) -> Detections:
        """Run the detector on every view and merge the detections in image pixels."""
        raw_boxes, raw_scores = (output.float() for output in self.detector(detector_input))
        thresholds = [self.config.min_detection_score] + \
            [self.config.tile_min_detection_score] * (len(views) - 1)
        per_view = [decode(raw_boxes[i], raw_scores[i], self.anchors,
                           POSE_DETECTION.input_size[0], min_score=thresholds[i])
                    for i in range(len(views))]
        return merge_views(per_view, views, self.config.nms_iou,
                           self.config.view_merge_overlap, self.config.max_persons)

    def _landmarks(self, image: torch.Tensor, keypoints: torch.Tensor, scores: torch.Tensor,
                   camera: CameraModel) -> KeptPersons:
        """
        Run the landmark network on every person; drop weak poses and duplicates.

        ``keypoints`` (N, 2, 2) are each person's region keypoints (hip centre, full-body
        scale point) in delivered-image pixels, ``scores`` (N,) their scores.

        With lens distortion the regions live in the ideal pinhole camera's pixels and each
        crop samples the distorted image through :meth:`CameraModel.distort`, so the
        network sees an undistorted person. Returns the kept persons, copied to the host
        in one transfer: the later stages run in NumPy.
        """
        to_source = None
        if camera.distorted and len(keypoints):
            fx, fy, cx, cy = camera.intrinsics
            pinhole = camera.normalised(keypoints.double().cpu().numpy()) * [fx, fy] + [cx, cy]
            keypoints = torch.from_numpy(pinhole).to(keypoints)
            to_source = camera.distort
        regions = regions_from_keypoints(keypoints)
        size = POSE_LANDMARK_FULL.input_size[0]
        crops = crop(image, regions, size, 'border', to_source)
        if len(regions):
            outputs = self.landmarker(POSE_LANDMARK_FULL.to_input(crops))
            raw, flag, _, heatmaps, world = (output.float() for output in outputs)
        else:  # the networks reject empty batches; decode an empty set instead
            raw, flag = crops.new_zeros((0, 195)), crops.new_zeros((0, 1))
            heatmaps, world = crops.new_zeros((0, 39, 64, 64)), crops.new_zeros((0, 117))
        landmarks = decode_landmarks(raw, flag, heatmaps, world, regions, size)
        delivered = camera.distort(landmarks.pixels.double())
        inside = inside_image(delivered, camera)
        visible = ((landmarks.visibility >= 0.5) & inside).sum(-1)
        keep = (landmarks.pose_score >= self.config.min_pose_presence) & \
            (visible >= self.config.min_visible_landmarks)
        if keep.any():
            keep[keep.clone()] = duplicate_mask(
                landmarks.pixels[keep], regions.sides[keep], scores[keep],
                self.config.duplicate_distance)
        return KeptPersons.to_host(
            keep, pixels=landmarks.pixels, delivered=delivered, world=landmarks.world,
            visibility=landmarks.visibility, inside=inside,
            alignment=camera.distort(landmarks.alignment.double()), sides=regions.sides,
            scores=scores)

    def _root(self, kept: KeptPersons, camera: CameraModel
              ) -> Tuple[KeptPersons, Placement]:
        """
        Place each person by the root localisation (backends ``blazepose`` and ``lifting``).

        The root-relative joints are BlazePose's world landmarks, or the lifting network's
        Human3.6M-17 lifted from the 2D landmarks. Only the landmarks inside the image
        (weighted by visibility) are fitted. A person whose 2D skeleton the lifter refuses
        (:meth:`Lifter.lift_each`) is dropped; the persons kept are returned with their
        placement, as by :meth:`_mppe`.
        """
        joint_set = self.joint_set
        fx, fy, cx, cy = camera.intrinsics
        rays = joint_set.convert((kept.pixels - [cx, cy]) / [fx, fy])  # (N, J, 2), undistorted
        if self.lifter is None:
            hips = kept.world[:, list(joint_set.hips)]
            relative = kept.world - hips.mean(axis=1, keepdims=True)
        else:
            relative, reasons = self.lifter.lift_each(rays)
            lifted = np.array([reason is None for reason in reasons], bool)
            kept, rays, relative = kept.select(lifted), rays[lifted], relative[lifted]
        prior_z = prior_depth(fx, fy, kept.sides)
        weights = joint_set.convert((kept.visibility * kept.inside)[..., None])[..., 0]
        weights[:, list(joint_set.redundant)] = 0.0  # the torso is counted once
        joints, translation, from_fit = place(relative, rays, weights, joint_set.hips, prior_z,
                                              self.config.root_prior_strength)
        return kept, Placement(joint_set.convert(kept.delivered),
                               joint_set.convert(kept.visibility[..., None])[..., 0], joints,
                               translation, prior_z, from_fit)

    def _mppe(self, image: torch.Tensor, kept: KeptPersons, camera: CameraModel
              ) -> Tuple[KeptPersons, Placement]:
        """
        Place each person with 3DMPPE's RootNet and PoseNet (backend ``3dmppe``).

        A person's box is the extent of its 33 landmarks in the ideal pinhole image, clipped
        to the image: a tight box inside the image, as the official code gets from its
        detector (BlazePose has no head-top landmark, so the box stops near the ears).
        Persons whose box the official code rejects (empty) are dropped; the persons kept
        are returned with their placement. PoseNet has no visibility output: a joint's
        visibility is 1 inside the image, else 0. The root is the hips' midpoint, as for
        every backend; RootNet sets its depth.
        """
        squares, valid = process_boxes(extent_boxes(kept.pixels, camera), camera.width,
                                       camera.height)
        output = self.mppe(image, squares[valid], camera.intrinsics,
                           camera.distort if camera.distorted else None)
        keypoints = camera.distort(torch.from_numpy(output.pixels))
        visibility = inside_image(keypoints, camera).double().numpy()
        root = output.joints[:, list(self.joint_set.hips)].mean(axis=1)
        return kept.select(valid), Placement(keypoints.numpy(), visibility, output.joints,
                                             root, output.prior_z,
                                             np.ones(len(keypoints), bool))

    def _persons(self, kept: KeptPersons, placement: Placement,
                 camera: CameraModel) -> Tuple[Person, ...]:
        """Build one Person each; the box spans the 33 landmarks in the delivered image."""
        boxes = extent_boxes(kept.delivered, camera)
        joint_set = self.joint_set
        return tuple(Person(
            score=float(kept.scores[index]),
            bbox=boxes[index],
            keypoints_2d=placement.keypoints[index],
            visibility=placement.visibility[index],
            joints_3d=placement.joints[index],
            root=placement.translation[index].copy(),
            root_prior_z=float(placement.prior_z[index]),
            root_from_fit=bool(placement.from_fit[index]),
            alignment_2d=kept.alignment[index],
            joint_set=joint_set) for index in range(len(boxes)))
