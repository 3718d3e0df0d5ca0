from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from redact.errors import MediaError
from redact.io.image import encode_image, probe_image, read_image


def gps_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"
    exif[0x0110] = "X1"
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    return exif.tobytes()


def save(tmp_path, name, arr, fmt, **params):
    path = tmp_path / name
    Image.fromarray(arr).save(path, format=fmt, **params)
    return path


@pytest.fixture
def rgb() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)


ALL_FORMATS = [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp"), ("TIFF", "tif"), ("BMP", "bmp")]


@pytest.mark.parametrize("fmt, ext", ALL_FORMATS)
def test_roundtrip_keeps_format_and_size(tmp_path, rgb, fmt, ext) -> None:
    path = save(tmp_path, f"a.{ext}", rgb, fmt)
    img = read_image(path, 10**8)
    assert img.format == fmt and (img.width, img.height) == (60, 40)
    blob = encode_image(img, img.bgr, quality=95, keep_metadata=False)
    back = Image.open(io.BytesIO(blob))
    assert back.format == fmt and back.size == (60, 40)
    if fmt in ("PNG", "TIFF", "BMP"):  # lossless formats give back the exact pixels
        np.testing.assert_array_equal(np.asarray(back.convert("RGB")), rgb)


@pytest.mark.parametrize("fmt, ext", [("JPEG", "jpg"), ("WEBP", "webp"), ("PNG", "png"), ("TIFF", "tif")])
def test_metadata_stripped_by_default(tmp_path, rgb, fmt, ext) -> None:
    params = {"exif": gps_exif()}
    if fmt == "JPEG":
        params["comment"] = b"source: Jane"
    path = save(tmp_path, f"a.{ext}", rgb, fmt, **params)
    assert Image.open(path).getexif().get(0x010F) == "SpyCam"
    img = read_image(path, 10**8)
    blob = encode_image(img, img.bgr, quality=95, keep_metadata=False)
    out = Image.open(io.BytesIO(blob))
    exif = out.getexif()
    assert 0x8825 not in exif and 0x010F not in exif and 0x0110 not in exif
    assert b"SpyCam" not in blob and b"Jane" not in blob
    assert "comment" not in out.info and "xmp" not in out.info


def test_keep_metadata_is_opt_in(tmp_path, rgb) -> None:
    path = save(tmp_path, "a.jpg", rgb, "JPEG", exif=gps_exif())
    img = read_image(path, 10**8)
    blob = encode_image(img, img.bgr, quality=95, keep_metadata=True)
    assert Image.open(io.BytesIO(blob)).getexif().get(0x010F) == "SpyCam"


def test_icc_profile_kept(tmp_path, rgb) -> None:
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = save(tmp_path, "a.jpg", rgb, "JPEG", icc_profile=icc)
    img = read_image(path, 10**8)
    out = Image.open(io.BytesIO(encode_image(img, img.bgr, quality=95, keep_metadata=False)))
    assert out.info.get("icc_profile") == icc


def test_cmyk_profile_not_carried_onto_rgb(tmp_path, rgb) -> None:
    # A CMYK profile describes ink values: on the RGB output it would make viewers misread colours.
    path = tmp_path / "c.jpg"
    Image.fromarray(rgb).convert("CMYK").save(path, icc_profile=b"not a usable profile")
    img = read_image(path, 10**8)
    assert img.icc_profile is None and img.alpha is None
    assert any("CMYK colour converted to RGB" in w for w in img.warnings)
    out = Image.open(io.BytesIO(encode_image(img, img.bgr, quality=95, keep_metadata=False)))
    assert out.mode == "RGB" and "icc_profile" not in out.info


def test_cmyk_converted_through_its_profile(tmp_path, rgb, monkeypatch) -> None:
    from PIL import ImageCms

    seen: dict[str, object] = {}

    def transform(im, source, target, outputMode):  # noqa: N803 - Pillow's keyword
        seen["mode"], seen["out"] = im.mode, outputMode
        return Image.new("RGB", im.size, (10, 20, 30))

    monkeypatch.setattr(ImageCms, "ImageCmsProfile", lambda f: object())
    monkeypatch.setattr(ImageCms, "profileToProfile", transform)
    path = tmp_path / "c.tif"
    Image.fromarray(rgb).convert("CMYK").save(path, icc_profile=b"a CMYK profile")
    img = read_image(path, 10**8)
    assert seen == {"mode": "CMYK", "out": "RGB"}
    assert img.bgr[0, 0].tolist() == [30, 20, 10] and img.icc_profile is None
    assert any("sRGB through its ICC profile" in w for w in img.warnings)


def test_lab_has_no_alpha(tmp_path, rgb) -> None:
    path = tmp_path / "l.tif"
    Image.fromarray(rgb).convert("LAB").save(path)
    img = read_image(path, 10**8)
    assert img.alpha is None and img.bgr.shape == (40, 60, 3)
    out = Image.open(io.BytesIO(encode_image(img, img.bgr, quality=95, keep_metadata=False)))
    assert out.mode == "RGB"


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA"])
def test_avif_is_written_back_as_avif_with_its_alpha(tmp_path, rgb, mode) -> None:
    path = tmp_path / "a.avif"
    Image.fromarray(rgb).convert(mode).save(path, quality=90)
    img = read_image(path, 10**8)
    assert img.format == "AVIF"
    out = Image.open(io.BytesIO(encode_image(img, img.bgr, quality=90, keep_metadata=False)))
    assert out.format == "AVIF" and out.size == (60, 40)
    assert ("A" in out.mode) == (img.alpha is not None)


def test_16_bit_colour_is_reduced_with_a_note(tmp_path) -> None:
    import struct
    import zlib

    w, h = 8, 4
    arr = (np.arange(w * h * 3).reshape(h, w, 3) * 997 % 65535).astype(">u2")
    raw = b"".join(b"\x00" + arr[y].tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    path = tmp_path / "deep.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    img = read_image(path, 10**8)
    assert img.bgr.dtype == np.uint8 and any("16-bit colour" in n for n in img.warnings)
    eight = read_image(save(tmp_path, "a.png", arr.astype(np.uint8), "PNG"), 10**8)
    assert not any("16-bit" in n for n in eight.warnings)


def test_exif_orientation_applied(tmp_path) -> None:
    arr = np.zeros((20, 40, 3), np.uint8)
    arr[:, :20] = 255  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW for display
    path = save(tmp_path, "r.jpg", arr, "JPEG", exif=exif.tobytes())
    img = read_image(path, 10**8)
    assert (img.width, img.height) == (20, 40)
    assert img.bgr[:20].mean() > 200 and img.bgr[25:].mean() < 50  # white half is now on top
    assert any("orientation" in w for w in img.warnings)
    out = Image.open(io.BytesIO(encode_image(img, img.bgr, quality=95, keep_metadata=True)))
    assert out.getexif().get(0x0112, 1) == 1


@pytest.mark.parametrize("mode", ["L", "RGBA", "LA", "P", "I;16"])
def test_modes(tmp_path, mode) -> None:
    base = Image.fromarray(np.random.default_rng(1).integers(0, 256, (30, 30, 3), dtype=np.uint8))
    im = base.convert("RGBA" if mode == "RGBA" else "L").convert(mode) if mode != "P" else base.convert("P")
    path = tmp_path / "m.png"
    im.save(path)
    img = read_image(path, 10**8)
    assert img.bgr.shape == (30, 30, 3) and img.bgr.dtype == np.uint8
    blob = encode_image(img, img.bgr, quality=95, keep_metadata=False)
    out = Image.open(io.BytesIO(blob))
    assert out.size == (30, 30)
    if mode in ("RGBA", "LA"):
        assert "A" in out.mode


def test_alpha_preserved(tmp_path) -> None:
    arr = np.zeros((10, 10, 4), np.uint8)
    arr[..., 3] = np.arange(10, dtype=np.uint8)[None, :] * 20
    path = tmp_path / "a.png"
    Image.fromarray(arr, "RGBA").save(path)
    img = read_image(path, 10**8)
    out = np.asarray(Image.open(io.BytesIO(encode_image(img, img.bgr, quality=95, keep_metadata=False))))
    np.testing.assert_array_equal(out[..., 3], arr[..., 3])


def test_decompression_bomb_refused_before_decoding(tmp_path) -> None:
    # A tiny PNG header declaring 60000x60000 pixels.
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b"")
    path = tmp_path / "bomb.png"
    path.write_bytes(png)
    with pytest.raises(MediaError, match="max-pixels"):
        probe_image(path, 200_000_000)
    with pytest.raises(MediaError, match="max-pixels"):
        read_image(path, 200_000_000)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "not a readable image"),
        (b"hello, this is text", "not a readable image"),
    ],
)
def test_garbage_refused(tmp_path, data, message) -> None:
    path = tmp_path / "x.jpg"
    path.write_bytes(data)
    with pytest.raises(MediaError, match=message):
        read_image(path, 10**8)


@pytest.mark.parametrize("fmt, ext", [("JPEG", "jpg"), ("PNG", "png")])
def test_truncated_refused(tmp_path, rgb, fmt, ext) -> None:
    big = np.random.default_rng(3).integers(0, 256, (200, 200, 3), dtype=np.uint8)
    path = save(tmp_path, f"t.{ext}", big, fmt)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaError, match="truncated|corrupt"):
        read_image(path, 10**8)


def test_multiframe_refused(tmp_path, rgb) -> None:
    path = tmp_path / "pages.tif"
    frames = [Image.fromarray(rgb), Image.fromarray(rgb)]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    with pytest.raises(MediaError, match="multi-frame"):
        read_image(path, 10**8)


def test_a_jpeg_with_more_pictures_after_it_is_redacted_as_its_first(tmp_path, rgb) -> None:
    # Cameras store a large preview after the picture, phones a depth or gain map (MPF).
    path = tmp_path / "a.jpg"
    Image.fromarray(rgb).save(path, "MPO", save_all=True, append_images=[Image.fromarray(rgb[::2, ::2])])
    assert Image.open(path).format == "MPO"
    assert probe_image(path, 10**8) == ("JPEG", 60, 40)
    img = read_image(path, 10**8)
    assert img.format == "JPEG" and img.bgr.shape == (40, 60, 3)
    assert img.warnings == [
        "1 more picture(s) stored after the first (a preview, depth or gain map of the same shot) left out; "
        "the output is a plain JPEG"
    ]
    out = Image.open(io.BytesIO(encode_image(img, img.bgr, quality=95, keep_metadata=True)))
    assert out.format == "JPEG" and getattr(out, "n_frames", 1) == 1


def test_a_jpeg_holding_views_of_the_scene_is_refused(tmp_path, rgb, monkeypatch) -> None:
    from PIL import MpoImagePlugin

    path = tmp_path / "a.jpg"
    Image.fromarray(rgb).save(path, "MPO", save_all=True, append_images=[Image.fromarray(rgb)])
    real = MpoImagePlugin.MpoImageFile._after_jpeg_open

    def stereo(self, *args) -> None:  # the second picture is the right eye's view
        real(self, *args)
        self.mpinfo[0xB002][1]["Attribute"]["MPType"] = "Multi-Frame Image: (Disparity)"

    monkeypatch.setattr(MpoImagePlugin.MpoImageFile, "_after_jpeg_open", stereo)
    with pytest.raises(MediaError, match="2 views of the scene"):
        read_image(path, 10**8)
