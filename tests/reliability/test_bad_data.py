"""Bad input in datasets (issue 8): each broken or unusual file gives the right face or a clear message."""
from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image

from fer_engine.config import DataConfig
from fer_engine.data import DatasetError, ImageDecodeError, decode_image, load_dataset
from fer_engine.data.report import dataset_report


def jpeg_bytes(array: np.ndarray, mode: str | None = None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array, mode).save(buf, "JPEG", quality=95)
    return buf.getvalue()


def gradient(h: int = 48, w: int = 48) -> np.ndarray:
    return np.tile(np.linspace(0, 255, w).astype(np.uint8), (h, 1))


def small_dataset(root, extra: dict[str, bytes]):
    """root/happy and root/sad with 3 good faces each, plus extra files (relative path -> bytes)."""
    for name in ("happy", "sad"):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(3):
            Image.fromarray(np.full((12, 12), 40 * i + (name == "sad") * 7, np.uint8)).save(root / name / f"{i}.png")
    for rel, data in extra.items():
        (root / rel).write_bytes(data)
    return root


def cfg(path, tmp_path, **kw) -> DataConfig:
    return DataConfig(path=str(path), image_size=16, cache_dir=str(tmp_path / "cache"), **kw)


# -- single files -----------------------------------------------------------------------------------
def test_truncated_jpeg_is_named_and_skipped(tmp_path):
    data = jpeg_bytes(gradient())
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageDecodeError, match=r"cannot read image .*cut\.jpg: truncated or corrupt image data"):
        decode_image(path, 48, 1)
    d = load_dataset(cfg(small_dataset(tmp_path / "ds", {"happy/cut.jpg": path.read_bytes()}), tmp_path))
    assert len(d.images) == 6
    assert [(os.path.basename(p), "truncated" in r) for p, r in d.unreadable] == [("cut.jpg", True)]
    assert any("skipped 1 unreadable file(s)" in n and "cut.jpg" in n for n in d.notes)


def test_zero_byte_file(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageDecodeError, match=r"empty\.png: empty file \(0 bytes\)"):
        decode_image(tmp_path / "empty.png", 48, 1)


def test_text_file_named_png(tmp_path):
    (tmp_path / "notes.png").write_text("this is not an image\n")
    with pytest.raises(ImageDecodeError, match=r"notes\.png: not an image file Pillow can read"):
        decode_image(tmp_path / "notes.png", 48, 1)


def test_16_bit_png_is_scaled_to_8_bits(tmp_path):
    values = gradient().astype(np.uint16) * 257  # 0..65535
    Image.fromarray(values).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode.startswith("I")
    out = decode_image(tmp_path / "deep.png", 48, 1)
    assert np.array_equal(out[..., 0], gradient())
    rgb = decode_image(tmp_path / "deep.png", 48, 3)
    assert np.array_equal(rgb[..., 1], gradient())


def test_rgba_is_composited_on_black(tmp_path):
    rgba = np.zeros((48, 48, 4), np.uint8)
    rgba[..., :3] = (200, 100, 50)
    rgba[:, :24, 3] = 255
    rgba[:, 24:, 3] = 0
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    out = decode_image(tmp_path / "a.png", 48, 3)
    assert out[0, 0].tolist() == [200, 100, 50] and out[0, 47].tolist() == [0, 0, 0]
    gray = decode_image(tmp_path / "a.png", 48, 1)
    assert gray[0, 0, 0] == Image.new("RGB", (1, 1), (200, 100, 50)).convert("L").getpixel((0, 0))


def test_fully_transparent_image_keeps_its_colours():
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., :3] = 90
    assert decode_image(rgba, 8, 1).min() == 90


def test_cmyk_jpeg_is_converted_to_rgb(tmp_path):
    rgb = np.zeros((48, 48, 3), np.uint8)
    rgb[:, :24] = (220, 40, 40)
    rgb[:, 24:] = (30, 30, 200)
    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "print.jpg", quality=95)
    assert Image.open(tmp_path / "print.jpg").mode == "CMYK"
    out = decode_image(tmp_path / "print.jpg", 48, 3).astype(int)
    assert np.abs(out[10, 5] - (220, 40, 40)).max() < 12
    assert np.abs(out[10, 40] - (30, 30, 200)).max() < 12


def test_one_pixel_image_is_enlarged(tmp_path):
    Image.new("L", (1, 1), 77).save(tmp_path / "dot.png")
    out = decode_image(tmp_path / "dot.png", 48, 1)
    assert out.shape == (48, 48, 1) and (out == 77).all()


def test_large_photo_is_resized_whole(tmp_path):
    photo = np.zeros((3000, 4000, 3), np.uint8)
    photo[:, :2000] = 255  # left half white: the whole frame is kept, not centre-cropped
    (tmp_path / "photo.jpg").write_bytes(jpeg_bytes(photo))
    out = decode_image(tmp_path / "photo.jpg", 48, 1)[..., 0]
    assert out.shape == (48, 48)
    assert out[:, :20].min() > 240 and out[:, 28:].max() < 15


def test_non_utf8_file_name(tmp_path):
    root = small_dataset(tmp_path / "ds", {})
    name = os.path.join(os.fsencode(root / "happy"), b"caf\xe9-\xff.png")
    with open(name, "wb") as f:
        Image.fromarray(np.full((12, 12), 200, np.uint8)).save(f, "PNG")
    d = load_dataset(cfg(root, tmp_path))
    odd = [i for i, s in enumerate(d.sources) if "caf" in s]
    assert len(odd) == 1 and (d.images[odd[0]] == 200).all()
    assert os.path.exists(d.sources[odd[0]])  # the str path still opens the file
    again = load_dataset(cfg(root, tmp_path))  # through the cache (JSON with escapes)
    assert again.sources == d.sources
    r = dataset_report(str(root), cache_dir=str(tmp_path / "cache"), image_size=16)
    assert sum(c.get("happy", 0) for c in r.counts.values()) == 4
    assert os.fsdecode(b"caf\xe9-\xff.png") in [os.path.basename(p) for p, _ in r.near_blank]
    assert "caf\\xe9-\\xff.png (std 0.00)" in r.format_text()  # printable on any terminal
    r.format_text().encode("utf-8")


@pytest.mark.timeout(60)
def test_symlink_loops_do_not_hang(tmp_path):
    root = small_dataset(tmp_path / "ds", {})
    os.symlink("..", root / "happy" / "up")  # happy/up/happy/up/... forever
    os.symlink(root / "sad", root / "sad" / "again")
    os.symlink("self.png", root / "sad" / "self.png")  # a link to itself
    d = load_dataset(cfg(root, tmp_path))
    assert len(d.images) == 6  # the links back up are not followed: no loop, no relabelled copies
    assert [(os.path.basename(p), r) for p, r in d.unreadable] == [("self.png", "Too many levels of symbolic links")]


# -- the FER2013 CSV --------------------------------------------------------------------------------
def csv_rows(*rows: str) -> str:
    good = " ".join(["7"] * 2304)
    return "emotion,pixels,Usage\n" + "\n".join(r.replace("GOOD", good) for r in rows) + "\n"


@pytest.mark.parametrize("rows, message", [
    (["3,GOOD,Training", "3,1 2 3,Training"], r"line 3: 3 pixel values, expected 2304 \(48x48\)"),
    (["7,GOOD,Training", "-1,GOOD,PublicTest"],
     r"line 2: emotion 7 out of range 0-6; line 3: emotion -1 out of range 0-6"),
    (["3,GOOD,Training", "3,GOOD"], r"line 3: 2 column\(s\), expected 3"),
    (["happy,GOOD,Training"], r"line 2: emotion 'happy' is not an integer"),
    (["3,GOOD,Training", "3," + "1 " * 2000 + "x " + "1 " * 303 + ",Training"],
     r"line 3: pixel value 'x' is not an integer"),
    (["3,GOOD,Training", "3," + "300 " * 2304 + ",Training"], r"line 3: pixel values must lie in 0-255"),
    (["3,GOOD,Holdout"], r"line 2: Usage 'Holdout' is not Training, PublicTest or PrivateTest"),
])
def test_malformed_csv_rows_are_named_by_line(tmp_path, rows, message):
    path = tmp_path / "fer2013.csv"
    path.write_text(csv_rows(*rows))
    n_bad = message.count("line ")
    with pytest.raises(DatasetError, match=rf"fer2013\.csv: {n_bad} malformed row\(s\): {message}"):
        load_dataset(cfg(path, tmp_path))


def test_csv_without_the_fer2013_columns(tmp_path):
    (tmp_path / "other.csv").write_text("a,b,c\n1,2,3\n")
    with pytest.raises(DatasetError, match=r"line 1 must name the columns emotion,pixels\[,Usage\]; found a,b,c"):
        load_dataset(cfg(tmp_path / "other.csv", tmp_path))
