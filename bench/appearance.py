"""
Appearance descriptors for re-identification, weighed on the moving composites.

The tracker re-identifies people by colour histograms of the torso and legs
(:mod:`pose3d_ros.estimation.appearance`). The other candidate needs no new model either:
the landmark network's own features, computed from the person's crop (the region the
landmarks place, :func:`~pose3d_ros.estimation.landmarks.regions_from_keypoints`). This
script measures both, same run:

- ``colour``: the tracker's descriptor, compared by the mean Bhattacharyya coefficient of
  its parts, the torso counting twice (:func:`~pose3d_ros.estimation.appearance.similarity`),
  and, for comparison, with the three parts counting alike;
- ``landmark embedding``: the network's last feature map before its heads
  (288 channels x 2 x 2), compared by cosine similarity;
- ``landmark mid-level``: a feature map of the network's encoder (``--layer``, by default
  the 32 x 32 one after its second stage) averaged over the person's segmentation in the
  crop (the network's own mask), compared by cosine similarity.

The landmark features are centred on their mean over all the persons described (ReLU6
outputs share a large positive part that would crowd every cosine towards 1).

The persons are those the stream pipeline (default settings) finds in every clip of
:data:`~pose3d_ros.evaluation.sequences.SCENARIOS` at 10 fps, matched to the truth
(:func:`~pose3d_ros.evaluation.identities.frame_matches`), each population apart: the
clearly seen (at least 80 % of their matte shows) and all in view (30 %: partly hidden
people's descriptors mix in who hides them). Pairs are taken within a clip, at least 1 s
apart. The table gives per descriptor the median similarity of pairs of the same person
and of different people, their separation d' (the difference of the means in pooled
standard deviations), the AUC (the probability that a same-person pair is more alike than a
different-person pair), rank-1 (the most alike detection at least 1 s away is the same
person), and the milliseconds per person as a ratio to colour's. For colour it also gives
how often the tracker's threshold (``reid_min_similarity``) would refuse the same person
or accept another.

Usage: python bench/appearance.py [--device cpu] [--layer NODE]
"""

import argparse
from functools import partial
import sys
import time
from typing import Callable, Dict, List, Tuple

import numpy as np
from pose3d_ros.estimation import appearance
from pose3d_ros.estimation.config import EstimatorConfig
from pose3d_ros.estimation.estimator import PoseEstimator
from pose3d_ros.estimation.landmarks import regions_from_keypoints
from pose3d_ros.estimation.pipeline import Pipeline
from pose3d_ros.estimation.regions import crop
from pose3d_ros.estimation.result import Person
from pose3d_ros.estimation.tracking import TrackingConfig
from pose3d_ros.evaluation import sequences
from pose3d_ros.evaluation.identities import frame_matches
from pose3d_ros.evaluation.sequences import IN_VIEW
from pose3d_ros.models.blazepose import POSE_LANDMARK_FULL
from pose3d_ros.samples import fetch_samples, fetch_street_photos
import torch
from torch import fx

#: A person counts for this measure when this fraction of their matte shows.
CLEARLY = 0.8
#: Pairs are at least this many seconds apart.
APART_S = 1.0
#: The landmark network's node whose output is its embedding (before the three heads).
EMBEDDING = '_relu6__75'
#: Its output of segmentation logits.
SEGMENTATION = next(index for index, output in enumerate(POSE_LANDMARK_FULL.outputs)
                    if output.description.startswith('segmentation'))

Describe = Callable[[np.ndarray, Person], np.ndarray]


def landmark_features(layer: str) -> Tuple[Describe, Describe]:
    """Return the two landmark-network descriptors: the embedding and ``layer`` masked."""
    network = POSE_LANDMARK_FULL.load()
    nodes = {node.name: node for node in network.graph.nodes}
    if layer not in nodes:
        raise ValueError(f'the landmark network has no node {layer!r}')
    output = next(node for node in network.graph.nodes if node.op == 'output')
    segmentation = output.args[0][SEGMENTATION]
    graph, copies = fx.Graph(), {}
    graph.graph_copy(network.graph, copies)
    graph.output((copies[nodes[EMBEDDING]], copies[nodes[layer]], copies[segmentation]))
    features = fx.GraphModule(network, graph).eval()
    size = POSE_LANDMARK_FULL.input_size[0]

    def run(rgb: np.ndarray, person: Person) -> Tuple[torch.Tensor, ...]:
        image = torch.from_numpy(rgb).permute(2, 0, 1).float()
        region = regions_from_keypoints(torch.from_numpy(person.alignment_2d[None]).float())
        with torch.no_grad():
            return features(POSE_LANDMARK_FULL.to_input(crop(image, region, size, 'border')))

    def embedding(rgb: np.ndarray, person: Person) -> np.ndarray:
        return run(rgb, person)[0].flatten().numpy()

    def masked(rgb: np.ndarray, person: Person) -> np.ndarray:
        _, values, logits = run(rgb, person)
        mask = torch.nn.functional.interpolate((logits > 0).float(), size=values.shape[-2:],
                                               mode='area')
        return ((values * mask).sum((0, 2, 3)) / mask.sum().clamp(min=1.0)).numpy()

    return embedding, masked


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Return the cosine similarity of two feature vectors (0 when either is zero)."""
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / norm if norm > 0 else 0.0


def auc(same: np.ndarray, different: np.ndarray) -> float:
    """Return P(a same-person pair scores above a different-person pair), ties half."""
    scores = np.concatenate([same, different])
    ranks = np.argsort(np.argsort(scores, kind='stable'), kind='stable') + 1.0
    for value in np.unique(scores):  # average the ranks of ties
        tied = scores == value
        ranks[tied] = ranks[tied].mean()
    return float((ranks[:len(same)].sum() - len(same) * (len(same) + 1) / 2)
                 / (len(same) * len(different)))


def d_prime(same: np.ndarray, different: np.ndarray) -> float:
    """Return the separation of two score samples in pooled standard deviations."""
    spread = np.sqrt((same.var() + different.var()) / 2.0)
    return float((same.mean() - different.mean()) / spread) if spread > 0 else float('inf')


def measure(items: List[tuple], compare: Callable[[np.ndarray, np.ndarray], float],
            min_shown: float) -> Tuple[np.ndarray, np.ndarray, float]:
    """
    Return the same-person and different-people scores, and rank-1, of the described.

    ``items`` are (clip, time s, who, fraction shown, descriptor); pairs are within a
    clip, :data:`APART_S` apart, both at least ``min_shown`` shown.
    """
    items = [item for item in items if item[3] >= min_shown]
    same, different, hits = [], [], []
    for i, (clip, time_s, who, _, value) in enumerate(items):
        best, best_who = -np.inf, None
        for j, (other_clip, other_time, other_who, _, other) in enumerate(items):
            if other_clip != clip or abs(other_time - time_s) < APART_S:
                continue
            score = compare(value, other)
            if not np.isfinite(score):
                continue
            if j > i:
                (same if other_who == who else different).append(score)
            if score > best:
                best, best_who = score, other_who
        if best_who is not None:
            hits.append(best_who == who)
    return np.array(same), np.array(different), float(np.mean(hits))


def main() -> int:
    """Collect the persons, describe them every way, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--layer', default='add_1',
                        help='landmark network node for the mid-level descriptor')
    args = parser.parse_args()
    embedding, masked = landmark_features(args.layer)
    descriptors: Dict[str, Tuple[Describe, Callable[[np.ndarray, np.ndarray], float]]] = {
        'colour': (appearance.describe, appearance.similarity),
        'colour, parts alike': (appearance.describe, partial(appearance.similarity,
                                                             weights=np.ones(3))),
        'landmark embedding': (embedding, cosine),
        f'landmark mid-level ({args.layer}, masked)': (masked, cosine)}
    estimator = PoseEstimator(EstimatorConfig(device=args.device))
    directory = fetch_samples()
    fetch_street_photos()
    found: Dict[str, List[tuple]] = {name: [] for name in descriptors}
    seconds = dict.fromkeys(descriptors, 0.0)
    for clip in sequences.moving_clips(directory, 10.0):
        results = sequences.track(Pipeline(estimator), clip)
        for index, (frame, result) in enumerate(zip(clip.frames, results)):
            boxes = np.array([p.bbox for p in result.persons]).reshape(-1, 4)
            for truth, person in frame_matches(clip.boxes[index], clip.shown[index],
                                               clip.in_view[index], boxes).items():
                if not clip.in_view[index, truth]:
                    continue
                for name, (describe, _) in descriptors.items():
                    start = time.perf_counter()
                    value = describe(frame, result.persons[person])
                    seconds[name] += time.perf_counter() - start
                    found[name].append((clip.name, clip.times[index], clip.cutouts[truth],
                                        clip.shown[index, truth], value))
    for name in descriptors:
        if not name.startswith('colour'):  # centred: ReLU6 features share a large positive part
            mean = np.mean([item[-1] for item in found[name]], axis=0)
            found[name] = [item[:-1] + (item[-1] - mean,) for item in found[name]]
    threshold = TrackingConfig().reid_min_similarity
    per_person = {name: seconds[name] / len(found[name]) * 1e3 for name in descriptors}
    print(f'persons described: {len(found["colour"])}\n')
    print("| descriptor | persons | same person (median) | different people (median) | d' "
          f'| AUC | rank-1 | same refused at {threshold:g} | different accepted at '
          f'{threshold:g} | ms per person (ratio to colour) |')
    print('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')
    for name, (_, compare) in descriptors.items():
        for population, min_shown in (('clearly seen', CLEARLY), ('all in view', IN_VIEW)):
            same, different, rank1 = measure(found[name], compare, min_shown)
            rates = ('-', '-')
            if name.startswith('colour'):
                rates = (f'{np.mean(same < threshold):.2f}',
                         f'{np.mean(different >= threshold):.2f}')
            print(f'| {name} | {population} | {np.median(same):.2f} | '
                  f'{np.median(different):.2f} | {d_prime(same, different):.1f} | '
                  f'{auc(same, different):.3f} | {rank1:.2f} | {rates[0]} | {rates[1]} | '
                  f'{per_person[name]:.2f} ({per_person[name] / per_person["colour"]:.0f}x) |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
