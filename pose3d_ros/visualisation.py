"""Pictures of a result: skeletons drawn on the image, and a 3D plot in the camera frame."""

from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from .estimation.result import FrameResult, Person
from .models.blazepose import VISIBILITY_THRESHOLD
from .style import colour, colour_bgr, label, person_id


def draw_skeletons(bgr: np.ndarray, persons: Sequence[Person],
                   min_visibility: float = VISIBILITY_THRESHOLD) -> np.ndarray:
    """Return a copy of ``bgr`` with each person's 2D skeleton, box and label drawn."""
    canvas = bgr.copy()
    scale = max(1, round(max(canvas.shape[:2]) / 640))
    for index, person in enumerate(persons):
        bgr_colour = colour_bgr(person_id(person, index))
        points = np.round(person.keypoints_2d).astype(int)
        for a, b in person.joint_set.edges:
            if min(person.visibility[a], person.visibility[b]) >= min_visibility:
                cv2.line(canvas, tuple(points[a]), tuple(points[b]), bgr_colour, 2 * scale,
                         cv2.LINE_AA)
        for point, visibility in zip(points, person.visibility):
            if visibility >= min_visibility:
                cv2.circle(canvas, tuple(point), 2 * scale, (255, 255, 255), -1, cv2.LINE_AA)
        x0, y0, x1, y1 = np.round(person.bbox).astype(int)
        cv2.rectangle(canvas, (x0, y0), (x1, y1), bgr_colour, scale)
        cv2.putText(canvas, label(person, index), (x0, max(0, y0 - 4 * scale)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.5 * scale, bgr_colour, scale, cv2.LINE_AA)
    return canvas


def render(bgr: np.ndarray, result: FrameResult, path: Path) -> None:
    """Write the image with its 2D skeletons beside a 3D plot of the persons to ``path``."""
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib import pyplot

    figure = pyplot.figure(figsize=(12, 5))
    image_axes = figure.add_subplot(1, 2, 1)
    image_axes.imshow(cv2.cvtColor(draw_skeletons(bgr, result.persons), cv2.COLOR_BGR2RGB))
    image_axes.set_axis_off()
    image_axes.set_title(f'{len(result.persons)} person(s)')
    axes = figure.add_subplot(1, 2, 2, projection='3d')
    for index, person in enumerate(result.persons):
        rgb_colour = colour(person_id(person, index))
        joints = person.joints_3d
        for a, b in person.joint_set.edges:
            # Plot x right, z (depth) into the page, -y up.
            axes.plot([joints[a, 0], joints[b, 0]], [joints[a, 2], joints[b, 2]],
                      [-joints[a, 1], -joints[b, 1]], color=rgb_colour)
    axes.scatter([0], [0], [0], color='k', marker='^')  # the camera
    axes.set_xlabel('x (m, right)')
    axes.set_ylabel('z (m, forward)')
    axes.set_zlabel('-y (m, up)')
    axes.set_title('camera optical frame')
    axes.set_aspect('equal')
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
