"""decode_image: every Pillow mode to gray/RGB, the same face from a path, bytes or an array."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageCms

from fer_engine.data import ImageDecodeError, decode_image

ORANGE = (200, 100, 50)
ORANGE_GRAY = Image.new("RGB", (1, 1), ORANGE).convert("L").getpixel((0, 0))  # ITU-R 601 luma


def tiff_of(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "TIFF")
    return buf.getvalue()


def orange(mode: str) -> Image.Image:
    rgb = Image.new("RGB", (10, 10), ORANGE)
    if mode == "LAB":
        to_lab = ImageCms.buildTransform(ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB"), "RGB", "LAB")
        return ImageCms.applyTransform(rgb, to_lab)
    if mode in ("P", "PA"):  # an exact palette entry, not the dithered web palette
        return rgb.convert("P", palette=Image.Palette.ADAPTIVE).convert(mode)
    return rgb.convert(mode)


@pytest.mark.parametrize("mode", ["RGB", "CMYK", "YCbCr", "LAB", "P", "PA", "RGBA"])
def test_colour_modes_give_the_same_rgb_and_gray(mode):
    data = tiff_of(orange(mode))
    assert Image.open(io.BytesIO(data)).mode == mode
    rgb = decode_image(data, 8, 3).astype(int)
    assert np.abs(rgb - ORANGE).max() <= 6
    assert abs(int(decode_image(data, 8, 1)[0, 0, 0]) - ORANGE_GRAY) <= 3


@pytest.mark.parametrize("mode, value, expected", [
    ("L", 124, 124), ("LA", 124, 124), ("I", 124, 124), ("F", 124.0, 124),
    ("I;16B", 124 * 257, 124), ("I;16", 124 * 257, 124),
])
def test_gray_modes_and_bit_depths(mode, value, expected):
    data = tiff_of(Image.new(mode, (10, 10), value))
    assert decode_image(data, 8, 1)[..., 0].tolist() == [[expected] * 8] * 8
    assert (decode_image(data, 8, 3) == expected).all()


def test_path_bytes_and_array_give_the_same_face(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (30, 20, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "f.png")
    from_path = decode_image(tmp_path / "f.png", 16, 3)
    assert from_path.shape == (16, 16, 3) and from_path.dtype == np.uint8
    assert np.array_equal(from_path, decode_image((tmp_path / "f.png").read_bytes(), 16, 3))
    assert np.array_equal(from_path, decode_image(rgb, 16, 3))
    assert np.array_equal(decode_image(str(tmp_path / "f.png"), 16, 1), decode_image(rgb, 16, 1))


def test_float_and_uint16_arrays():
    assert (decode_image(np.full((4, 4), 0.5), 4, 1) == 128).all()
    assert (decode_image(np.full((4, 4, 3), 257 * 10, np.uint16), 4, 3) == 10).all()


def test_a_same_size_gray_face_is_returned_unchanged():
    face = np.random.default_rng(1).integers(0, 256, (48, 48), dtype=np.uint8)
    assert np.array_equal(decode_image(face, 48, 1)[..., 0], face)


@pytest.mark.parametrize("source, message", [
    (np.zeros((4, 4, 2), np.uint8), r"expected an \(H, W\), \(H, W, 1\), \(H, W, 3\) or \(H, W, 4\) array"),
    (np.zeros((4, 4), np.int64), "unsupported dtype"),
    (b"", r"empty data \(0 bytes\)"),
    ("/no/such/face.png", r"face\.png: file not found"),
])
def test_bad_sources_name_the_problem(source, message):
    with pytest.raises(ImageDecodeError, match=message):
        decode_image(source, 8, 1)


def test_bad_arguments():
    with pytest.raises(ValueError, match="channels must be 1 or 3"):
        decode_image(np.zeros((4, 4), np.uint8), 8, 2)
