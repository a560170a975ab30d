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

Each stage is timed (``FrameResult.timings_ms``; on CUDA when the call asks,
:mod:`.timing`), and each proposal source's part of the first two
(``FrameResult.source_timings_ms``). Nothing is read back from the device before the
landmark stage's one copy of the kept persons to the host (:mod:`.slots`,
:mod:`.suppression`). Nothing here imports rclpy.
"""

from contextlib import contextmanager
from dataclasses import replace
from typing import Callable, Dict, Iterator, Optional, Tuple

import numpy as np
import torch

from .backends import BACKENDS, inside_image, Placement
from .config import EstimatorConfig
from .devices import memory_checked, on_device, precision, resolve_device, upload
from .grounding import on_the_floor
from .horizon import Horizon
from .landmarks import (behind_another, decode_landmarks, duplicate_mask, KeptPersons,
                        Landmarks, regions_from_keypoints, same_person, torso_cover)
from .proposals import Frame, Proposals, ProposalSource, Search, SOURCES
from .regions import crop, Regions
from .result import FrameResult, Person
from .slots import bucket_sizes, BucketedNetwork, CudaGraphs, SLOT_BATCHING
from .suppression import best_slots
from .timing import StageTimes
from .verifier import body_shaped, verify
from ..geometry import boxes
from ..geometry.camera import CameraModel
from ..geometry.ground import GroundPlane
from ..models.blazepose import POSE_DETECTION, POSE_LANDMARK_FULL, VISIBILITY_THRESHOLD
from ..models.joint_sets import JointSet
from ..models.runtime import load_networks, Network


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
        #: The device, CUDA with its index (:func:`~.devices.resolve_device`).
        self.device = resolve_device(
            'cpu' if config.runtime == 'litert' and config.device == 'auto' else config.device)
        for name in ('fp16', 'cuda_graphs'):
            if getattr(config, name) and self.device.type != 'cuda':
                raise ValueError(f'{name} needs a CUDA device, not {self.device}')
        self.dtype = torch.float16 if config.fp16 else torch.float32
        if config.threads:
            torch.set_num_threads(config.threads)
        with self._calls(), memory_checked(self.device, 'loading the networks'):
            self.detector, self.landmarker = load_networks(
                (POSE_DETECTION, POSE_LANDMARK_FULL), config.runtime, self.device, self.dtype,
                torch.get_num_threads(), config.model_dir or None)
            #: What places the kept persons in metres (:mod:`.backends`).
            self.backend = BACKENDS[config.pose_backend](config, self.device, self.dtype)
        #: The runtime the networks run in: ``'torch'`` or ``'litert'``.
        self.runtime: str = self.detector.name
        #: Where candidate regions come from (:mod:`.proposals`).
        self.sources = {name: make(self.detector, self.device) for name, make in SOURCES.items()}
        #: What the landmark network looks at of the candidates' slots (:mod:`.slots`).
        self.slot_batching = SLOT_BATCHING[self.device.type]
        #: What runs the landmark network: the network itself, or with ``cuda_graphs``, once
        #: :meth:`warm_up` has captured them, graphs of padded batch sizes (:mod:`.slots`).
        self.landmark_runner: Network = self.landmarker

    @contextmanager
    def _calls(self) -> Iterator[None]:
        """Run the block as every call runs: this device current, this TF32 setting."""
        with on_device(self.device), precision(self.config.tf32):
            yield

    @property
    def joint_set(self) -> JointSet:
        """Return the set results are in: BlazePose's 33, Human3.6M-17 or PoseNet's own."""
        return self.backend.joint_set

    def __call__(self, rgb: np.ndarray, camera: CameraModel,
                 seeds: Optional[np.ndarray] = None, seed_scores: Optional[np.ndarray] = None,
                 detect: bool = True, search: Search = Search(),
                 ground: Optional[GroundPlane] = None, timed: bool = False) -> FrameResult:
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
        timed
            On CUDA, time the stages (:mod:`.timing`: CUDA events, read once the results are
            in); otherwise ``timings_ms`` stays empty there and nothing waits for the GPU
            but the results. The CPU's stages are always timed.

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
        with self._calls():
            return self._search(rgb, camera, seeds, seed_scores, detect, search, ground, timed)

    def _search(self, rgb: np.ndarray, camera: CameraModel, seeds: Optional[np.ndarray],
                seed_scores: Optional[np.ndarray], detect: bool, search: Search,
                ground: Optional[GroundPlane], timed: bool) -> FrameResult:
        """Look once, or twice for the far rows of a single image (see :meth:`__call__`)."""
        width, height = camera.width, camera.height
        sources = self.sources if detect else {}
        result = self._estimate(rgb, camera, sources, seeds, seed_scores, search, timed)
        fitted = self._horizon(result, search.horizon)
        far_rows, second_search = self.sources['far_rows'], replace(search, horizon=fitted)
        index, count = search.part
        if (search.stream or search.horizon is not None or fitted is None or not detect
                or not far_rows.layout(width, height, self.config,
                                       second_search)[index::count]):
            return self._grounded(replace(result, horizon=fitted), ground, search.stream)
        second = self._estimate(rgb, camera, {'far_rows': far_rows}, None, None, second_search,
                                timed)
        persons = (result.persons + _outside(second.persons, result.persons))
        both = replace(result, persons=persons[:self.config.max_persons],
                       timings_ms=_added(result.timings_ms, second.timings_ms),
                       source_timings_ms=_added(result.source_timings_ms,
                                                second.source_timings_ms))
        return self._grounded(replace(both, horizon=self._horizon(both, fitted)), ground,
                              search.stream)

    def _grounded(self, result: FrameResult, ground: Optional[GroundPlane],
                  stream: bool) -> FrameResult:
        """
        Place ``result``'s standing people on its floor, timed into the ``place`` stage.

        In NumPy on the host: timed whenever the call's stages are.
        """
        timings = StageTimes(torch.device('cpu'), measure=True)
        with timings.stage('place'):
            grounded = on_the_floor(result, self.config, ground, single=not stream)
        return replace(grounded, timings_ms=_added(result.timings_ms, timings.milliseconds())
                       if result.timings_ms else {})

    @staticmethod
    def _horizon(result: FrameResult, given: Optional[Horizon]) -> Optional[Horizon]:
        """Return the horizon fitted from ``result``'s persons, or ``given`` without one."""
        width, height = result.image_size
        return Horizon.fit(np.array([p.bbox for p in result.persons]), width, height) or given

    def _estimate(self, rgb: np.ndarray, camera: CameraModel,
                  sources: Dict[str, ProposalSource], seeds: Optional[np.ndarray],
                  seed_scores: Optional[np.ndarray], search: Search,
                  timed: bool) -> FrameResult:
        """
        Run the five stages once with these proposal sources and seeds.

        Nothing here reads a value back from the device until the landmark stage's kept
        persons are copied to the host, in one transfer; the stages after it run in NumPy.
        """
        height, width = rgb.shape[:2]
        config = self.config
        timings, source_timings = StageTimes(self.device, timed), StageTimes(self.device, timed)
        with torch.inference_mode():
            with timings.stage('preprocess'):
                pixels = np.require(rgb, requirements='CW')  # read-only buffers are copied
                # Uploaded once as uint8, made planar on the device (planar sampling is faster).
                image = upload(pixels, self.device).permute(2, 0, 1).contiguous()
                frame = Frame(image.float(), pixels)
                prepared = {}
                for name, source in sources.items():
                    with source_timings.stage(name):
                        prepared[name] = source.prepare(frame, config, search)
            with timings.stage('propose'):
                proposals = []
                for name, source in sources.items():
                    with source_timings.stage(name):
                        proposals.append(source.propose(prepared[name], config))
                if seeds is not None and len(seeds):
                    proposals.append(Proposals(
                        upload(seeds, self.device, frame.image.dtype).reshape(-1, 2, 2),
                        upload(seed_scores, self.device, frame.image.dtype).reshape(-1),
                        tracked=torch.ones(len(seeds), dtype=torch.bool, device=self.device)))
                candidates = Proposals.cat(proposals) if proposals else Proposals(
                    frame.image.new_zeros((0, 2, 2)), frame.image.new_zeros(0))
            with timings.stage('landmarks'):
                kept = self._landmarks(frame.image, candidates, camera, config)
            with timings.stage('place'):
                kept, placement = verify(*self.backend.place(frame.image, kept, camera, config),
                                         camera, self.joint_set, config)
            with timings.stage('postprocess'):
                persons = self._persons(kept, placement, camera)
        return FrameResult((width, height), camera, persons, timings.milliseconds(),
                           source_timings_ms=source_timings.milliseconds(),
                           horizon=search.horizon)

    def warm_up(self, width: int = 640, height: int = 480) -> None:
        """
        Run every stage once on a blank frame with one seeded region.

        Lazy initialisation, memory pools and kernel selection then happen here (the node
        calls it while configuring) instead of on the first real frame; with
        ``cuda_graphs`` the landmark network's graphs are captured here.

        Raises
        ------
        ValueError
            The device ran out of memory (:func:`~.devices.memory_checked`).

        """
        seed = np.array([[[width / 2, height / 2], [width / 2, height / 4]]])
        camera = CameraModel.from_hfov(width, height, 60.0)
        with memory_checked(self.device, 'warming up'):
            if self.config.cuda_graphs and self.landmark_runner is self.landmarker:
                with self._calls(), torch.inference_mode():
                    example = torch.zeros((3, *POSE_LANDMARK_FULL.input_size),
                                          device=self.device)
                    sizes = bucket_sizes(self.config.max_persons)
                    self.landmark_runner = BucketedNetwork(
                        CudaGraphs(self.landmarker, sizes, example), sizes)
            self(np.zeros((height, width, 3), np.uint8), camera, seeds=seed,
                 seed_scores=np.ones(1))
            with self._calls(), torch.inference_mode():
                self.backend.warm_up(torch.zeros((3, height, width), device=self.device),
                                     camera)

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
        index, boxes = self.slot_batching(candidates.valid, candidates.from_box)
        keypoints, scores, needed, tracked, valid = (
            values if index is None else values[index] for values in (
                candidates.keypoints, candidates.scores, candidates.min_presence,
                candidates.tracked, candidates.valid))
        refine = torch.zeros_like(valid).index_fill_(0, boxes, True)
        to_source = None
        if camera.distorted:
            keypoints = camera.undistort(keypoints.double()).to(keypoints.dtype)
            to_source = camera.distort
        first = self._landmark_network(image, regions_from_keypoints(keypoints[boxes]),
                                       to_source)
        keypoints = keypoints.index_copy(0, boxes, first.alignment.to(keypoints.dtype))
        regions = regions_from_keypoints(keypoints)
        # A box's first answer stays a candidate beside its refined one.
        landmarks = Landmarks.cat([self._landmark_network(image, regions, to_source), first])
        scores, needed, tracked, valid, refine = (
            torch.cat([values, values[boxes]]) for values in (scores, needed, tracked, valid,
                                                              refine))
        delivered = camera.distort(landmarks.pixels.double())
        inside = inside_image(delivered, camera)
        visible = (landmarks.visibility >= VISIBILITY_THRESHOLD) & inside
        presence = torch.where(refine, config.min_box_pose_presence, config.min_pose_presence)
        presence = torch.where(needed.isnan(), presence, needed)
        sides = landmarks.regions.sides
        cover = torso_cover(landmarks)
        candidate = (valid & (landmarks.pose_score >= presence) &
                     (visible.sum(-1) >= config.min_visible_landmarks) &
                     body_shaped(landmarks.pixels, sides, cover.diagonal(), config))
        same = same_person(landmarks.pixels, visible, sides, cover, config.duplicate_similarity,
                           config.duplicate_torso_cover)
        behind = behind_another(cover, tracked & candidate, sides, config.duplicate_torso_cover)
        kept = candidate & duplicate_mask(same, (landmarks.pose_score + scores) - 2.0 * behind,
                                          candidate)
        # The best max_persons by proposal score, in that order, whatever their source.
        best = best_slots(scores, kept, config.max_persons)
        return KeptPersons.to_host(
            best, kept[best], pixels=landmarks.pixels, delivered=delivered,
            world=landmarks.world, visibility=landmarks.visibility, inside=inside,
            alignment=camera.distort(landmarks.alignment.double()), sides=sides, scores=scores)

    def _landmark_network(self, image: torch.Tensor, regions: Regions,
                          to_source: Optional[Callable]) -> Landmarks:
        """Crop every region to 256 x 256 in one batch, run the network once and decode."""
        size = POSE_LANDMARK_FULL.input_size[0]
        crops = crop(image, regions, size, 'border', to_source)
        if len(regions):
            outputs = self.landmark_runner(POSE_LANDMARK_FULL.to_input(crops))
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
