"""
``pose3d-demo``: run both BlazePose networks on a real photograph and print what they find.

A first look at the two networks running in PyTorch: the detector on the letterboxed
image, then the landmark network on each person's rotated region. The full estimator
(batched GPU preprocessing, metric root from the intrinsics) replaces this flow later.
"""

import argparse
import math
import sys
from typing import List, Optional

import cv2
import numpy as np
import torch

from ..estimation.detection import decode, ssd_anchor_centres, weighted_nms
from ..models.blazepose import LANDMARK_NAMES, NUM_LANDMARKS, POSE_DETECTION, POSE_LANDMARK_FULL
from ..samples import DEFAULT_IMAGE, sample_path


def _letterbox(image: np.ndarray, size: int) -> tuple:
    """Resize keeping the aspect ratio and pad to ``size``; return image, scale, offsets."""
    height, width = image.shape[:2]
    scale = size / max(height, width)
    resized = cv2.resize(image, (round(width * scale), round(height * scale)),
                         interpolation=cv2.INTER_AREA)
    canvas = np.zeros((size, size, 3), np.uint8)
    top, left = (size - resized.shape[0]) // 2, (size - resized.shape[1]) // 2
    canvas[top:top + resized.shape[0], left:left + resized.shape[1]] = resized
    return canvas, scale, left, top


def _batch(image: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 RGB to a (1, 3, H, W) tensor."""
    return torch.from_numpy(image).permute(2, 0, 1)[None]


def _region(keypoints: np.ndarray) -> tuple:
    """Square region (centre, side, rotation) from mid-hip and full-body keypoints, pixels."""
    (x0, y0), (x1, y1) = keypoints[0], keypoints[1]
    rotation = math.pi / 2 - math.atan2(-(y1 - y0), x1 - x0)
    rotation = (rotation + math.pi) % (2 * math.pi) - math.pi
    side = 2.0 * math.hypot(x1 - x0, y1 - y0) * 1.25
    return (x0, y0), side, rotation


def _region_to_image(centre: tuple, side: float, rotation: float, size: int) -> np.ndarray:
    """2x3 affine mapping crop pixels (0..size) to image pixels."""
    cos, sin = math.cos(rotation) * side / size, math.sin(rotation) * side / size
    half = size / 2
    return np.array([[cos, -sin, centre[0] - cos * half + sin * half],
                     [sin, cos, centre[1] - sin * half - cos * half]])


def run(image_path: str) -> List[dict]:
    """Detect people and their landmarks in one image; return one dict per person."""
    bgr = cv2.imread(image_path)
    if bgr is None:
        raise ValueError(f'cannot read image {image_path}')
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    detector, landmarker = POSE_DETECTION.load(), POSE_LANDMARK_FULL.load()
    size = POSE_DETECTION.input_size[0]
    boxed, scale, left, top = _letterbox(rgb, size)
    with torch.inference_mode():
        raw_boxes, raw_scores = detector(POSE_DETECTION.to_input(_batch(boxed)))
        found = weighted_nms(decode(raw_boxes[0], raw_scores[0], ssd_anchor_centres()))
    people = []
    crop_size = POSE_LANDMARK_FULL.input_size[0]
    for box, keypoints, score in zip(found.boxes.numpy(), found.keypoints.numpy(),
                                     found.scores.numpy()):
        to_image = (keypoints * size - [left, top]) / scale  # (4, 2) image pixels
        centre, side, rotation = _region(to_image)
        crop_to_image = _region_to_image(centre, side, rotation, crop_size)
        crop = cv2.warpAffine(rgb, crop_to_image, (crop_size, crop_size),
                              flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
        with torch.inference_mode():
            landmarks, presence, _, _, world = landmarker(
                POSE_LANDMARK_FULL.to_input(_batch(crop)))
        points = landmarks[0].reshape(-1, 5)[:NUM_LANDMARKS].numpy()
        pixels = np.c_[points[:, :2], np.ones(NUM_LANDMARKS)] @ crop_to_image.T
        world_m = world[0].reshape(-1, 3)[:NUM_LANDMARKS].numpy()
        centre_xy = (box[:2] * size - [left, top]) / scale
        half = box[2:] * size / scale / 2
        people.append({
            'score': float(score),
            'bbox': [*(centre_xy - half).round(1).tolist(), *(centre_xy + half).round(1).tolist()],
            'presence': float(presence[0, 0]),
            'keypoints_2d': pixels,
            'height_m': float(np.linalg.norm(
                world_m[0] - (world_m[LANDMARK_NAMES.index('left_heel')] +
                              world_m[LANDMARK_NAMES.index('right_heel')]) / 2)),
        })
    return people


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point; returns 0 on success, 1 if the image cannot be processed."""
    parser = argparse.ArgumentParser(prog='pose3d-demo', description=__doc__.strip())
    parser.add_argument('image', nargs='?', help=f'image file (default: the sample '
                                                 f'{DEFAULT_IMAGE} from opencv-doc)')
    args = parser.parse_args(argv)
    path = args.image or str(sample_path(DEFAULT_IMAGE))
    try:
        people = run(path)
    except ValueError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    print(f'{path}: {len(people)} person(s) detected')
    for index, person in enumerate(people):
        nose = person['keypoints_2d'][0]
        print(f'  person {index}: detector score {person["score"]:.2f}, box {person["bbox"]}, '
              f'pose presence {person["presence"]:.2f}, nose at ({nose[0]:.0f}, {nose[1]:.0f}) '
              f'px, nose-to-heels {person["height_m"]:.2f} m (world landmarks)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
