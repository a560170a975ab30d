"""Settings of the multi-person 3D estimator, declared once (:mod:`pose3d_ros.settings`)."""

from dataclasses import dataclass
from typing import Tuple

from ..models.runtime import RUNTIMES
from ..settings.schema import setting, validate

#: The pose backends (:data:`pose3d_ros.estimation.backends.BACKENDS`).
POSE_BACKENDS = ('blazepose', 'lifting', '3dmppe')

#: The devices a setting may name.
DEVICE_PATTERN = r'auto|cpu|cuda(:[0-9]+)?'


@dataclass(frozen=True)
class EstimatorConfig:
    """
    How :class:`~pose3d_ros.estimation.estimator.PoseEstimator` finds and places people.

    Every field is a setting: its description, range and whether it may change while the
    node runs are declared with it, and the node's parameters, the YAML file, the options
    of ``pose3d-estimate`` and docs/node.md are generated from them.
    """

    device: str = setting(
        'auto', 'Inference device (auto: CUDA when available, else the CPU).',
        pattern=DEVICE_PATTERN, pattern_text='auto, cpu, cuda or cuda:N')
    fp16: bool = setting(False, 'Run the networks in half precision (CUDA only; their last '
                                'layers, decoding and geometry stay float32 and float64).')
    tf32: bool = setting(False, "Let CUDA's float32 convolutions and matrix products use TF32 "
                                '(faster on Ampere and later, but results drift from the '
                                "CPU's); applied to this estimator's calls only.")
    cuda_graphs: bool = setting(
        False, 'Replay the landmark network as CUDA graphs captured while configuring, one per '
               'padded batch size (powers of two, to the first at or above max_persons as '
               'configured; larger batches in chunks of the largest): fewer launches per '
               'frame (CUDA only).')
    runtime: str = setting(
        'auto', 'What runs the networks: torch, litert (the official TFLite interpreter, CPU '
                'only) or auto (torch on CUDA, on the CPU the faster of the two, timed at '
                'load).', choices=RUNTIMES)
    threads: int = setting(0, 'CPU threads for the networks (process-wide); 0: one per '
                              'physical core.', low=0, high=1024)
    pose_backend: str = setting(
        'blazepose', 'Where the root-relative 3D skeleton comes from: blazepose (the landmark '
                     "network's 33 metric world landmarks), lifting (the Martinez network on "
                     'the 2D keypoints, Human3.6M-17) or 3dmppe (RootNet and PoseNet on each '
                     "person's box, MuCo-21 or Human3.6M-18).", choices=POSE_BACKENDS)
    lifter_weights: str = setting('', 'Weights of the lifting network; empty: default.pt in '
                                      'the lifter cache (pose3d-lifter train).')
    rootnet_checkpoint: str = setting('', 'The official 3DMPPE RootNet snapshot_N.pth.tar '
                                          '(pose_backend 3dmppe; required there).')
    posenet_checkpoint: str = setting('', 'The official 3DMPPE PoseNet snapshot_N.pth.tar '
                                          '(pose_backend 3dmppe; required there).')
    model_dir: str = setting('', 'Directory with the verified model files; empty: the model '
                                 'store (pose3d-models).')
    min_detection_score: float = setting(
        0.5, 'Detector probability threshold on the full frame (MediaPipe: 0.5).',
        low=0.0, high=1.0, runtime=True)
    tile_min_detection_score: float = setting(
        0.7, 'Detector probability threshold on tiles: higher than on the full frame, since '
             'every tile is one more chance for a false alarm.', low=0.0, high=1.0,
        runtime=True)
    nms_iou: float = setting(0.3, "IoU above which a view's detections merge in weighted NMS "
                                  '(MediaPipe: 0.3).', low=0.0, high=1.0, runtime=True)
    detector_grids: Tuple[int, ...] = setting(
        (1, 2, 3, 4, 6), 'Detector views: for each g, overlapping squares of side max(width, '
                         'height) / g; g = 1 is the whole frame (letterboxed, as MediaPipe), '
                         'larger g are tiles that show far people larger.', low=1, high=8,
        runtime=True)
    search_grid: int = setting(
        4, 'Detector grids from this one up are part of the search, with the frame-edge and '
           'near-field squares: a single image looks at all of it, a stream deals it out '
           'to search_frames detection frames.', low=1, high=9, runtime=True)
    tile_overlap: float = setting(0.25, 'Minimum overlap of neighbouring tiles, fraction of '
                                        'their side.', low=0.0, high=0.9, runtime=True)
    hog_detectors: str = setting(
        'people_64x128', "OpenCV's HOG pedestrian detectors (computed as hog_runtime says) "
                         'that propose people by their silhouette (no face needed): '
                         'people_64x128 (Dalal-Triggs, INRIA), daimler_48x96 (smaller '
                         'people), both, or none.', choices=('none', 'people_64x128',
                                                             'daimler_48x96', 'both'),
        runtime=True)
    hog_min_score: float = setting(0.0, 'HOG windows scoring at least this SVM margin are '
                                        'proposed (OpenCV: 0).', low=-5.0, high=5.0,
                                   runtime=True)
    hog_scale_step: float = setting(1.2, "Scale between the HOG pyramid's levels (OpenCV: "
                                         '1.05; larger is faster, coarser).', low=1.01,
                                    high=2.0, runtime=True)
    hog_upscale: float = setting(1.0, 'The image is enlarged this many times before the HOG '
                                      'pyramid: 2 finds people half the window tall (48 or '
                                      '64 px), at four times the cost.', low=1.0, high=4.0,
                                 runtime=True)
    hog_runtime: str = setting(
        'auto', 'What computes the HOG windows: torch (on the device), opencv (the CPU) or '
                'auto (opencv on the CPU, where it is faster; torch on CUDA).',
        choices=('auto', 'torch', 'opencv'))
    max_persons: int = setting(10, 'At most this many persons per image, best proposal '
                                   'scores first.', low=1, high=100, runtime=True)
    min_pose_presence: float = setting(0.5, "Landmark network's pose-presence threshold "
                                            '(MediaPipe: 0.5).', low=0.0, high=1.0,
                                       runtime=True)
    min_box_pose_presence: float = setting(
        0.9, 'Pose presence a person proposed only as a box (near field, HOG) needs: a box '
             "carries no face, the evidence the detector's proposals bring (measured: 0.96 "
             'or more for nearly every real person, 0.5 to 0.9 for most false ones).',
        low=0.0, high=1.0, runtime=True)
    min_visible_landmarks: int = setting(
        4, 'A person needs at least this many visible landmarks inside the image; fewer '
           'cannot be placed in 3D.', low=0, high=33, runtime=True)
    duplicate_similarity: float = setting(
        0.5, 'Two skeletons this alike (OKS-like similarity of their mutually visible '
             'landmarks, 1: identical) are one person, however their regions overlap; so '
             'are two detections of one person in different detector views (their four '
             'keypoints compared).', low=0.0, high=1.0, runtime=True)
    duplicate_torso_cover: float = setting(
        0.5, "Two skeletons are one person when either one's person segmentation covers the "
             "other's shoulders and hips this much (mean probability): a skeleton drawn on "
             "someone's arm or a second reading of their body (measured: 0.75 to 1 for "
             'those, at most 0.26 for people beside or behind another).', low=0.0,
        high=1.0, runtime=True)
    near_field: bool = setting(
        False, 'Near-field search: large squares over the image, looked at by the landmark '
               'network, for people too close or too cut by the frame for any detector.',
        runtime=True)
    frame_edges: bool = setting(
        True, 'Frame-edge search: squares on the left and right edges of the frame, partly '
              'outside it, looked at by the landmark network, for people the edge cuts.',
        runtime=True)
    frame_edge_scale: float = setting(
        0.5, 'Side of the frame-edge squares, a fraction of the image height; they overlap '
             'by half down each edge.', low=0.25, high=1.0, runtime=True)
    far_rows: str = setting(
        'auto', 'Far-row search: small squares, looked at by the landmark network, along the '
                'rows where people too small for the finest detector tiles stand, under the '
                'horizon fitted from the people found (a single image is looked at twice; a '
                'stream uses the horizon of its last frame): on, off, or auto (on but in a '
                'stream on the CPU, where its squares made a detection frame 1.75 times the '
                'detector alone instead of 1.41).', choices=('auto', 'on', 'off'),
        runtime=True)
    far_row_min_height: float = setting(
        28.0, 'The smallest person the far rows look for (landmark extent, pixels); rows '
              'for people 1.45 times taller follow, up to what the finest detector grid '
              'finds (measured: the landmark network still finds people 28 px tall).',
        low=8.0, high=1000.0, runtime=True)
    far_row_pose_presence: float = setting(
        0.99, 'Pose presence a person found on a far-row square needs: the far rows look at '
              'about a hundred small squares, each a chance to take a sign, a pot or a pole '
              'for a far person (measured: 0.999 or more for the people 28 to 43 px tall, '
              '0.90 to 0.98 for those).', low=0.0, high=1.0, runtime=True)
    near_field_scale: float = setting(
        1.0, 'Side of the near-field squares, a fraction of the image height; they overlap '
             'by half.', low=0.25, high=2.0, runtime=True)
    max_distance_ratio: float = setting(
        2.0, "Verifier: a person's fitted distance and the size prior's (a region covers "
             'about 2 m of the world) may differ by at most this factor either way.',
        low=1.0, high=100.0, runtime=True)
    max_reprojection_error: float = setting(
        0.1, "Verifier: the placed skeleton's projection may miss the 2D keypoints by at "
             "most this fraction of the region side (mean weighted by each joint's "
             'visibility).', low=0.0,
        high=1.0, runtime=True)
    min_body_extent: float = setting(
        0.4, "Verifier: a person's landmarks must span at least this fraction of their "
             'region side (measured: 0.58 to 0.94 for the real people found, 0.17 and 0.31 '
             'for a drawing and a skeleton drawn on a lapel).', low=0.0, high=1.0,
        runtime=True)
    min_body_support: float = setting(
        0.6, "Verifier: the landmark network's person segmentation must average at least "
             "this at the person's shoulders and hips (about 1 for a person; low for a "
             "skeleton drawn on someone else's limb).", low=0.0, high=1.0, runtime=True)
    root_prior_strength: float = setting(
        1.0, 'Weight of the 3DMPPE distance prior in the metric root fit (1: its nominal 25 % '
             'spread; 0: the joints alone).', low=0.0, high=100.0, runtime=True)

    camera_height: float = setting(
        0.0, "The camera's height above the floor people stand on; with camera_pitch and "
             'camera_roll it gives the floor that places standing people; 0: unknown.',
        low=0.0, high=100.0, runtime=True, unit='m')
    camera_pitch: float = setting(
        0.0, "The optical axis' angle below the horizon (with camera_height).", low=-90.0,
        high=90.0, runtime=True, unit='deg')
    camera_roll: float = setting(
        0.0, "The camera's roll about its optical axis, positive when the image's right "
             'points below the horizon (with camera_height).', low=-90.0, high=90.0,
        runtime=True, unit='deg')
    ground_height_std: float = setting(
        0.02, "How well the camera's height above the floor is known (from parameters or "
              'TF), one sigma.', low=0.0, high=10.0, runtime=True, unit='m')
    ground_tilt_std: float = setting(
        0.25, "How well the floor's tilt is known (camera pitch and roll, from parameters "
              'or TF), one sigma.', low=0.0, high=45.0, runtime=True, unit='deg')
    ground_from_people: bool = setting(
        True, 'Without another floor, fit one to the feet of the standing people: in a single '
              'image when at least three stand on it, in a tracked stream to the footprints '
              'of its tracked people over ground_window_s.', runtime=True)
    people_stature: float = setting(
        1.7, "The people's mean stature: the height of a floor fitted to them is weighed "
             "between their skeletons' metric size and the statures that floor gives them "
             '(adults, men and women: 1.7 m, spread 0.1 m; 0: the skeletons alone).',
        low=0.0, high=2.5, runtime=True, unit='m')

    def __post_init__(self) -> None:
        """Reject a value outside its range with the setting's one message (ValueError)."""
        validate(self)
