"""
Run MediaPipe's own legacy Pose solution on images; print its landmarks as JSON.

Executed by the interpreter of the isolated MediaPipe environment
(:mod:`pose3d_ros.evaluation.mediapipe_reference`), so it imports nothing from pose3d_ros.
Usage: ``python mediapipe_runner.py IMAGE...``. Output: one JSON object mapping each image
path to null (no person) or {"keypoints_2d": [[u, v] x 33] in pixels, "visibility":
[x 33], "world": [[x, y, z] x 33] in metres}.
"""

import json
import sys

import cv2
import mediapipe as mp


def main() -> None:
    """Process the images named on the command line in static-image mode."""
    results = {}
    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1,
                                enable_segmentation=False) as pose:
        for path in sys.argv[1:]:
            bgr = cv2.imread(path)
            height, width = bgr.shape[:2]
            found = pose.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            if found.pose_landmarks is None:
                results[path] = None
                continue
            image = found.pose_landmarks.landmark
            world = found.pose_world_landmarks.landmark
            results[path] = {
                # MediaPipe's CPU crops map normalised 0 to the first pixel's centre, so
                # x * width is the OpenCV pixel coordinate.
                'keypoints_2d': [[p.x * width, p.y * height] for p in image],
                'visibility': [p.visibility for p in image],
                'world': [[p.x, p.y, p.z] for p in world],
            }
    json.dump(results, sys.stdout)


if __name__ == '__main__':
    main()
