"""
The multi-person 3D pose estimator: one RGB image and its camera in, metric skeletons out.

Top-down as 3DMPPE (Moon et al. 2019), on the bundled BlazePose GHUM 3D networks:

1. ``preprocess``: upload the uint8 image once; each proposal source prepares its input
   (:mod:`.proposals`: the detector's views cropped to 224 x 224 in one batched
   ``grid_sample`` on the device).
2. ``propose`` (DetectNet): each source proposes candidates (the detector: one forward
   over all views, SSD decoding, weighted NMS per view, merge across views; the sources
   that need no face propose boxes), and a tracked stream adds the regions its persons'
   landmarks give.
3. ``landmarks`` (PoseNet): one rotated square region per candidate (a box's refined once
   from its first landmarks), all cropped to 256 x 256 in one batch; one landmark
   forward; decoding, heatmap refinement, projection to image pixels, world landmarks
   rotated to camera axes; weak poses and duplicate skeletons dropped.
4. ``place`` (RootNet): the pose backend (:mod:`.backends`) gives each person's metric
   skeleton in the camera optical frame; the verifier (:mod:`.verifier`) keeps the
   physically plausible ones.
5. ``postprocess``: one :class:`~.result.Person` per person, in numpy.

Each stage is timed (``FrameResult.timings_ms``), and each proposal source's part of the
first two (``FrameResult.source_timings_ms``). Nothing here imports rclpy.
"""

from dataclasses import replace
from typing import Callable, Dict, Optional, Tuple

import numpy as np
import torch

from .backends import BACKENDS, inside_image, Placement
from .config import EstimatorConfig
from .grounding import on_the_floor
from .horizon import Horizon
from .landmarks import (behind_another, decode_landmarks, duplicate_mask, KeptPersons,
                        Landmarks, regions_from_keypoints, same_person, torso_cover)
from .proposals import Proposals, ProposalSource, Search, SOURCES
from .regions import crop, Regions
from .result import FrameResult, Person
from .timing import stage
from .verifier import body_shaped, verify
from ..geometry import boxes
from ..geometry.camera import CameraModel
from ..geometry.ground import GroundPlane
from ..models.blazepose import POSE_DETECTION, POSE_LANDMARK_FULL, VISIBILITY_THRESHOLD
from ..models.joint_sets import JointSet
from ..models.runtime import load_networks


def resolve_device(name: str) -> torch.device:
    """Turn ``'auto'`` into CUDA when available, else CPU; check explicit CUDA requests."""
    if name == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    device = torch.device(name)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise ValueError(f'device {name!r} requested but CUDA is not available')
    return device


def _added(first: Dict[str, float], second: Dict[str, float]) -> Dict[str, float]:
    """Return two passes' milliseconds per stage (or source), summed."""
    return {name: first.get(name, 0.0) + second.get(name, 0.0) for name in {**first, **second}}


#: A person the far rows find with at least this part of their box inside the box of a
#: person found before is that person, or a piece of them: not added.
WITHIN_FOUND = 0.5


def _outside(persons: Tuple[Person, ...], found: Tuple[Person, ...]) -> Tuple[Person, ...]:
    """Return the ``persons`` whose boxes lie mostly outside every ``found`` person's."""
    if not persons or not found:
        return persons
    inside = boxes.overlap(np.array([p.bbox for p in persons]),
                           np.array([p.bbox for p in found]), over='first').max(axis=1)
    return tuple(p for p, part in zip(persons, inside) if part < WITHIN_FOUND)


def release_cached_memory() -> None:
    """Return PyTorch's cached, unused CUDA memory to the driver (when CUDA was used)."""
    if torch.cuda.is_initialized():
        torch.cuda.empty_cache()


class PoseEstimator:
    """
    Estimate every person's metric skeleton in one image (joints of :attr:`joint_set`).

    Parameters
    ----------
    config
        Settings; the defaults follow MediaPipe on the full frame, plus tiles. Those that
        may change at runtime are read on every call: the node replaces :attr:`config`.

    """

    def __init__(self, config: EstimatorConfig = EstimatorConfig()) -> None:
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
            torch.get_num_threads(), config.model_dir or None)
        #: The runtime the networks run in: ``'torch'`` or ``'litert'``.
        self.runtime: str = self.detector.name
        #: Where candidate regions come from (:mod:`.proposals`).
        self.sources = {name: make(self.detector, self.device) for name, make in SOURCES.items()}
        #: What places the kept persons in metres (:mod:`.backends`).
        self.backend = BACKENDS[config.pose_backend](config, self.device, self.dtype)

    @property
    def joint_set(self) -> JointSet:
        """Return the set results are in: BlazePose's 33, Human3.6M-17 or PoseNet's own."""
        return self.backend.joint_set

    def __call__(self, rgb: np.ndarray, camera: CameraModel,
                 seeds: Optional[np.ndarray] = None, seed_scores: Optional[np.ndarray] = None,
                 detect: bool = True, search: Search = Search(),
                 ground: Optional[GroundPlane] = None) -> FrameResult:
        """
        Find the persons in ``rgb``.

        Parameters
        ----------
        rgb
            (H, W, 3) uint8 RGB image as delivered by the camera.
        camera
            The camera that took it; its size must be (W, H).
        seeds
            (K, 2, 2) regions to run the landmark network on besides the proposals, as
            the two region keypoints (hip centre, full-body scale point) in delivered-image
            pixels: the previous frame's :attr:`Person.alignment_2d` when tracking, as
            MediaPipe does. Duplicates of proposals are removed as usual, except that of
            two seeds' skeletons taken for one, the one behind yields (see
            :meth:`_landmarks`).
        seed_scores
            (K,) scores the seeded persons carry (their tracks' detector scores).
        detect
            False skips the proposal sources: only the seeds are looked at.
        search
            What the sources search (:class:`~.proposals.Search`): which part of the search
            (the detector grids from ``search_grid`` up, the near-field, frame-edge and
            far-row squares), the index-th of count (a stream deals the parts out to its
            frames; default: all of it); where far people stand, for the far rows (a
            stream's: the :attr:`FrameResult.horizon` of its last frame); and whether this
            is a stream's frame. A single image without a horizon, with the far rows on,
            is looked at twice: the horizon is fitted from the persons found, and a second
            pass looks at the far rows' squares alone; the persons it finds outside those
            found are added (the first pass's persons stay as they were).
        ground
            The floor (a stream's, from TF or its recent frames); None: the settings' camera
            pose, else, for a single image (not ``search.stream``), a fit to its standing
            people (:mod:`.grounding`). Its standing people are placed on it, timed as part
            of ``place``.

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
        sources = self.sources if detect else {}
        result = self._estimate(rgb, camera, sources, seeds, seed_scores, search)
        fitted = self._horizon(result, search.horizon)
        far_rows, second_search = self.sources['far_rows'], replace(search, horizon=fitted)
        index, count = search.part
        if (search.stream or search.horizon is not None or fitted is None or not detect
                or not far_rows.layout(width, height, self.config,
                                       second_search)[index::count]):
            return self._grounded(replace(result, horizon=fitted), ground, search.stream)
        second = self._estimate(rgb, camera, {'far_rows': far_rows}, None, None, second_search)
        persons = (result.persons + _outside(second.persons, result.persons))
        both = replace(result, persons=persons[:self.config.max_persons],
                       timings_ms=_added(result.timings_ms, second.timings_ms),
                       source_timings_ms=_added(result.source_timings_ms,
                                                second.source_timings_ms))
        return self._grounded(replace(both, horizon=self._horizon(both, fitted)), ground,
                              search.stream)

    def _grounded(self, result: FrameResult, ground: Optional[GroundPlane],
                  stream: bool) -> FrameResult:
        """Place ``result``'s standing people on its floor, timed into the ``place`` stage."""
        timings = {}
        with stage(timings, 'place', self.device):
            grounded = on_the_floor(result, self.config, ground, single=not stream)
        return replace(grounded, timings_ms=_added(result.timings_ms, timings))

    @staticmethod
    def _horizon(result: FrameResult, given: Optional[Horizon]) -> Optional[Horizon]:
        """Return the horizon fitted from ``result``'s persons, or ``given`` without one."""
        width, height = result.image_size
        return Horizon.fit(np.array([p.bbox for p in result.persons]), width, height) or given

    def _estimate(self, rgb: np.ndarray, camera: CameraModel,
                  sources: Dict[str, ProposalSource], seeds: Optional[np.ndarray],
                  seed_scores: Optional[np.ndarray], search: Search) -> FrameResult:
        """Run the five stages once with these proposal sources and seeds."""
        height, width = rgb.shape[:2]
        config, timings, source_timings = self.config, {}, {}
        with torch.inference_mode():
            with stage(timings, 'preprocess', self.device):
                pixels = np.require(rgb, requirements='CW')  # read-only buffers are copied
                # Uploaded once as uint8, made planar on the device (planar sampling is faster).
                image = torch.from_numpy(pixels).to(self.device).permute(2, 0, 1).contiguous()
                image = image.float()
                prepared = {}
                for name, source in sources.items():
                    with stage(source_timings, name, self.device):
                        prepared[name] = source.prepare(image, config, search)
            with stage(timings, 'propose', self.device):
                proposals = []
                for name, source in sources.items():
                    with stage(source_timings, name, self.device):
                        proposals.append(source.propose(prepared[name], config))
                if seeds is not None and len(seeds):
                    proposals.append(Proposals(
                        torch.as_tensor(seeds, dtype=image.dtype,
                                        device=self.device).reshape(-1, 2, 2),
                        torch.as_tensor(seed_scores, dtype=image.dtype,
                                        device=self.device).reshape(-1),
                        tracked=torch.ones(len(seeds), dtype=torch.bool, device=self.device)))
                candidates = Proposals.cat(proposals) if proposals else Proposals(
                    image.new_zeros((0, 2, 2)), image.new_zeros(0))
            with stage(timings, 'landmarks', self.device):
                kept = self._landmarks(image, candidates, camera, config)
            with stage(timings, 'place', self.device):
                kept, placement = verify(*self.backend.place(image, kept, camera, config),
                                         camera, self.joint_set, config)
            with stage(timings, 'postprocess', self.device):
                persons = self._persons(kept, placement, camera)
        return FrameResult((width, height), camera, persons, timings,
                           source_timings_ms=source_timings, horizon=search.horizon)

    def warm_up(self, width: int = 640, height: int = 480) -> None:
        """
        Run every stage once on a blank frame with one seeded region.

        Lazy initialisation, memory pools and kernel selection then happen here (the node
        calls it while configuring) instead of on the first real frame.
        """
        seed = np.array([[[width / 2, height / 2], [width / 2, height / 4]]])
        camera = CameraModel.from_hfov(width, height, 60.0)
        self(np.zeros((height, width, 3), np.uint8), camera, seeds=seed, seed_scores=np.ones(1))
        with torch.inference_mode():
            self.backend.warm_up(torch.zeros((3, height, width), device=self.device), camera)

    def _landmarks(self, image: torch.Tensor, candidates: Proposals, camera: CameraModel,
                   config: EstimatorConfig) -> KeptPersons:
        """
        Run the landmark network on every candidate; drop weak poses, non-bodies, duplicates.

        A region built from a box is refined once: the landmarks of its first crop give
        the region the network then looks at, as the next frame's region in a stream.
        Such a person needs ``min_box_pose_presence``: a box carries no face, the evidence
        the detector's proposals bring. The verifier's checks that need no metric
        placement (:func:`~.verifier.body_shaped`) come before duplicates, so that a
        skeleton that is no body cannot stand for the person it repeats.

        Of two skeletons of one person (:func:`~.landmarks.same_person`: alike, or one on
        the body the other's crop segments), the one with the higher pose presence plus
        proposal score is kept: presence says how surely the network sees a person, and of
        two equally sure answers a detection's region, made for the person, beats a box
        source's generic one. In a stream, a tracked person whose torso lies on another
        tracked person's body (:func:`~.landmarks.behind_another`) yields whatever the
        ranking: two tracks are two people, and the one partly hidden is behind, so the
        one in front stays whole. (A single image has no such evidence: there the same
        geometry is as often a skeleton drawn on a limb as a person behind.)

        With lens distortion the regions live in the ideal pinhole camera's pixels and each
        crop samples the distorted image through :meth:`CameraModel.distort`, so the
        network sees an undistorted person. Returns the kept persons, at most
        ``max_persons``, best proposal score first, copied to the host in one transfer:
        the later stages run in NumPy.
        """
        keypoints, scores, refine = candidates.keypoints, candidates.scores, candidates.from_box
        needed, tracked = candidates.min_presence, candidates.tracked
        to_source = None
        if camera.distorted and len(keypoints):
            fx, fy, cx, cy = camera.intrinsics
            pinhole = camera.normalised(keypoints.double().cpu().numpy()) * [fx, fy] + [cx, cy]
            keypoints = torch.from_numpy(pinhole).to(keypoints)
            to_source = camera.distort
        regions = regions_from_keypoints(keypoints)
        if refine.any():
            first = self._landmark_network(image, regions.select(refine), to_source)
            keypoints = keypoints.clone()
            keypoints[refine] = first.alignment
            regions = regions_from_keypoints(keypoints)
        landmarks = self._landmark_network(image, regions, to_source)
        if refine.any():  # a box's first answer stays a candidate beside its refined one
            landmarks = Landmarks.cat([landmarks, first])
            scores = torch.cat([scores, scores[refine]])
            needed = torch.cat([needed, needed[refine]])
            tracked = torch.cat([tracked, tracked[refine]])
            refine = torch.cat([refine, refine[refine]])
        delivered = camera.distort(landmarks.pixels.double())
        inside = inside_image(delivered, camera)
        visible = (landmarks.visibility >= VISIBILITY_THRESHOLD) & inside
        presence = torch.where(refine, config.min_box_pose_presence, config.min_pose_presence)
        presence = torch.where(needed.isnan(), presence, needed)
        kept = ((landmarks.pose_score >= presence) &
                (visible.sum(-1) >= config.min_visible_landmarks)).nonzero()[:, 0]
        cover = torso_cover(landmarks.select(kept))
        bodies = body_shaped(landmarks.pixels[kept], landmarks.regions.sides[kept],
                             cover.diagonal(), config)
        kept, cover = kept[bodies], cover[bodies][:, bodies]
        same = same_person(landmarks.pixels[kept], visible[kept], landmarks.regions.sides[kept],
                           cover, config.duplicate_similarity, config.duplicate_torso_cover)
        behind = behind_another(cover, tracked[kept], landmarks.regions.sides[kept],
                                config.duplicate_torso_cover)
        kept = kept[duplicate_mask(same, (landmarks.pose_score + scores)[kept] - 2.0 * behind)]
        # The best max_persons by proposal score, in that order, whatever their source.
        kept = kept[torch.argsort(scores[kept], descending=True, stable=True)]
        return KeptPersons.to_host(
            kept[:config.max_persons], pixels=landmarks.pixels, delivered=delivered,
            world=landmarks.world, visibility=landmarks.visibility, inside=inside,
            alignment=camera.distort(landmarks.alignment.double()),
            sides=landmarks.regions.sides, scores=scores)

    def _landmark_network(self, image: torch.Tensor, regions: Regions,
                          to_source: Optional[Callable]) -> Landmarks:
        """Crop every region to 256 x 256 in one batch, run the network once and decode."""
        size = POSE_LANDMARK_FULL.input_size[0]
        crops = crop(image, regions, size, 'border', to_source)
        if len(regions):
            outputs = self.landmarker(POSE_LANDMARK_FULL.to_input(crops))
            raw, flag, segmentation, heatmaps, world = (output.float() for output in outputs)
        else:  # the networks reject empty batches; decode an empty set instead
            raw, flag = crops.new_zeros((0, 195)), crops.new_zeros((0, 1))
            segmentation = crops.new_zeros((0, 1, size, size))
            heatmaps, world = crops.new_zeros((0, 39, 64, 64)), crops.new_zeros((0, 117))
        return decode_landmarks(raw, flag, segmentation, heatmaps, world, regions, size)

    def _persons(self, kept: KeptPersons, placement: Placement,
                 camera: CameraModel) -> Tuple[Person, ...]:
        """Build one Person each; the box spans the 33 landmarks in the delivered image."""
        corners = boxes.clip(boxes.extent(kept.delivered), camera.width, camera.height)
        joint_set = self.joint_set
        return tuple(Person(
            score=float(kept.scores[index]),
            bbox=corners[index],
            keypoints_2d=placement.keypoints[index],
            visibility=placement.visibility[index],
            joints_3d=placement.joints[index],
            root_prior_z=float(placement.prior_z[index]),
            root_from_fit=bool(placement.from_fit[index]),
            alignment_2d=kept.alignment[index],
            joint_set=joint_set) for index in range(len(corners)))
