"""
Landmark (PoseNet) stage maths: person regions, decoding, heatmap refinement, duplicates.

Follows MediaPipe's ``pose_landmark_by_roi`` graph of the 0.10.14 release:
AlignmentPointsRectsCalculator and RectTransformationCalculator for the region,
TensorsToLandmarksCalculator (sigmoid visibility and presence),
RefineLandmarksFromHeatmapCalculator (7 x 7 window), LandmarkProjectionCalculator and
WorldLandmarkProjectionCalculator. All functions are batched torch on the tensors' device.
"""

from dataclasses import dataclass, fields
import math
from typing import Sequence

import numpy as np
import torch

from .devices import constant
from .regions import crop_to_image, image_to_crop, normalise_angle, Regions
from .suppression import greedy_keep
from ..models.blazepose import (AUX_ROI_LANDMARKS, NUM_LANDMARKS, NUM_NETWORK_LANDMARKS,
                                TORSO_LANDMARKS)

#: The region is the circle through the full-body scale point, enlarged by this factor.
REGION_SCALE = 1.25

#: Heatmap refinement window (pixels of the 64 x 64 heatmap) and the minimum peak
#: confidence for a landmark to be moved to the window's weighted centre.
HEATMAP_KERNEL = 7
HEATMAP_MIN_CONFIDENCE = 0.5

#: Landmark distances in :func:`skeleton_similarity` are measured in this fraction of the
#: region side (the per-keypoint constant of COCO's OKS, one for all landmarks).
SIMILARITY_SPREAD = 0.1
#: Two skeletons sharing fewer visible landmarks are compared over all of them.
MIN_SHARED_LANDMARKS = 4


def regions_from_keypoints(keypoints: torch.Tensor, scale: float = REGION_SCALE) -> Regions:
    """
    Build each person's square region from detection keypoints in image pixels.

    ``keypoints`` is (N, 4, 2): mid-hip (the centre) and the full-body scale point come
    first. The side is ``2 * |kp1 - kp0| * scale`` and the rotation turns the hip-to-scale
    direction upright: ``pi / 2 - atan2(-(y1 - y0), x1 - x0)``.
    """
    centre, scale_point = keypoints[:, 0], keypoints[:, 1]
    delta = scale_point - centre
    rotation = normalise_angle(math.pi / 2 - torch.atan2(-delta[:, 1], delta[:, 0]))
    return Regions(centre, 2.0 * torch.linalg.norm(delta, dim=1) * scale, rotation)


@dataclass(frozen=True)
class Landmarks:
    """
    Decoded landmarks of N persons (the 33 body landmarks only).

    Attributes
    ----------
    pixels
        (N, 33, 2) image pixels (u, v).
    visibility
        (N, 33) probability that the landmark is visible (not occluded).
    presence
        (N, 33) probability that the landmark is inside the image.
    pose_score
        (N,) probability that the region holds a person (the network's pose flag).
    world
        (N, 33, 3) metres, hip-centred, camera axes (x right, y down, z forward).
    alignment
        (N, 2, 2) image pixels of the two auxiliary landmarks (hip centre and full-body
        scale point) MediaPipe uses to place the next region.
    segmentation
        (N, 1, S, S) person segmentation logits over each crop.
    regions
        The N regions the crops were taken from.

    """

    pixels: torch.Tensor
    visibility: torch.Tensor
    presence: torch.Tensor
    pose_score: torch.Tensor
    world: torch.Tensor
    alignment: torch.Tensor
    segmentation: torch.Tensor
    regions: Regions

    def select(self, index: torch.Tensor) -> 'Landmarks':
        """Return the persons at ``index`` (indices or a boolean mask)."""
        values = {field.name: getattr(self, field.name) for field in fields(self)}
        regions = values.pop('regions')
        return Landmarks(**{name: value[index] for name, value in values.items()},
                         regions=regions.select(index))

    @staticmethod
    def cat(parts: Sequence['Landmarks']) -> 'Landmarks':
        """Concatenate the persons of several decodings."""
        values = {field.name: torch.cat([getattr(part, field.name) for part in parts])
                  for field in fields(Landmarks) if field.name != 'regions'}
        regions = Regions(*(torch.cat([getattr(part.regions, name) for part in parts])
                            for name in ('centres', 'sides', 'rotations')))
        return Landmarks(**values, regions=regions)


def torso_cover(landmarks: Landmarks) -> torch.Tensor:
    """
    Return how much each crop's person segmentation covers every person's torso.

    Entry [i, j] of the (N, N) result, for N ``landmarks``, is the mean segmentation
    probability of crop i at person j's shoulders and hips, in [0, 1]; a landmark outside
    the crop reads 0. The diagonal is each person's support by their own crop's
    segmentation (near 1 for a person, low for a skeleton drawn on a limb); an entry off
    it near 1 says that person j's torso lies on the body crop i segments, as for a
    skeleton the network draws on part of someone else.
    """
    segmentation, count = landmarks.segmentation, len(landmarks.pixels)
    size = segmentation.shape[-1]
    torso = landmarks.pixels[:, constant(TORSO_LANDMARKS, segmentation.device)].reshape(
        1, -1, 2).expand(count, -1, -1)
    cells = torch.floor(image_to_crop(torso, landmarks.regions, size)).long()  # (N, 4N, 2)
    col, row = cells[..., 0], cells[..., 1]
    inside = (col >= 0) & (col < size) & (row >= 0) & (row < size)
    index = row.clamp(0, size - 1) * size + col.clamp(0, size - 1)
    probability = torch.sigmoid(torch.gather(segmentation.flatten(1), 1, index)) * inside
    return probability.reshape(count, count, len(TORSO_LANDMARKS)).mean(-1)


def refine_with_heatmaps(xy: torch.Tensor, heatmaps: torch.Tensor,
                         kernel: int = HEATMAP_KERNEL,
                         min_confidence: float = HEATMAP_MIN_CONFIDENCE) -> torch.Tensor:
    """
    Move landmarks to the confidence-weighted centre of their heatmap window.

    Parameters
    ----------
    xy
        (N, J, 2) landmark positions as fractions of the crop (0..1).
    heatmaps
        (N, J, H, W) heatmap logits.
    kernel
        Window side in heatmap pixels.
    min_confidence
        A landmark moves only if its window's peak sigmoid reaches this.

    Returns
    -------
    torch.Tensor
        (N, J, 2) refined fractions; landmarks whose centre lies outside the heatmap, or
        whose peak is too weak, keep their position.

    """
    count, joints, height, width = heatmaps.shape
    # Integer cell as MediaPipe computes it: truncation toward zero.
    col = torch.trunc(xy[..., 0] * width).long()
    row = torch.trunc(xy[..., 1] * height).long()
    inside = (col >= 0) & (col < width) & (row >= 0) & (row < height)
    offsets = torch.arange(kernel, device=xy.device) - (kernel - 1) // 2
    cols = col[..., None, None] + offsets[None, None, None, :]  # (N, J, 1, K)
    rows = row[..., None, None] + offsets[None, None, :, None]  # (N, J, K, 1)
    valid = (cols >= 0) & (cols < width) & (rows >= 0) & (rows < height)
    flat = heatmaps.reshape(count, joints, height * width)
    window = kernel * kernel
    index = (rows.clamp(0, height - 1) * width + cols.clamp(0, width - 1)).reshape(
        count, joints, window)
    confidence = torch.sigmoid(torch.gather(flat, 2, index)) * valid.reshape(
        count, joints, window)
    total = confidence.sum(-1)
    peak = confidence.amax(-1)
    weighted_col = (confidence * cols.expand_as(valid).reshape(count, joints, window)).sum(-1)
    weighted_row = (confidence * rows.expand_as(valid).reshape(count, joints, window)).sum(-1)
    refined = torch.stack([weighted_col / width, weighted_row / height], -1) / \
        total.clamp(min=1e-12)[..., None]
    move = inside & (peak >= min_confidence) & (total > 0)
    return torch.where(move[..., None], refined, xy)


def decode_landmarks(raw: torch.Tensor, pose_flag: torch.Tensor, segmentation: torch.Tensor,
                     heatmaps: torch.Tensor, world: torch.Tensor, regions: Regions,
                     crop_size: int) -> Landmarks:
    """
    Decode the landmark network's outputs for N crops into image and world landmarks.

    Parameters
    ----------
    raw
        (N, 195) landmarks: 39 x (x, y, z, visibility logit, presence logit), crop pixels.
    pose_flag
        (N, 1) pose presence probability.
    segmentation
        (N, 1, 256, 256) person segmentation logits over the crop.
    heatmaps
        (N, 39, 64, 64) heatmap logits.
    world
        (N, 117) world landmarks, 39 x (x, y, z), metres, in the crop's rotated frame.
    regions
        The N regions the crops were taken from.
    crop_size
        Crop side in pixels (256).

    """
    count = raw.shape[0]
    used = NUM_LANDMARKS + len(AUX_ROI_LANDMARKS)
    points = raw.reshape(count, NUM_NETWORK_LANDMARKS, 5)[:, :used]
    xy = refine_with_heatmaps(points[..., :2] / crop_size, heatmaps[:, :used])
    pixels = crop_to_image(xy * crop_size, regions, crop_size)
    points = points[:, :NUM_LANDMARKS]
    cos = torch.cos(regions.rotations)[:, None]
    sin = torch.sin(regions.rotations)[:, None]
    local = world.reshape(count, NUM_NETWORK_LANDMARKS, 3)[:, :NUM_LANDMARKS]
    rotated = torch.stack([cos * local[..., 0] - sin * local[..., 1],
                           sin * local[..., 0] + cos * local[..., 1], local[..., 2]], -1)
    return Landmarks(pixels[:, :NUM_LANDMARKS], torch.sigmoid(points[..., 3]),
                     torch.sigmoid(points[..., 4]), pose_flag[:, 0], rotated,
                     pixels[:, constant(AUX_ROI_LANDMARKS, pixels.device)], segmentation,
                     regions)


def skeleton_similarity(pixels: torch.Tensor, visible: torch.Tensor,
                        sides: torch.Tensor) -> torch.Tensor:
    """
    Return how alike every two skeletons are, OKS-like, over their mutually visible landmarks.

    ``exp(-d**2 / (2 (SIMILARITY_SPREAD s)**2))`` averaged over the landmarks both persons
    show, ``d`` the landmarks' distance and ``s`` the smaller region side: 1 for the same
    skeleton, about 0.6 at a mean distance of a tenth of the region, near 0 for two people
    standing side by side however much their regions overlap. Pairs with fewer than
    ``MIN_SHARED_LANDMARKS`` landmarks in common are compared over all 33.

    Parameters
    ----------
    pixels
        (N, 33, 2) image landmarks.
    visible
        (N, 33) bool, landmarks visible inside the image.
    sides
        (N,) region sides, pixels.

    Returns
    -------
    torch.Tensor
        (N, N) similarities in [0, 1].

    """
    distance = (pixels[:, None] - pixels[None]).norm(dim=-1)  # (N, N, 33)
    scale = torch.minimum(sides[:, None], sides[None]) * SIMILARITY_SPREAD
    alike = torch.exp(-distance ** 2 / (2 * scale[..., None] ** 2))
    shared = (visible[:, None] & visible[None]).to(alike.dtype)
    few = shared.sum(-1, keepdim=True) < MIN_SHARED_LANDMARKS
    weights = torch.where(few, torch.ones_like(shared), shared)
    return (alike * weights).sum(-1) / weights.sum(-1)


def same_person(pixels: torch.Tensor, visible: torch.Tensor, sides: torch.Tensor,
                cover: torch.Tensor, min_similarity: float, min_cover: float) -> torch.Tensor:
    """
    Return (N, N) bool: which two of N skeletons are one person.

    Two skeletons are one when they are alike (:func:`skeleton_similarity` at least
    ``min_similarity``; ``pixels``, ``visible`` and ``sides`` as there), or when either
    one's crop segmentation covers the other's torso (``cover`` (N, N) from
    :func:`torso_cover`, at least ``min_cover``): a skeleton drawn on someone's arm or on
    a different reading of their body is not a second person, whereas the torso of a
    person beside or behind another lies off the other's segmentation.
    """
    on_body = torch.maximum(cover, cover.T) >= min_cover
    return (skeleton_similarity(pixels, visible, sides) >= min_similarity) | on_body


def behind_another(cover: torch.Tensor, tracked: torch.Tensor, sides: torch.Tensor,
                   min_cover: float) -> torch.Tensor:
    """
    Return (N,) bool: which tracked persons stand behind another tracked person.

    ``cover`` (N, N) from :func:`torso_cover`; ``tracked`` (N,) bool, which skeletons come
    from regions that follow tracks; ``sides`` (N,) their regions' sides, pixels. Tracked
    j is behind tracked i when crop i's segmentation covers j's torso (at least
    ``min_cover``), crop j's does not cover i's, and j's region is the smaller (farther,
    for people of like height). The last condition matters: the crop of a person mostly
    hidden also segments the body in front of them, whose torso then lies on that mask
    while their own, showing beside it, lies off the front person's.
    """
    on = (cover >= min_cover) & tracked[:, None] & tracked[None, :]
    return (on & ~on.T & (sides[:, None] > sides[None, :])).any(0)


def duplicate_mask(same: torch.Tensor, ranking: torch.Tensor,
                   candidates: torch.Tensor) -> torch.Tensor:
    """
    Flag the candidates who do not repeat a better-ranked candidate.

    ``same`` (N, N) bool says which two are one person (:func:`same_person`); of each
    such pair the one with the higher ``ranking`` (N,) is kept, greedily from the best
    (equal rankings in index order); ``candidates`` (N,) bool, the ones that take part.
    Returns (N,) bool, True for candidates to keep (:func:`~.suppression.greedy_keep`).
    """
    order = torch.sort(ranking, descending=True, stable=True)[1]
    kept_sorted = greedy_keep(same[order][:, order], candidates[order])
    return torch.zeros_like(kept_sorted).index_copy_(0, order, kept_sorted)


@dataclass(frozen=True)
class KeptPersons:
    """
    The persons the landmark stage keeps, on the host: float64 NumPy, N persons.

    ``pixels`` (N, 33, 2) landmarks in the ideal pinhole image and ``delivered``
    (N, 33, 2) the same in the delivered image, pixels; ``world`` (N, 33, 3) metres,
    hip-centred, camera axes (x right, y down, z forward); ``visibility`` (N, 33) in
    [0, 1]; ``inside`` (N, 33) 1 where the delivered landmark lies inside the image, else
    0; ``alignment`` (N, 2, 2) the region keypoints for the next frame, delivered-image
    pixels; ``sides`` (N,) region sides, pinhole pixels; ``scores`` (N,) their proposals'
    scores.
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
    def to_host(index: torch.Tensor, kept: torch.Tensor,
                **values: torch.Tensor) -> 'KeptPersons':
        """
        Copy each field's (N, ...) values at the (K,) ``index`` in one transfer.

        ``kept`` (K,) bool says which of the K slots hold a person: they are chosen on the
        host, from the copy, so that nothing before it reads the device.
        """
        names = [field.name for field in fields(KeptPersons)]
        shapes = [values[name].shape[1:] for name in names]
        count = len(values[names[0]])
        block = torch.cat([values[name].double().reshape(count, shape.numel())
                           for name, shape in zip(names, shapes)], 1)[index]
        block = torch.cat([block, kept.double()[:, None]], 1).numpy(force=True)
        block = block[block[:, -1] > 0.5, :-1]
        parts = np.split(block, np.cumsum([shape.numel() for shape in shapes])[:-1], axis=1)
        return KeptPersons(*(part.reshape(len(block), *shape)
                             for part, shape in zip(parts, shapes)))

    def select(self, index: np.ndarray) -> 'KeptPersons':
        """Return the persons at ``index`` (indices or a boolean mask)."""
        return KeptPersons(*(getattr(self, field.name)[index] for field in fields(self)))
