"""Metadata kept with ``--keep-metadata``, less the pictures it carries.

A picture's metadata can hold the picture itself, small or large, unredacted: a camera's
maker note embeds a preview JPEG of the shot (Nikon, Canon, Sony, Olympus...), XMP holds
base64 thumbnails (``xmp:Thumbnails``), Photoshop's image resources hold a thumbnail and
its layer data the whole image, and ImageMagick copies EXIF and Photoshop blocks into PNG
text as hex ("Raw profile type ..."). EXIF's own thumbnail (IFD1) is never written: Pillow
serialises IFD0 and its Exif, GPS and Interop IFDs only. Whatever metadata is kept must not
undo the redaction, so these are left out, and a block that still holds a picture's
signature after that is left out whole (fails closed).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

from PIL import Image

# EXIF tags (in IFD0 or the Exif IFD) whose values are pictures or may hold them, by name
# for the manifest's note.
_EXIF_PICTURE_TAGS: dict[int, str] = {
    0x927C: "maker note (cameras embed a preview of the shot)",
    0x0201: "thumbnail",
    0x0202: "thumbnail",
    0x014A: "sub-IFDs (previews)",
    0x8649: "Photoshop image resources (a thumbnail)",
    0x935C: "Photoshop layer data",
    0x02BC: "XMP",  # written from the picture's own XMP block, scrubbed, where the format has one
}
_EXIF_IFD = 0x8769
# Byte signatures of embedded pictures: JPEG's start of image, PNG's signature, Photoshop's
# resource marker; and base64 JPEG and PNG, and XMP's picture elements, as XMP carries them.
_RAW_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"8BIM")
_TEXT_SIGNATURES = (b"/9j/", b"iVBORw0KGgo", b"xmpGImg:image", b":Thumbnails")
_HEX_SIGNATURES = (b"ffd8ff", b"FFD8FF", b"89504e470d0a1a0a")  # as PNG raw profiles write pictures
# xmp:Thumbnails (or its old xap: prefix) with everything in it; any *:image element.
_XMP_THUMBNAILS = re.compile(rb"<(\w+):Thumbnails\b.*?</\1:Thumbnails>", re.S)
_XMP_IMAGE = re.compile(rb"<(\w+):image\b[^>]*>.*?</\1:image>", re.S)
# PNG text keys that hold whole metadata blocks as hex (ImageMagick, exiftool): their EXIF can
# carry a thumbnail, their 8BIM a Photoshop one. Pillow reads the EXIF from them as well.
_RAW_PROFILE = "raw profile type"
PNG_XMP_KEY = "XML:com.adobe.xmp"


def exif_bytes(exif: Image.Exif) -> tuple[bytes | None, list[str]]:
    """``exif`` serialised without the tags that hold pictures.

    Returns:
        (the EXIF block, or ``None`` where a picture's signature is left in it; notes on what
        was left out, for the manifest).
    """
    notes: list[str] = []
    # The Exif IFD only where there is one: asking Pillow for a missing IFD adds an empty one.
    for ifd in (exif, exif.get_ifd(_EXIF_IFD)) if _EXIF_IFD in exif else (exif,):
        for tag, what in _EXIF_PICTURE_TAGS.items():
            if tag in ifd:
                del ifd[tag]
                notes.append(f"EXIF {what} left out")
    data = exif.tobytes()
    if _holds_picture(data, _RAW_SIGNATURES):
        return None, [*notes, "EXIF left out: it holds a picture"]
    return data, notes


def xmp_bytes(xmp: bytes | str) -> tuple[bytes | None, list[str]]:
    """``xmp`` without its thumbnails and other embedded images.

    Returns:
        (the XMP packet, or ``None`` where a picture is left in it; notes for the manifest).
    """
    data = _bytes(xmp)
    scrubbed = _XMP_IMAGE.sub(b"", _XMP_THUMBNAILS.sub(b"", data))
    notes = ["XMP thumbnail left out"] if scrubbed != data else []
    if _holds_picture(scrubbed, _TEXT_SIGNATURES + _RAW_SIGNATURES):
        return None, [*notes, "XMP left out: it holds a picture"]
    return scrubbed, notes


def png_text(text: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """PNG text chunks without raw metadata blocks, their XMP scrubbed (:func:`xmp_bytes`)."""
    kept: dict[str, str] = {}
    notes: list[str] = []
    for key, value in text.items():
        if not isinstance(value, str):
            continue
        if key.lower().startswith(_RAW_PROFILE):
            notes.append(f"PNG text {key!r} left out (a raw metadata block)")
            continue
        if key == PNG_XMP_KEY:
            xmp, more = xmp_bytes(value)
            notes += more
            if xmp is None:
                continue
            value = xmp.decode("utf-8", "replace")
        kept[key] = value
    return kept, notes


def pictures_in(path: Path) -> list[str]:
    """Where a written picture's metadata carries a picture (``redact verify``'s check).

    Looks at EXIF, XMP, PNG text and, in a JPEG, every application segment: Photoshop's
    thumbnails (APP13), JFIF extension thumbnails (APP0 ``JFXX``) and the multi-picture
    format (APP2 ``MPF``: more pictures stored after the first).

    Returns:
        One line per block that holds a picture; empty when none does.
    """
    found: list[str] = []
    with warnings.catch_warnings():  # Pillow warns of a malformed MPO: the MPF check says more
        warnings.simplefilter("ignore")
        im = Image.open(path)
    with im:
        segments = getattr(im, "applist", None)  # a JPEG's: its EXIF and XMP are among them
        for marker, segment in segments or []:
            what = _segment_picture(marker, bytes(segment))
            if what:
                found.append(what)
        if segments is None:
            exif, xmp = im.info.get("exif"), im.info.get("xmp")
            if exif and _holds_picture(bytes(exif), _RAW_SIGNATURES):
                found.append("EXIF holds a picture")
            if xmp and _holds_picture(_bytes(xmp), _TEXT_SIGNATURES + _RAW_SIGNATURES):
                found.append("XMP holds a picture")
        for key, value in getattr(im, "text", {}).items():
            data = str(value).encode("utf-8", "replace")
            if _holds_picture(data, _TEXT_SIGNATURES + _HEX_SIGNATURES):
                found.append(f"PNG text {key!r} holds a picture")
    return found


def _segment_picture(marker: str, segment: bytes) -> str | None:
    """What picture a JPEG application segment holds, or ``None``."""
    if marker == "APP0" and segment.startswith(b"JFXX"):
        return "APP0 JFXX holds a thumbnail"
    if marker == "APP2" and segment.startswith(b"MPF\x00"):
        return "APP2 MPF: more pictures are stored after this one"
    if marker == "APP2" and segment.startswith(b"ICC_PROFILE"):
        return None  # colour data, no pictures
    if marker == "APP13" and (b"8BIM\x04\x0c" in segment or b"8BIM\x04\x09" in segment):
        return "APP13 holds a Photoshop thumbnail"
    if _holds_picture(segment, _TEXT_SIGNATURES + _RAW_SIGNATURES[:2]):
        name = "EXIF" if segment.startswith(b"Exif") else "XMP" if b"adobe:ns:meta" in segment else marker
        return f"{name} holds a picture"
    return None


def _bytes(text: bytes | str) -> bytes:
    return text.encode("utf-8") if isinstance(text, str) else bytes(text)


def _holds_picture(data: bytes, signatures: tuple[bytes, ...]) -> bool:
    return any(sig in data for sig in signatures)
