"""Raw and compressed image messages to RGB without cv_bridge."""

import cv2
import numpy as np
from pose3d_ros.node.image_decoding import decode_compressed, decode_raw, SUPPORTED_ENCODINGS
import pytest

RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, (6, 8, 3), dtype=np.uint8)


def padded(rows: np.ndarray, padding: int = 5) -> tuple:
    """Return (step, bytes) of a (H, row_bytes) array with padding after each row."""
    height = rows.shape[0]
    flat = rows.reshape(height, -1).view(np.uint8)
    out = np.zeros((height, flat.shape[1] + padding), np.uint8)
    out[:, :flat.shape[1]] = flat
    return out.shape[1], out.tobytes()


@pytest.mark.parametrize('encoding, source', [
    ('rgb8', RGB), ('bgr8', RGB[..., ::-1]), ('8UC3', RGB[..., ::-1]),
    ('rgba8', np.dstack([RGB, np.full((6, 8), 255, np.uint8)])),
    ('bgra8', np.dstack([RGB[..., ::-1], np.zeros((6, 8), np.uint8)])),
])
def test_colour_encodings_with_row_padding(encoding: str, source: np.ndarray) -> None:
    step, data = padded(np.ascontiguousarray(source))
    np.testing.assert_array_equal(decode_raw(encoding, 8, 6, step, False, data), RGB)


def test_grey_encodings() -> None:
    grey = RGB[..., 0]
    for encoding in ('mono8', '8UC1'):
        step, data = padded(grey)
        out = decode_raw(encoding, 8, 6, step, False, data)
        np.testing.assert_array_equal(out, np.dstack([grey] * 3))
    wide = grey.astype(np.uint16) * 257
    for bigendian in (False, True):
        raw = wide.astype('>u2' if bigendian else '<u2')
        out = decode_raw('mono16', 8, 6, 16, bigendian, raw.tobytes())
        np.testing.assert_array_equal(out[..., 1], grey)


def test_yuv_and_bayer_match_opencv() -> None:
    uyvy = RNG.integers(0, 256, (6, 8, 2), dtype=np.uint8)
    np.testing.assert_array_equal(decode_raw('yuv422', 8, 6, 16, False, uyvy.tobytes()),
                                  cv2.cvtColor(uyvy, cv2.COLOR_YUV2RGB_UYVY))
    np.testing.assert_array_equal(decode_raw('yuv422_yuy2', 8, 6, 16, False, uyvy.tobytes()),
                                  cv2.cvtColor(uyvy, cv2.COLOR_YUV2RGB_YUY2))
    # A red-only scene seen through an RGGB mosaic demosaics to red.
    mosaic = np.zeros((6, 8), np.uint8)
    mosaic[0::2, 0::2] = 200
    out = decode_raw('bayer_rggb8', 8, 6, 8, False, mosaic.tobytes())
    assert out[2:4, 2:6, 0].min() > 150 and out[2:4, 2:6, 1:].max() < 60
    assert decode_raw('bayer_grbg16', 8, 6, 16, False,
                      (mosaic.astype(np.uint16) * 257).tobytes()).dtype == np.uint8


@pytest.mark.parametrize('arguments, message', [
    (('32FC1', 8, 6, 32, False, bytes(192)), 'unsupported encoding'),
    (('weird', 8, 6, 24, False, bytes(144)), 'unsupported encoding'),
    (('rgb8', 0, 0, 0, False, b''), 'empty'),
    (('rgb8', 8, 6, 20, False, bytes(120)), 'shorter than a row'),
    (('rgb8', 8, 6, 24, False, bytes(143)), 'expected step x height'),
    (('yuv422', 7, 6, 14, False, bytes(84)), 'even width'),
])
def test_malformed_messages_raise(arguments: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_raw(*arguments)


def test_compressed_round_trip() -> None:
    ok, png = cv2.imencode('.png', cv2.cvtColor(RGB, cv2.COLOR_RGB2BGR))
    assert ok
    np.testing.assert_array_equal(decode_compressed('png', png.tobytes()), RGB)
    ok, jpeg = cv2.imencode('.jpg', cv2.cvtColor(RGB, cv2.COLOR_RGB2BGR))
    assert decode_compressed('rgb8; jpeg compressed bgr8', jpeg.tobytes()).shape == (6, 8, 3)
    with pytest.raises(ValueError, match='cannot decode'):
        decode_compressed('jpeg', b'not a jpeg')
    with pytest.raises(ValueError, match='cannot decode'):
        decode_compressed('jpeg', b'')


def test_every_listed_encoding_decodes() -> None:
    for encoding in SUPPORTED_ENCODINGS:
        wide = '16' in encoding
        channels = {'rgb8': 3, 'bgr8': 3, '8UC3': 3, 'rgba8': 4, 'bgra8': 4, '8UC4': 4}.get(
            encoding, 2 if encoding in ('yuv422', 'uyvy', 'yuv422_yuy2', 'yuyv') else 1)
        step = 8 * channels * (2 if wide else 1)
        out = decode_raw(encoding, 8, 6, step, False, bytes(step * 6))
        assert out.shape == (6, 8, 3) and out.dtype == np.uint8, encoding
