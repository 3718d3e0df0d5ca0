"""Metadata kept with ``--keep-metadata`` never carries the picture unredacted."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from redact.io.image import encode_image, read_image
from redact.io.metadata import exif_bytes, png_text, xmp_bytes

JPEG_SOI = b"\xff\xd8\xff"


@pytest.fixture
def rgb() -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (48, 64, 3), dtype=np.uint8)


def preview(rgb: np.ndarray) -> bytes:
    """A small JPEG of the picture, as cameras and editors embed one."""
    buf = io.BytesIO()
    Image.fromarray(rgb).resize((32, 24)).save(buf, "JPEG", quality=80)
    return buf.getvalue()


def thumbnail_xmp(jpeg: bytes, tool: str = "Cam 1.0") -> bytes:
    b64 = base64.b64encode(jpeg).decode()
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmlns:xmpGImg="http://ns.adobe.com/xap/1.0/g/img/">'
        f"<xmp:CreatorTool>{tool}</xmp:CreatorTool><xmp:Thumbnails><rdf:Alt><rdf:li rdf:parseType=\"Resource\">"
        f"<xmpGImg:format>JPEG</xmpGImg:format><xmpGImg:image>{b64}</xmpGImg:image>"
        "</rdf:li></rdf:Alt></xmp:Thumbnails></rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()


def kept(path) -> tuple[bytes, Image.Image, list[str]]:
    img = read_image(path, 10**8)
    blob = encode_image(img, img.bgr, quality=95, keep_metadata=True)
    return blob, Image.open(io.BytesIO(blob)), img.metadata_notes


def test_a_maker_notes_preview_is_left_out_and_the_rest_of_exif_kept(tmp_path, rgb) -> None:
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}
    sub = exif.get_ifd(0x8769)
    sub[0x927C] = b"Nikon\x00\x02\x10\x00\x00" + preview(rgb)  # a maker note with its preview JPEG
    sub[0x9003] = "2020:01:01 10:00:00"
    path = tmp_path / "a.jpg"
    Image.fromarray(rgb).save(path, "JPEG", quality=95, exif=exif.tobytes())
    assert JPEG_SOI in Image.open(path).info["exif"]

    blob, out, notes = kept(path)
    back = out.getexif()
    assert JPEG_SOI not in out.info["exif"] and blob.count(JPEG_SOI) == 1  # the picture itself only
    assert back[0x010F] == "SpyCam" and back.get_ifd(0x8825)[1] == "N"  # kept, as asked
    assert back.get_ifd(0x8769)[0x9003] == "2020:01:01 10:00:00" and 0x927C not in back.get_ifd(0x8769)
    assert any("maker note" in n for n in notes)


def test_exif_thumbnail_is_never_written(tmp_path, rgb) -> None:
    # IFD1 with a thumbnail, as cameras write it: JPEGInterchangeFormat(Length) point at the JPEG.
    import struct

    thumb = preview(rgb)
    ifd0 = struct.pack("<H", 1) + struct.pack("<HHI", 0x010F, 2, 4) + b"Cam\x00" + struct.pack("<I", 26)
    ifd1 = (
        struct.pack("<H", 2)
        + struct.pack("<HHII", 0x0201, 4, 1, 56)
        + struct.pack("<HHII", 0x0202, 4, 1, len(thumb))
        + struct.pack("<I", 0)
    )
    tiff = b"II*\x00" + struct.pack("<I", 8) + ifd0 + ifd1 + thumb
    assert len(b"II*\x00" + struct.pack("<I", 8) + ifd0 + ifd1) == 56
    path = tmp_path / "a.jpg"
    Image.fromarray(rgb).save(path, "JPEG", quality=95, exif=b"Exif\x00\x00" + tiff)
    assert JPEG_SOI in Image.open(path).info["exif"]
    blob, out, _ = kept(path)
    assert out.getexif()[0x010F] == "Cam" and JPEG_SOI not in out.info["exif"]


def test_an_xmp_thumbnail_is_left_out_and_the_rest_of_xmp_kept(tmp_path, rgb) -> None:
    path = tmp_path / "a.jpg"
    Image.fromarray(rgb).save(path, "JPEG", quality=95, xmp=thumbnail_xmp(preview(rgb)))
    blob, out, notes = kept(path)
    assert b"CreatorTool>Cam 1.0<" in out.info["xmp"] and b"Thumbnails" not in out.info["xmp"]
    assert blob.count(b"/9j/") == 0 and notes == ["XMP thumbnail left out"]


def test_xmp_holding_a_picture_elsewhere_is_left_out_whole() -> None:
    jpeg = base64.b64encode(b"\xff\xd8\xff\xe0" + bytes(64)).decode()
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><a:Blob xmlns:a="urn:a">{jpeg}</a:Blob></x:xmpmeta>'
    data, notes = xmp_bytes(xmp)
    assert data is None and notes == ["XMP left out: it holds a picture"]
    plain, none = xmp_bytes(b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/>')
    assert plain == b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/>' and none == []


def test_exif_still_holding_a_picture_is_left_out_whole(rgb) -> None:
    exif = Image.Exif()
    exif[0x010E] = preview(rgb)  # a picture where no tag should hold one
    data, notes = exif_bytes(exif)
    assert data is None and notes == ["EXIF left out: it holds a picture"]


def test_png_raw_metadata_blocks_are_left_out(tmp_path, rgb) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Title", "street")
    raw = Image.Exif()
    raw[0x010F] = "RawCam"
    block = raw.tobytes()  # ImageMagick writes the EXIF block as hex, its length before it
    info.add_text("Raw profile type exif", f"\nexif\n{len(block):8d}\n{block.hex()}\n")
    path = tmp_path / "a.png"
    Image.fromarray(rgb).save(path, "PNG", pnginfo=info)
    _, out, notes = kept(path)
    assert out.text.get("Title") == "street" and not any(k.lower().startswith("raw profile") for k in out.text)
    assert notes == ["PNG text 'Raw profile type exif' left out (a raw metadata block)"]
    text, more = png_text({"XML:com.adobe.xmp": thumbnail_xmp(preview(rgb)).decode()})
    assert "Thumbnails" not in text["XML:com.adobe.xmp"] and more == ["XMP thumbnail left out"]


def test_pictures_in_finds_every_kind_of_embedded_picture(tmp_path, rgb) -> None:
    from redact.io.metadata import pictures_in

    jpeg = preview(rgb)
    clean = tmp_path / "clean.jpg"
    Image.fromarray(rgb).save(clean, "JPEG", quality=95, exif=Image.Exif().tobytes(), xmp=b"<x:xmpmeta/>")
    assert pictures_in(clean) == []

    def with_segment(name: str, marker: bytes, payload: bytes) -> object:
        data = clean.read_bytes()
        path = tmp_path / name
        path.write_bytes(data[:2] + marker + (len(payload) + 2).to_bytes(2, "big") + payload + data[2:])
        return path

    assert pictures_in(with_segment("jfxx.jpg", b"\xff\xe0", b"JFXX\x00\x10" + jpeg)) == ["APP0 JFXX holds a thumbnail"]
    assert pictures_in(with_segment("mpf.jpg", b"\xff\xe2", b"MPF\x00II*\x00")) == [
        "APP2 MPF: more pictures are stored after this one"
    ]
    psd = b"Photoshop 3.0\x008BIM\x04\x0c\x00\x00" + len(jpeg).to_bytes(4, "big") + jpeg
    assert pictures_in(with_segment("ps.jpg", b"\xff\xed", psd)) == ["APP13 holds a Photoshop thumbnail"]
    xmp = tmp_path / "xmp.webp"
    Image.fromarray(rgb).save(xmp, "WEBP", xmp=thumbnail_xmp(jpeg))
    assert pictures_in(xmp) == ["XMP holds a picture"]
    info = PngImagePlugin.PngInfo()
    info.add_text("Raw profile type 8bim", f"\n8bim\n{len(jpeg):8d}\n{jpeg.hex()}\n")
    png = tmp_path / "a.png"
    Image.fromarray(rgb).save(png, "PNG", pnginfo=info)
    assert pictures_in(png) == ["PNG text 'Raw profile type 8bim' holds a picture"]
