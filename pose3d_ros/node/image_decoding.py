"""
Turn sensor_msgs/Image and CompressedImage contents into RGB arrays, without cv_bridge.

Works on the messages' plain fields, so it needs neither rclpy nor the message packages.
The node uses cv_bridge instead where it can be imported. Encodings follow sensor_msgs'
``image_encodings`` (and cv_bridge's conversions: ``8UC3`` is taken as bgr8, 16-bit
grey is scaled to 8 bits, Bayer patterns are demosaiced with OpenCV).
"""

import array
import sys
from typing import Dict, Tuple, Union

import cv2
import numpy as np

# encoding -> (channels, dtype, conversion to RGB or None when already RGB).
_ENCODINGS: Dict[str, Tuple[int, type, object]] = {
    'rgb8': (3, np.uint8, None),
    'bgr8': (3, np.uint8, cv2.COLOR_BGR2RGB),
    '8UC3': (3, np.uint8, cv2.COLOR_BGR2RGB),
    'rgba8': (4, np.uint8, cv2.COLOR_RGBA2RGB),
    'bgra8': (4, np.uint8, cv2.COLOR_BGRA2RGB),
    '8UC4': (4, np.uint8, cv2.COLOR_BGRA2RGB),
    'mono8': (1, np.uint8, cv2.COLOR_GRAY2RGB),
    '8UC1': (1, np.uint8, cv2.COLOR_GRAY2RGB),
    'mono16': (1, np.uint16, cv2.COLOR_GRAY2RGB),
    '16UC1': (1, np.uint16, cv2.COLOR_GRAY2RGB),
    'yuv422': (2, np.uint8, cv2.COLOR_YUV2RGB_UYVY),
    'uyvy': (2, np.uint8, cv2.COLOR_YUV2RGB_UYVY),
    'yuv422_yuy2': (2, np.uint8, cv2.COLOR_YUV2RGB_YUY2),
    'yuyv': (2, np.uint8, cv2.COLOR_YUV2RGB_YUY2),
    # OpenCV names a Bayer pattern after its second row's first two pixels.
    'bayer_rggb8': (1, np.uint8, cv2.COLOR_BayerBG2RGB),
    'bayer_bggr8': (1, np.uint8, cv2.COLOR_BayerRG2RGB),
    'bayer_gbrg8': (1, np.uint8, cv2.COLOR_BayerGR2RGB),
    'bayer_grbg8': (1, np.uint8, cv2.COLOR_BayerGB2RGB),
    'bayer_rggb16': (1, np.uint16, cv2.COLOR_BayerBG2RGB),
    'bayer_bggr16': (1, np.uint16, cv2.COLOR_BayerRG2RGB),
    'bayer_gbrg16': (1, np.uint16, cv2.COLOR_BayerGR2RGB),
    'bayer_grbg16': (1, np.uint16, cv2.COLOR_BayerGB2RGB),
}

SUPPORTED_ENCODINGS = tuple(_ENCODINGS)
#: Message data: bytes, or the array.array('B') of an rclpy message (not copied).
Buffer = Union[bytes, bytearray, memoryview, array.array]


def _pixels(encoding: str, width: int, height: int, step: int, is_bigendian: bool,
            data: Buffer, channels: int, dtype: type) -> np.ndarray:
    """Validate a raw image's layout; return its pixels (height, width, channels), native order."""
    if width <= 0 or height <= 0:
        raise ValueError(f'empty image ({width} x {height})')
    row_bytes = width * channels * np.dtype(dtype).itemsize
    if step < row_bytes:
        raise ValueError(f'step {step} is shorter than a row of {width} {encoding} pixels '
                         f'({row_bytes} bytes)')
    if len(data) != step * height:
        raise ValueError(f'data has {len(data)} bytes, expected step x height = '
                         f'{step} x {height} = {step * height}')
    rows = np.frombuffer(data, dtype=np.uint8).reshape(height, step)[:, :row_bytes]
    pixels = np.ascontiguousarray(rows).view(dtype).reshape(height, width, channels)
    if pixels.itemsize > 1 and bool(is_bigendian) != (sys.byteorder == 'big'):
        pixels = pixels.byteswap()
    return pixels


def decode_raw(encoding: str, width: int, height: int, step: int, is_bigendian: bool,
               data: Buffer) -> np.ndarray:
    """
    Convert a raw image to (height, width, 3) uint8 RGB.

    Rows are ``step`` bytes apart (padding after each row is ignored); 16-bit data whose
    byte order differs from this machine's is swapped, then scaled to 8 bits.

    Raises
    ------
    ValueError
        Unknown encoding, empty image, ``step`` shorter than a row, or a data length
        other than ``step * height``.

    """
    if encoding not in _ENCODINGS:
        raise ValueError(f'unsupported encoding {encoding!r}; supported: '
                         f'{", ".join(SUPPORTED_ENCODINGS)}')
    channels, dtype, conversion = _ENCODINGS[encoding]
    if encoding in ('yuv422', 'uyvy', 'yuv422_yuy2', 'yuyv') and width % 2:
        raise ValueError(f'{encoding} needs an even width, got {width}')
    pixels = _pixels(encoding, width, height, step, is_bigendian, data, channels, dtype)
    if pixels.dtype == np.uint16:
        if encoding.startswith('bayer_'):
            pixels = cv2.cvtColor(pixels, conversion)
            conversion = None
        pixels = (pixels.astype(np.uint32) // 257).astype(np.uint8)
    if conversion is not None:
        pixels = cv2.cvtColor(pixels, conversion)
    return np.ascontiguousarray(pixels)


def decode_depth(encoding: str, width: int, height: int, step: int, is_bigendian: bool,
                 data: Buffer) -> np.ndarray:
    """
    Convert a depth image to (height, width) float32 metres (REP 118 encodings).

    ``16UC1`` (and ``mono16``) hold millimetres, ``32FC1`` metres; zeros and NaN are kept
    (they mean "no measurement").

    Raises
    ------
    ValueError
        Another encoding, or a malformed layout (as :func:`decode_raw`).

    """
    if encoding in ('16UC1', 'mono16'):
        pixels = _pixels(encoding, width, height, step, is_bigendian, data, 1, np.uint16)
        return pixels[:, :, 0].astype(np.float32) / 1000.0
    if encoding == '32FC1':
        pixels = _pixels(encoding, width, height, step, is_bigendian, data, 1, np.float32)
        return np.ascontiguousarray(pixels[:, :, 0])
    raise ValueError(f'depth encoding must be 16UC1 (millimetres) or 32FC1 (metres), '
                     f'got {encoding!r}')


def decode_compressed(format_name: str, data: Buffer) -> np.ndarray:
    """
    Decode a CompressedImage (jpeg or png, as ``format`` says) to (H, W, 3) uint8 RGB.

    Raises
    ------
    ValueError
        The bytes are not a decodable image.

    """
    buffer = np.frombuffer(data, dtype=np.uint8)
    bgr = cv2.imdecode(buffer, cv2.IMREAD_COLOR) if buffer.size else None
    if bgr is None:
        raise ValueError(f'cannot decode compressed image (format {format_name!r}, '
                         f'{len(data)} bytes)')
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
