"""The one image conversion used by training, analysis and the live page.

`decode_image` turns any Pillow-readable file (or encoded bytes, or an RGB/gray array) into a
`(size, size, channels)` uint8 face, so a face dropped on the analysis page or grabbed from
the camera is converted exactly like the training data.
"""
from __future__ import annotations

import io
import os
from typing import IO, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import printable

#: File suffixes treated as images when scanning dataset folders (others are ignored).
IMAGE_SUFFIXES = frozenset({
    ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp",
    ".pgm", ".ppm", ".pbm", ".pnm", ".tga", ".ico", ".jp2", ".j2k",
})
#: Resampling filter: antialiased when shrinking photos, smooth when enlarging tiny faces.
RESAMPLE = Image.Resampling.BICUBIC

ImageSource = Union[str, os.PathLike, bytes, bytearray, memoryview, np.ndarray]


class ImageDecodeError(ValueError):
    """An image that cannot be converted; names the file and the reason."""

    def __init__(self, source: str, reason: str):
        self.source, self.reason = source, reason
        super().__init__(printable(f"cannot read image {source}: {reason}"))


def is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES


def decode_image(source: ImageSource, size: int, channels: int,
                 box: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """`source` as a `(size, size, channels)` uint8 array (channels 1 = gray, 3 = RGB).

    source: a file path, encoded image bytes, or an array (H, W), (H, W, 1|3|4) holding
    gray/RGB/RGBA values (uint8, uint16, or floats in [0, 1]; OpenCV frames are BGR and must
    be converted to RGB first). The whole image is resized (or only `box` = (left, top, right,
    bottom), clipped to the image, for datasets that give face boxes); 16-bit data is scaled to
    8 bits; transparent pixels are composited on black; EXIF orientation is applied.
    """
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    if size < 1:
        raise ValueError(f"size must be positive, got {size}")
    if isinstance(source, np.ndarray):
        image = _image_from_array(source)
        name = f"<array {source.shape} {source.dtype}>"
    else:
        image, name = _open(source, size if box is None else 0)
    try:
        if box is not None:
            image = _crop(image, box, name)
        image = convert_mode(image, "L" if channels == 1 else "RGB")
        if image.size != (size, size):
            image = image.resize((size, size), RESAMPLE, reducing_gap=3.0)
        out = np.asarray(image, dtype=np.uint8)
    except ImageDecodeError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        raise ImageDecodeError(name, _reason(e)) from None
    return out.reshape(size, size, channels)


def read_rgb(source: ImageSource) -> np.ndarray:
    """A whole image file (any file name) or encoded bytes at full size as (H, W, 3) uint8
    RGB; ImageDecodeError says why a truncated or corrupt file cannot be read."""
    image, name = _open(source, 0)
    try:
        return np.asarray(convert_mode(image, "RGB"), dtype=np.uint8)
    except (OSError, ValueError, SyntaxError) as e:
        raise ImageDecodeError(name, _reason(e)) from None


def to_stored_format(faces, size: int, channels: int) -> np.ndarray:
    """uint8 faces (B, H, W[, C]), any size, RGB or gray -> (B, size, size, channels).

    Each face goes through `decode_image`, so a face from the camera is converted exactly
    like the training data (the run predictor and exported models use this).
    """
    out = np.empty((len(faces), size, size, channels), np.uint8)
    for i, face in enumerate(faces):
        out[i] = decode_image(np.asarray(face), size, channels)
    return out


def _open(source, size: int) -> tuple[Image.Image, str]:
    """Open and fully decode a path or bytes, with a reason for every failure."""
    stream: IO[bytes]
    if isinstance(source, (bytes, bytearray, memoryview)):
        name, stream = "<bytes>", io.BytesIO(bytes(source))
        if not len(source):
            raise ImageDecodeError(name, "empty data (0 bytes)")
    else:
        name = os.fsdecode(source) if isinstance(source, (str, bytes, os.PathLike)) else str(source)
        try:
            if os.path.getsize(source) == 0:
                raise ImageDecodeError(name, "empty file (0 bytes)")
            stream = open(source, "rb")
        except FileNotFoundError:
            raise ImageDecodeError(name, "file not found (or a broken link)") from None
        except IsADirectoryError:
            raise ImageDecodeError(name, "is a folder, not an image") from None
        except OSError as e:
            raise ImageDecodeError(name, e.strerror or str(e)) from None
    try:
        with stream:
            image = Image.open(stream)
            if image.format == "JPEG" and size and min(image.size) >= 2 * size:
                image.draft(None, (size, size))  # DCT-domain downscale: big photos decode fast
            image.load()
        return ImageOps.exif_transpose(image), name
    except UnidentifiedImageError:
        raise ImageDecodeError(name, "not an image file Pillow can read") from None
    except Image.DecompressionBombError as e:
        raise ImageDecodeError(name, f"too large to decode safely ({e})") from None
    except (OSError, ValueError, SyntaxError, EOFError) as e:
        raise ImageDecodeError(name, _reason(e)) from None


def _crop(image: Image.Image, box: tuple[int, int, int, int], name: str) -> Image.Image:
    left, top = max(0, box[0]), max(0, box[1])
    right, bottom = min(image.width, box[2]), min(image.height, box[3])
    if right <= left or bottom <= top:
        raise ImageDecodeError(name, f"face box {tuple(box)} lies outside the {image.width}x{image.height} image")
    return image.crop((left, top, right, bottom))


def _reason(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    if "truncated" in text.lower():
        return f"truncated or corrupt image data ({text})"
    return text


def convert_mode(image: Image.Image, mode: str) -> Image.Image:
    """Any Pillow mode as L or RGB: 16/32-bit scaled to 8 bits, alpha composited on black."""
    m = image.mode
    if m in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        a = np.asarray(image, dtype=np.float64)
        # 16-bit data is scaled; a 32-bit "I" image holding 8-bit values (max <= 255) is kept
        scale = 1.0 if m == "I" and np.max(a, initial=0.0) <= 255 else 257.0
        image = Image.fromarray(np.clip(np.rint(a / scale), 0, 255).astype(np.uint8), "L")
    elif m == "F":
        a = np.asarray(image, dtype=np.float64)
        scale = 255.0 if np.nanmax(a, initial=0.0) <= 1.0 else 1.0
        image = Image.fromarray(np.clip(np.rint(np.nan_to_num(a) * scale), 0, 255).astype(np.uint8), "L")
    elif m == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif m == "1":
        image = image.convert("L")
    elif m == "LAB":
        image = _lab_to_rgb(image)
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        image = _composite_on_black(image)
    if image.mode != mode:
        image = image.convert(mode)
    return image


def _lab_to_rgb(image: Image.Image) -> Image.Image:
    from PIL import ImageCms

    lab_to_srgb = ImageCms.buildTransform(ImageCms.createProfile("LAB"), ImageCms.createProfile("sRGB"),
                                          "LAB", "RGB")
    rgb = ImageCms.applyTransform(image, lab_to_srgb)
    assert rgb is not None  # None only when transforming in place
    return rgb


def _composite_on_black(image: Image.Image) -> Image.Image:
    """Premultiply by alpha; a fully transparent image keeps its colours (alpha was bogus)."""
    if image.mode in ("RGBa", "La"):
        return image.convert("RGB" if image.mode == "RGBa" else "L")
    rgba = image.convert("RGBA")
    a = np.asarray(rgba, dtype=np.uint16)
    alpha = a[..., 3:4]
    if not alpha.any():
        return rgba.convert("RGB")
    rgb = (a[..., :3] * alpha + 127) // 255
    return Image.fromarray(rgb.astype(np.uint8), "RGB")


def _image_from_array(a: np.ndarray) -> Image.Image:
    """A gray / RGB / RGBA array as a Pillow image (uint8, uint16 or floats in [0, 1])."""
    name = f"<array {a.shape} {a.dtype}>"
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (3, 4))) or a.size == 0:
        raise ImageDecodeError(name, "expected an (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) array")
    if a.dtype == np.uint8:
        pass
    elif a.dtype == np.uint16:
        a = np.rint(a / 257.0).astype(np.uint8)
    elif a.dtype == np.bool_:
        a = a.astype(np.uint8) * 255
    elif np.issubdtype(a.dtype, np.floating):
        a = np.clip(np.rint(np.nan_to_num(a.astype(np.float64)) * 255.0), 0, 255).astype(np.uint8)
    else:
        raise ImageDecodeError(name, "unsupported dtype (use uint8, uint16 or floats in [0, 1])")
    mode = {2: "L", 3: "RGB", 4: "RGBA"}[a.shape[2] if a.ndim == 3 else 2]
    return Image.fromarray(np.ascontiguousarray(a), mode)

