"""
Pinhole camera with lens distortion, built from plain values with sensor_msgs/CameraInfo rules.

Pixel coordinates follow OpenCV and ROS: the centre of the top-left pixel is (0, 0), u to
the right, v down. K and D always describe the full-resolution sensor; ``binning`` and
``roi`` say how the delivered image was taken from it (sensor_msgs/CameraInfo): a delivered
pixel (u, v) is the sensor pixel (u * binning_x + roi_x, v * binning_y + roi_y), as
image_geometry's PinholeCameraModel treats it. The rectification matrix R and projection P
are not used: outputs are in the camera's own optical frame (x right, y down, z forward),
the frame of the image's ``header.frame_id``.
"""

from dataclasses import dataclass
import math
from typing import List, Sequence, Tuple

import cv2
import numpy as np
import torch

#: Horizontal field of view assumed when the camera is not calibrated (K all zero or not
#: finite): 60 degrees, typical of webcams and robot head cameras (MeTRAbs assumes 55 degrees
#: on the larger side, 3DMPPE's demos f = 1500 px).
DEFAULT_HFOV_DEG = 60.0

#: Distortion models with the number of coefficients each uses (sensor_msgs
#: distortion_models.hpp); ``equidistant`` is OpenCV's fisheye model (k1..k4).
DISTORTION_MODELS = {'plumb_bob': 5, 'rational_polynomial': 8, 'equidistant': 4}


#: Stop rule of the iterative undistortion: 1e-12 change or 100 iterations (OpenCV's
#: default of 5 iterations leaves 0.01 px errors at strong barrel distortion).
UNDISTORT_CRITERIA = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-12)
#: Newton steps of the equidistant model's undistortion (OpenCV's fisheye default: 10).
FISHEYE_NEWTON_STEPS = 10
#: Newton steps of the plumb_bob model's undistortion on the device: from the distorted
#: point, 5 reached OpenCV's answer to 1e-11 px over a whole 640 x 480 image for lenses
#: from k1 = 0.1 to k1 = -0.4 (test/unit/test_camera.py); one more for a margin.
PLUMB_BOB_NEWTON_STEPS = 6
#: Under this Jacobian determinant the lens folds back on itself (a strong lens far off
#: axis), and a Newton step longer than this (normalised units) leaves the lens' range:
#: there the undistortion takes OpenCV's fixed-point step instead.
NEWTON_MIN_DETERMINANT = 0.02
NEWTON_MAX_STEP = 0.25


@dataclass(frozen=True, eq=False)
class CameraModel:
    """
    Intrinsics and distortion of the camera that took an image.

    Build it with :meth:`from_values` (CameraInfo fields) or :meth:`from_hfov`.

    Attributes
    ----------
    width, height
        Size of the delivered image in pixels (after binning and ROI).
    k
        (3, 3) full-resolution camera matrix, pixels.
    d
        Distortion coefficients of ``distortion_model`` (empty: none).
    distortion_model
        One of :data:`DISTORTION_MODELS`.
    binning
        (binning_x, binning_y), each at least 1.
    roi_offset
        (x_offset, y_offset) of the delivered window on the sensor, full-resolution pixels.
    calibrated
        False when the intrinsics were assumed from a field of view.

    """

    width: int
    height: int
    k: np.ndarray
    d: np.ndarray
    distortion_model: str
    binning: Tuple[int, int]
    roi_offset: Tuple[int, int]
    calibrated: bool

    @classmethod
    def from_hfov(cls, width: int, height: int,
                  hfov_deg: float = DEFAULT_HFOV_DEG) -> 'CameraModel':
        """Assume square pixels, principal point at the image centre and no distortion."""
        _check_size(width, height)
        if not 0.0 < hfov_deg < 180.0:
            raise ValueError(f'horizontal field of view must be in (0, 180) degrees, '
                             f'got {hfov_deg}')
        focal = (width / 2.0) / math.tan(math.radians(hfov_deg) / 2.0)
        k = np.array([[focal, 0.0, (width - 1) / 2.0],
                      [0.0, focal, (height - 1) / 2.0],
                      [0.0, 0.0, 1.0]])
        return cls(width, height, k, np.zeros(0), 'plumb_bob', (1, 1), (0, 0), False)

    @classmethod
    def from_values(cls, width: int, height: int, k: Sequence[float],
                    d: Sequence[float] = (), distortion_model: str = 'plumb_bob',
                    binning_x: int = 0, binning_y: int = 0,
                    roi: Tuple[int, int, int, int] = (0, 0, 0, 0),
                    default_hfov_deg: float = DEFAULT_HFOV_DEG) -> 'CameraModel':
        """
        Build from CameraInfo values: ``k`` row-major 3 x 3, ``roi`` (x, y, width, height).

        ``width`` and ``height`` are CameraInfo's (the full sensor); the model's own size is
        that of the delivered image: the ROI (all zero: the full sensor) divided by binning.

        Binning 0 means 1, as in CameraInfo. A K that is all zero or not finite means the
        camera is not calibrated: the model then assumes ``default_hfov_deg`` over the
        delivered image and no distortion (``calibrated`` is False).

        Raises
        ------
        ValueError
            Sizes are not positive, K is not 3 x 3, the distortion model is unknown while
            coefficients are given, or the coefficients are not finite.

        """
        _check_size(width, height)
        k_matrix = np.asarray(k, dtype=np.float64).reshape(-1)
        if k_matrix.size != 9:
            raise ValueError(f'K must have 9 values, got {k_matrix.size}')
        k_matrix = k_matrix.reshape(3, 3)
        binning = (max(1, int(binning_x)), max(1, int(binning_y)))
        delivered = (int(roi[2] or width) // binning[0], int(roi[3] or height) // binning[1])
        if not np.all(np.isfinite(k_matrix)) or not np.any(k_matrix):
            return cls.from_hfov(delivered[0], delivered[1], default_hfov_deg)
        if k_matrix[0, 0] <= 0 or k_matrix[1, 1] <= 0:
            raise ValueError(f'K must have positive focal lengths, got fx={k_matrix[0, 0]}, '
                             f'fy={k_matrix[1, 1]}')
        coefficients = np.asarray(d, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(coefficients)):
            raise ValueError('distortion coefficients must be finite')
        if not np.any(coefficients):
            coefficients = np.zeros(0)
        elif distortion_model not in DISTORTION_MODELS:
            raise ValueError(f'unknown distortion model {distortion_model!r}; expected one of '
                             f'{sorted(DISTORTION_MODELS)}')
        elif distortion_model == 'equidistant' and coefficients.size != 4:
            raise ValueError(f'equidistant needs 4 coefficients, got {coefficients.size}')
        return cls(delivered[0], delivered[1], k_matrix, coefficients, distortion_model,
                   binning, (int(roi[0]), int(roi[1])), True)

    @property
    def intrinsics(self) -> Tuple[float, float, float, float]:
        """(fx, fy, cx, cy) of the delivered image in pixels (binning and ROI applied)."""
        (bx, by), (ox, oy) = self.binning, self.roi_offset
        return (self.k[0, 0] / bx, self.k[1, 1] / by,
                (self.k[0, 2] - ox) / bx, (self.k[1, 2] - oy) / by)

    def normalised(self, pixels: np.ndarray) -> np.ndarray:
        """
        Undistort delivered-image pixels to normalised rays.

        ``pixels`` is (..., 2) (u, v); the result has the same shape and holds (x/z, y/z)
        of the ray through each pixel in the camera optical frame (unitless).
        """
        points = np.asarray(pixels, dtype=np.float64)
        shape = points.shape
        if points.size == 0:  # OpenCV's undistortion returns None for no points
            return points.copy()
        sensor = points.reshape(-1, 1, 2) * self.binning + self.roi_offset
        if self.d.size == 0:
            rays = (sensor - self.k[:2, 2]) / np.diag(self.k)[:2]
        elif self.distortion_model == 'equidistant':
            rays = cv2.fisheye.undistortPoints(sensor, self.k, self.d)
        else:
            rays = cv2.undistortPoints(sensor, self.k, self.d, None, None, None,
                                       UNDISTORT_CRITERIA)
        return rays.reshape(shape)

    @property
    def distorted(self) -> bool:
        """Return True when the lens has non-zero distortion coefficients."""
        return self.d.size > 0

    def distort(self, pinhole: torch.Tensor) -> torch.Tensor:
        """
        Map pixels of the ideal pinhole camera to pixels of the delivered image.

        The ideal camera has the delivered image's :attr:`intrinsics` and no distortion;
        ``pinhole`` is (..., 2) pixels of it, any float dtype and device. Returns the same
        shape: where the lens puts those rays in the delivered image (the inverse of
        :meth:`normalised` followed by the intrinsics). Without distortion this is the
        identity.
        """
        if not self.distorted:
            return pinhole
        fx, fy, cx, cy = self.intrinsics  # Python numbers: no values copied to the device
        x, y = (pinhole[..., 0] - cx) / fx, (pinhole[..., 1] - cy) / fy
        if self.distortion_model == 'equidistant':
            r = torch.sqrt(x * x + y * y)
            theta_d, _ = _fisheye(torch.atan(r), self._coefficients)
            scale = torch.where(r > 1e-12, theta_d / r.clamp(min=1e-12), torch.ones_like(r))
            xd, yd = x * scale, y * scale
        else:
            xd, yd, _, _ = _plumb_bob(x, y, self._coefficients)
        return torch.stack([xd * fx + cx, yd * fy + cy], -1)

    @property
    def _coefficients(self) -> List[float]:
        """Return the distortion coefficients as Python numbers, plumb_bob's padded to 8."""
        d = [float(v) for v in self.d]
        return d if self.distortion_model == 'equidistant' else d + [0.0] * (8 - len(d))

    def undistort(self, delivered: torch.Tensor) -> torch.Tensor:
        """
        Map pixels of the delivered image to pixels of the ideal pinhole camera.

        The inverse of :meth:`distort`, on the tensor's device and dtype, by a fixed number
        of Newton steps (plumb_bob: :data:`PLUMB_BOB_NEWTON_STEPS`, where OpenCV's
        ``undistortPoints`` needs about 30 of its fixed-point steps at the corners of a
        k1 = -0.28 lens; equidistant: OpenCV's own Newton steps): no step waits for the
        device. Without distortion this is the identity.
        """
        if not self.distorted:
            return delivered
        fx, fy, cx, cy = self.intrinsics
        x0, y0 = (delivered[..., 0] - cx) / fx, (delivered[..., 1] - cy) / fy
        k = self._coefficients
        if self.distortion_model == 'equidistant':
            theta_d = torch.sqrt(x0 * x0 + y0 * y0).clamp(max=math.pi / 2)
            theta = theta_d.clone()
            for _ in range(FISHEYE_NEWTON_STEPS):
                value, slope = _fisheye(theta, k)
                theta = theta - (value - theta_d) / slope
            scale = torch.where(theta_d > 1e-8, torch.tan(theta) / theta_d.clamp(min=1e-8),
                                torch.ones_like(theta_d))
            x, y = x0 * scale, y0 * scale
        else:
            x, y = x0, y0
            for _ in range(PLUMB_BOB_NEWTON_STEPS):  # solve distort(x, y) = (x0, y0)
                xd, yd, radial, slope = _plumb_bob(x, y, k)
                # The Jacobian of (xd, yd) by (x, y): d radial / d r2 is the slope.
                a = radial + 2 * x * x * slope + 2 * k[2] * y + 6 * k[3] * x
                b = 2 * x * y * slope + 2 * k[2] * x + 2 * k[3] * y
                e = radial + 2 * y * y * slope + 6 * k[2] * y + 2 * k[3] * x
                ex, ey = x0 - xd, y0 - yd
                determinant = a * e - b * b
                # Where the lens folds (the Jacobian turns singular) or the step is long,
                # OpenCV's fixed-point step instead: bounded, as OpenCV's answer is there.
                safe = torch.where(determinant > NEWTON_MIN_DETERMINANT, determinant,
                                   torch.ones_like(determinant))
                step_x, step_y = (e * ex - b * ey) / safe, (a * ey - b * ex) / safe
                newton = ((determinant > NEWTON_MIN_DETERMINANT) &
                          (step_x * step_x + step_y * step_y < NEWTON_MAX_STEP ** 2))
                x, y = (torch.where(newton, x + step_x, (x0 - (xd - x * radial)) / radial),
                        torch.where(newton, y + step_y, (y0 - (yd - y * radial)) / radial))
        return torch.stack([x * fx + cx, y * fy + cy], -1)


def _fisheye(theta: torch.Tensor, d: List[float]) -> Tuple[torch.Tensor, torch.Tensor]:
    """Return the equidistant model's distorted angle of ``theta`` and its derivative."""
    t2 = theta * theta
    value = theta * (1 + t2 * (d[0] + t2 * (d[1] + t2 * (d[2] + t2 * d[3]))))
    slope = 1 + t2 * (3 * d[0] + t2 * (5 * d[1] + t2 * (7 * d[2] + t2 * 9 * d[3])))
    return value, slope


def _plumb_bob(x: torch.Tensor, y: torch.Tensor, k: List[float]) -> Tuple[torch.Tensor, ...]:
    """
    Return the plumb_bob (rational) model at normalised (x, y): xd, yd, radial, slope.

    ``k`` (k1 k2 p1 p2 k3 k4 k5 k6); ``radial`` the radial factor and ``slope`` its
    derivative by r2, for the Jacobian of :meth:`CameraModel.undistort`.
    """
    r2 = x * x + y * y
    above = 1 + r2 * (k[0] + r2 * (k[1] + r2 * k[4]))
    below = 1 + r2 * (k[5] + r2 * (k[6] + r2 * k[7]))
    radial = above / below
    slope = ((k[0] + r2 * (2 * k[1] + 3 * k[4] * r2)) * below -
             (k[5] + r2 * (2 * k[6] + 3 * k[7] * r2)) * above) / (below * below)
    xd = x * radial + 2 * k[2] * x * y + k[3] * (r2 + 2 * x * x)
    yd = y * radial + k[2] * (r2 + 2 * y * y) + 2 * k[3] * x * y
    return xd, yd, radial, slope


def _check_size(width: int, height: int) -> None:
    if int(width) <= 0 or int(height) <= 0:
        raise ValueError(f'image size must be positive, got {width} x {height}')
