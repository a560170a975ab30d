"""
Perspective-consistent composites: real people cut out and stood on a real ground plane.

The labelled photographs (:mod:`.recall`) hold few people, none small and few side by
side. A composite makes more from the same real people: each whole, unhidden person
(:class:`CutOutSpec`) is cut out with the landmark network's segmentation (the mean of
its logits over three upright square crops around the labelled box and their mirror
images, the largest region kept), and pasted into a real background photograph at the
size and feet row that a level camera over flat ground gives for their distance
(:class:`GroundCamera`), far to near, mirrored or not. The layouts are a small JSON list
beside the labels (``people_labels.json``, ``composites``); the labels of a composite are
derived from what was pasted, never stored: each person's box is where their matte shows
(clipped to the frame), truncated when the frame cuts them, occluded when nearer people
hide part of them, side by side when their box touches or overlaps that of a person at
about the same distance; facing comes from the source label (mirroring keeps it).
People already in a background (bus.jpg) become ignore regions, and nobody is pasted over
them.
"""

from dataclasses import dataclass
import json
from pathlib import Path
from typing import Dict, Iterator, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch

from .recall import LabelledImage, LabelledPerson, LABELS, load_labels, photographs
from ..estimation.regions import crop, Regions
from ..geometry.camera import CameraModel, DEFAULT_HFOV_DEG
from ..models.blazepose import POSE_LANDMARK_FULL
from ..models.runtime import load_networks, Network
from ..models.store import PathLike
from ..samples import read_rgb

#: The source of every composite in the tables.
SOURCE = 'composite'
#: Sides of the square crops the segmentation is averaged over, times the box's longer side.
CROP_SIDES = (1.1, 1.25, 1.4)
#: The landmark network must see a person in the crops with at least this mean presence.
MIN_PRESENCE = 0.5
#: Pixels of soft matte kept around the largest region (the rest of the matte is dropped).
MATTE_MARGIN_PX = 3
#: A person is occluded when nearer people hide at least this fraction of their matte.
OCCLUDED_FRACTION = 0.05
#: Two boxes this close (pixels) or overlapping touch.
TOUCH_PX = 2.0
#: Two touching people are side by side when their distances differ by at most this ratio.
BESIDE_DEPTH_RATIO = 1.25
#: A matte value from which a pixel counts as the person's.
OPAQUE = 0.5


@dataclass(frozen=True)
class CutOutSpec:
    """Which labelled person is cut out (``image``, index ``person``) and how tall it is."""

    name: str
    image: str
    person: int
    #: Height in metres of the top of the cut-out above the soles: 1.7 standing.
    height_m: float


@dataclass(frozen=True)
class Background:
    """A background photograph and its ground plane: ``horizon`` row, camera height (m)."""

    image: str
    horizon: float
    camera_height: float


@dataclass(frozen=True)
class Placement:
    """
    One pasted person: a cut-out's name, its distance and lateral offset, mirrored or not.

    ``distance`` is metres along the optical axis; ``lateral`` metres to the right of it,
    where the middle of the cut-out stands.
    """

    cutout: str
    distance: float
    lateral: float
    mirrored: bool


@dataclass(frozen=True)
class Layout:
    """A composite: its name, background image and the people placed in it."""

    name: str
    background: str
    placements: Tuple[Placement, ...]


@dataclass(frozen=True)
class Specs:
    """The cut-outs, backgrounds (by image name) and layouts of ``people_labels.json``."""

    cutouts: Dict[str, CutOutSpec]
    backgrounds: Dict[str, Background]
    layouts: Tuple[Layout, ...]


@dataclass(frozen=True)
class GroundCamera:
    """
    A level pinhole camera ``height_m`` above flat ground, square pixels.

    ``focal`` fx = fy and ``centre_u`` cx in pixels, ``horizon`` the row the ground
    vanishes at. A point on the ground at distance Z lies at row horizon + focal *
    height_m / Z; an upright length L there is focal * L / Z pixels.
    """

    focal: float
    centre_u: float
    horizon: float
    height_m: float

    @classmethod
    def of(cls, width: int, height: int, background: Background,
           hfov_deg: float = DEFAULT_HFOV_DEG) -> 'GroundCamera':
        """Return the camera of a ``width`` x ``height`` background, fx from ``hfov_deg``."""
        k = CameraModel.from_hfov(width, height, hfov_deg).k
        return cls(float(k[0, 0]), float(k[0, 2]), background.horizon,
                   background.camera_height)

    def feet_row(self, distance: float) -> float:
        """Return the image row (pixels) of the ground at ``distance`` metres."""
        return self.horizon + self.focal * self.height_m / distance

    def pixel_height(self, height_m: float, distance: float) -> float:
        """Return how many pixels ``height_m`` metres standing at ``distance`` span."""
        return self.focal * height_m / distance

    def column(self, lateral: float, distance: float) -> float:
        """Return the pixel column of a point ``lateral`` m right, ``distance`` m ahead."""
        return self.centre_u + self.focal * lateral / distance


@dataclass(frozen=True)
class CutOut:
    """
    A real person cut out at their labelled box.

    ``rgb`` (h, w, 3) uint8 and ``alpha`` (h, w) float32 matte in 0..1; ``feet`` the
    bottom edge of the soles, pixels below the top edge; ``height_m`` and ``facing`` as
    in the spec and the source label.
    """

    rgb: np.ndarray
    alpha: np.ndarray
    feet: float
    height_m: float
    facing: str

    def mirrored(self) -> 'CutOut':
        """Return the cut-out mirrored left to right."""
        return CutOut(self.rgb[:, ::-1], self.alpha[:, ::-1], self.feet, self.height_m,
                      self.facing)


@dataclass(frozen=True)
class Composite:
    """
    A built composite: (H, W, 3) uint8 RGB, its labels, and each person's visible matte.

    ``mattes`` is (N, H, W) float32, the part of each placed person's matte that shows,
    in the order of ``labels.persons`` (the layout's order).
    """

    rgb: np.ndarray
    labels: LabelledImage
    mattes: np.ndarray


def _placement(entry: dict, cutouts: Dict[str, CutOutSpec], layout: str) -> Placement:
    placement = Placement(entry['cutout'], float(entry['distance']), float(entry['lateral']),
                          bool(entry['mirrored']))
    if placement.cutout not in cutouts or not placement.distance > 0.0:
        raise ValueError(f'{layout}: bad placement {entry}')
    return placement


def load_specs(path: Path = LABELS) -> Specs:
    """Read the cut-outs, backgrounds and layouts; ValueError names what is malformed."""
    document = json.loads(Path(path).read_text())
    cutouts = {entry['name']: CutOutSpec(entry['name'], entry['image'], int(entry['person']),
                                         float(entry['height_m']))
               for entry in document['cutouts']}
    backgrounds = {entry['image']: Background(entry['image'], float(entry['horizon']),
                                              float(entry['camera_height']))
                   for entry in document['backgrounds']}
    layouts = []
    for entry in document['composites']:
        if entry['background'] not in backgrounds or not entry['persons']:
            raise ValueError(f'{entry["name"]}: unknown background or nobody placed')
        layouts.append(Layout(entry['name'], entry['background'], tuple(
            _placement(person, cutouts, entry['name']) for person in entry['persons'])))
    names = [layout.name for layout in layouts]
    if len(set(names)) != len(names):
        raise ValueError(f'composite names repeat: {names}')
    return Specs(cutouts, backgrounds, tuple(layouts))


def load_segmenter(model_dir: Optional[PathLike] = None) -> Network:
    """Load the landmark network (PyTorch, CPU, float32) whose segmentation cuts people out."""
    network, = load_networks((POSE_LANDMARK_FULL,), 'torch', torch.device('cpu'),
                             torch.float32, 1, model_dir)
    return network


def _box_logits(logits: np.ndarray, centre: Tuple[float, float], side: float,
                box: Tuple[int, int, int, int]) -> np.ndarray:
    """Map (n, n) crop logits of a square region back onto the box's (h, w) pixels."""
    x0, y0, x1, y1 = box
    size = logits.shape[0]
    scale = size / side  # crop pixels per image pixel; crop pixel i is at u = cu + (i/n - .5)s
    to_crop = np.array([[scale, 0.0, (x0 - centre[0]) * scale + size / 2],
                        [0.0, scale, (y0 - centre[1]) * scale + size / 2]])
    return cv2.warpAffine(logits, to_crop, (x1 - x0, y1 - y0),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def segment(network: Network, rgb: np.ndarray, box: Tuple[int, int, int, int]) -> np.ndarray:
    """
    Return the person's (h, w) float32 matte over ``box`` of an (H, W, 3) uint8 RGB image.

    ``box`` is x0, y0, x1, y1 in whole image pixels (pixel edges). The matte is the
    sigmoid of the landmark network's segmentation logits averaged over upright square
    crops centred on the box (:data:`CROP_SIDES`) and their mirror images; ValueError
    when the network sees no person there.
    """
    x0, y0, x1, y1 = box
    centre = ((x0 + x1 - 1) / 2.0, (y0 + y1 - 1) / 2.0)  # pixel centres lie at integers
    sides = [factor * max(x1 - x0, y1 - y0) for factor in CROP_SIDES]
    regions = Regions(torch.tensor([centre] * len(sides), dtype=torch.float64),
                      torch.tensor(sides, dtype=torch.float64),
                      torch.zeros(len(sides), dtype=torch.float64))
    size = POSE_LANDMARK_FULL.input_size[0]
    crops = crop(torch.from_numpy(rgb).permute(2, 0, 1).float(), regions, size, 'zeros')
    with torch.inference_mode():
        _, presence, logits, _, _ = network(POSE_LANDMARK_FULL.to_input(
            torch.cat([crops, crops.flip(-1)])))
    if float(presence.mean()) < MIN_PRESENCE:
        raise ValueError(f'the landmark network sees no person in box {box}')
    logits = logits[:, 0].float()
    logits = torch.cat([logits[:len(sides)], logits[len(sides):].flip(-1)]).numpy()
    mean = np.mean([_box_logits(crop_logits, centre, side, box)
                    for crop_logits, side in zip(logits, sides * 2)], axis=0)
    return (1.0 / (1.0 + np.exp(-np.clip(mean, -30.0, 30.0)))).astype(np.float32)


def largest_region(alpha: np.ndarray) -> np.ndarray:
    """Keep the (h, w) matte's largest opaque region and its soft border; zero the rest."""
    count, regions, stats, _ = cv2.connectedComponentsWithStats(
        (alpha >= OPAQUE).astype(np.uint8), connectivity=8)
    if count < 2:
        raise ValueError('the matte has no opaque region')
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    size = 2 * MATTE_MARGIN_PX + 1
    keep = cv2.dilate((regions == largest).astype(np.uint8), np.ones((size, size), np.uint8))
    return alpha * keep


def cut_out(network: Network, rgb: np.ndarray, person: LabelledPerson,
            spec: CutOutSpec) -> CutOut:
    """
    Cut ``person`` out of an (H, W, 3) uint8 RGB photograph at their labelled box.

    ValueError unless the person is whole and unhidden: the frame must not cut them nor
    another person hide them, or the cut-out would carry the cut or the other person.
    """
    if person.truncated or person.occluded:
        raise ValueError(f'{spec.name}: a cut-out needs a whole person nobody hides')
    x0, y0, x1, y1 = (int(round(value)) for value in person.box)
    alpha = largest_region(segment(network, rgb, (x0, y0, x1, y1)))
    rows = np.flatnonzero((alpha >= OPAQUE).any(axis=1))
    return CutOut(rgb[y0:y1, x0:x1].copy(), alpha, float(rows[-1] + 1), spec.height_m,
                  person.facing)


def cut_outs(specs: Specs, directory: Path, network: Network,
             labels: Sequence[LabelledImage]) -> Dict[str, CutOut]:
    """Cut out every spec's person from its photograph in ``directory``, by name."""
    images = {image.name: image for image in labels}
    result = {}
    for spec in specs.cutouts.values():
        image = images[spec.image]
        if not 0 <= spec.person < len(image.persons):
            raise ValueError(f'{spec.name}: {spec.image} has no person {spec.person}')
        result[spec.name] = cut_out(network, read_rgb(directory / spec.image),
                                    image.persons[spec.person], spec)
    return result


@dataclass(frozen=True)
class Layer:
    """
    One pasted person over the whole frame: (H, W, 3) premultiplied RGB, (H, W) matte.

    ``area`` counts the opaque pixels of the whole scaled matte, inside the frame or not.
    """

    colour: np.ndarray
    alpha: np.ndarray
    distance: float
    truncated: bool
    area: int


def _span(start: int, length: int, limit: int) -> Tuple[int, int]:
    """Return the part [a, b) of [start, start + length) inside [0, limit), a = b if none."""
    first = min(max(start, 0), limit)
    return first, max(min(start + length, limit), first)


def _framed(image: np.ndarray, top: int, left: int, shape: Tuple[int, int]) -> np.ndarray:
    """Return a float32 frame of ``shape`` (H, W) holding ``image`` at (top, left), clipped."""
    frame = np.zeros(shape + image.shape[2:], np.float32)
    (y0, y1), (x0, x1) = _span(top, image.shape[0], shape[0]), _span(left, image.shape[1],
                                                                     shape[1])
    frame[y0:y1, x0:x1] = image[y0 - top:y1 - top, x0 - left:x1 - left]
    return frame


def _layer(cutout: CutOut, placement: Placement, camera: GroundCamera,
           shape: Tuple[int, int]) -> Layer:
    """Scale the cut-out to its distance and stand its soles on the ground, in the frame."""
    if placement.mirrored:
        cutout = cutout.mirrored()
    scale = camera.pixel_height(cutout.height_m, placement.distance) / cutout.feet
    height, width = cutout.alpha.shape
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    alpha = cv2.resize(cutout.alpha, size, interpolation=interpolation)
    colour = cv2.resize(cutout.rgb.astype(np.float32) * cutout.alpha[..., None], size,
                        interpolation=interpolation)
    # Pixel centres lie at integers: the top edge of row y is at y - 0.5.
    top = round(camera.feet_row(placement.distance) - cutout.feet * size[1] / height + 0.5)
    left = round(camera.column(placement.lateral, placement.distance) - size[0] / 2 + 0.5)
    frame_alpha = _framed(alpha, top, left, shape)
    area = int((alpha >= OPAQUE).sum())
    return Layer(_framed(colour, top, left, shape), frame_alpha, placement.distance,
                 bool((frame_alpha >= OPAQUE).sum() < area), area)


def extent(matte: np.ndarray) -> Optional[Tuple[float, float, float, float]]:
    """Return the (4,) x0, y0, x1, y1 pixel edges around a matte's opaque part, or None."""
    rows = np.flatnonzero((matte >= OPAQUE).any(axis=1))
    columns = np.flatnonzero((matte >= OPAQUE).any(axis=0))
    if not len(rows):
        return None
    return (int(columns[0]), int(rows[0]), int(columns[-1] + 1), int(rows[-1] + 1))


def _gap(a: Sequence[float], b: Sequence[float]) -> float:
    """Return the pixels between two boxes (0 or less when they overlap)."""
    return max(b[0] - a[2], a[0] - b[2], b[1] - a[3], a[1] - b[3])


def _visible(layers: Sequence[Layer]) -> np.ndarray:
    """Return (N, H, W) the part of each layer's matte that nearer layers leave visible."""
    cover = np.zeros_like(layers[0].alpha)
    visible = np.zeros((len(layers),) + cover.shape, np.float32)
    for index in sorted(range(len(layers)), key=lambda i: layers[i].distance):
        visible[index] = layers[index].alpha * (1.0 - cover)
        cover += visible[index]
    return visible


def _hidden(layer: Layer, visible: np.ndarray) -> float:
    """Return the fraction of a layer's matte in the frame that nearer layers hide."""
    return 1.0 - float(visible.sum() / layer.alpha.sum())


def _beside(index: int, layers: Sequence[Layer], boxes: Sequence[Sequence[float]]) -> bool:
    """Return whether layer ``index``'s box touches that of a layer at about its distance."""
    distance = layers[index].distance
    return any(_gap(boxes[index], boxes[other]) <= TOUCH_PX and
               max(distance, layer.distance) <= BESIDE_DEPTH_RATIO * min(distance,
                                                                         layer.distance)
               for other, layer in enumerate(layers) if other != index)


def paste_people(placements: Sequence[Placement], background: np.ndarray,
                 camera: GroundCamera, cutouts: Dict[str, CutOut]
                 ) -> Tuple[np.ndarray, Tuple[Layer, ...], np.ndarray]:
    """
    Paste people into an (H, W, 3) uint8 RGB background, far to near.

    Returns the (H, W, 3) uint8 RGB image, each placement's :class:`Layer` and (N, H, W)
    float32 the part of each one's matte that nearer people leave visible, in the order of
    ``placements``.
    """
    layers = tuple(_layer(cutouts[placement.cutout], placement, camera, background.shape[:2])
                   for placement in placements)
    canvas = background.astype(np.float32)
    for layer in sorted(layers, key=lambda item: -item.distance):
        canvas = canvas * (1.0 - layer.alpha[..., None]) + layer.colour
    rgb = np.clip(np.round(canvas), 0, 255).astype(np.uint8)
    return rgb, layers, _visible(layers)


def compose(layout: Layout, background: np.ndarray, scene: LabelledImage,
            camera: GroundCamera, cutouts: Dict[str, CutOut]) -> Composite:
    """
    Paste the layout's people into an (H, W, 3) uint8 RGB background, far to near.

    ``scene`` is the background's own labels: its people and ignore regions become the
    composite's ignore regions. ValueError when a pasted person would cover one of its
    people, or cannot be seen.
    """
    rgb, layers, visible = paste_people(layout.placements, background, camera, cutouts)
    shown = [extent(matte) for matte in visible]
    if None in shown:
        raise ValueError(f'{layout.name}: person {shown.index(None)} is out of the frame or '
                         'hidden')
    whole = [extent(layer.alpha) for layer in layers]
    if any(_gap(box, person.box) < 0 for box in whole for person in scene.persons):
        raise ValueError(f'{layout.name}: a pasted person covers a person of {scene.name}')
    persons = tuple(LabelledPerson(
        shown[index], cutouts[placement.cutout].facing, layers[index].truncated,
        bool(_hidden(layers[index], visible[index]) >= OCCLUDED_FRACTION),
        _beside(index, layers, whole)) for index, placement in enumerate(layout.placements))
    labels = LabelledImage(layout.name, SOURCE, persons,
                           tuple(person.box for person in scene.persons) + scene.ignore)
    return Composite(rgb, labels, visible)


def composites(directory: Path, model_dir: Optional[PathLike] = None,
               path: Path = LABELS) -> Iterator[Composite]:
    """
    Build every composite of ``path`` from the photographs in ``directory``, in order.

    The cut-outs are made first (the landmark network from ``model_dir``, default the
    model store), then each composite as it is asked for.
    """
    specs, labels = load_specs(path), load_labels(path)
    scenes = {image.name: image for image in labels}
    unlabelled = set(specs.backgrounds) - set(scenes)
    if unlabelled:
        raise ValueError(f'backgrounds need labels (their own people): {sorted(unlabelled)}')
    pieces = cut_outs(specs, directory, load_segmenter(model_dir), labels)
    for layout in specs.layouts:
        background = read_rgb(directory / layout.background)
        camera = GroundCamera.of(background.shape[1], background.shape[0],
                                 specs.backgrounds[layout.background])
        yield compose(layout, background, scenes[layout.background], camera, pieces)


def evaluated_images(directory: Path, model_dir: Optional[PathLike] = None,
                     path: Path = LABELS
                     ) -> Iterator[Tuple[str, str, np.ndarray, LabelledImage]]:
    """Yield (name, source, (H, W, 3) uint8 RGB, labels): the photographs, then composites."""
    yield from photographs(directory, path)
    for composite in composites(directory, model_dir, path):
        yield composite.labels.name, SOURCE, composite.rgb, composite.labels
