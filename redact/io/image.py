"""Still images: probe, decode upright to BGR, write back in the same format without metadata.

Pictures are decoded with Pillow, turned upright by their EXIF orientation (the tag is
then dropped, so every viewer shows the same upright pixels) and handed to the
pipeline as BGR uint8 (H, W, 3). Alpha is kept aside and written back unchanged.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageCms, ImageOps, PngImagePlugin, UnidentifiedImageError

from redact.errors import MediaError
from redact.io import metadata as meta_mod

# Pillow format name -> extensions we accept for it.
IMAGE_FORMATS: dict[str, tuple[str, ...]] = {
    "JPEG": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "PNG": (".png",),
    "WEBP": (".webp",),
    "TIFF": (".tif", ".tiff"),
    "BMP": (".bmp", ".dib"),
    "AVIF": (".avif",),
}
IMAGE_EXTENSIONS = frozenset(ext for exts in IMAGE_FORMATS.values() for ext in exts)
_TIFF_COMPRESSIONS = {"raw", "tiff_lzw", "tiff_deflate", "tiff_adobe_deflate", "packbits"}
_ORIENTATION_TAG = 0x0112
# A JPEG with a multi-picture index (MPF, which Pillow opens as "MPO") stores more pictures after
# the first: cameras a large preview, phones a depth or HDR gain map, all the same shot. The
# first is redacted and written as a plain JPEG; the others are left out. MP types naming the
# others as views of the scene (a stereo pair, a panorama) make it a multi-frame picture.
MPO = "MPO"
_MP_VIEWS = "Multi-Frame"


@dataclass
class LoadedImage:
    """A decoded still.

    Attributes:
        bgr: upright BGR uint8 pixels (H, W, 3).
        alpha: uint8 alpha (H, W) or None.
        format: Pillow format name (JPEG, PNG, WEBP, TIFF, BMP, AVIF), from the file's content.
        gray: True when the picture was single-channel and is written back as such.
        icc_profile: the ICC colour profile bytes, kept in outputs (not identifying).
        metadata: format-specific metadata, written back only with ``keep_metadata``, less
            the pictures it carried (:mod:`redact.io.metadata`).
        warnings: notes for the manifest (e.g. a bit depth that was reduced).
        metadata_notes: what ``metadata`` leaves out (a maker note's preview, an XMP
            thumbnail), for the manifest where metadata is kept.
    """

    bgr: NDArray[np.uint8]
    alpha: NDArray[np.uint8] | None
    format: str
    gray: bool
    icc_profile: bytes | None
    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    metadata_notes: list[str] = field(default_factory=list)

    @property
    def width(self) -> int:
        return int(self.bgr.shape[1])

    @property
    def height(self) -> int:
        return int(self.bgr.shape[0])


def _open(path: Path | BinaryIO, max_pixels: int) -> Image.Image:
    """Open lazily (header only) and refuse oversized or multi-frame pictures before decoding."""
    with warnings.catch_warnings():
        # Our own --max-pixels limit replaces Pillow's bomb check.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            im = Image.open(path)
        except UnidentifiedImageError:
            raise MediaError("not a readable image (unknown or corrupt format)") from None
        except OSError as exc:
            raise MediaError(f"cannot open image (truncated or corrupt?): {exc.strerror or exc}") from None
        except (ValueError, SyntaxError) as exc:  # Pillow raises these for malformed headers
            raise MediaError(f"corrupt image header: {exc}") from None
        finally:
            Image.MAX_IMAGE_PIXELS = saved
    width, height = im.size
    if width <= 0 or height <= 0:
        im.close()
        raise MediaError(f"image declares an empty size {width}x{height}")
    if width * height > max_pixels:
        im.close()
        raise MediaError(
            f"image declares {width}x{height} = {width * height:,} pixels, over the --max-pixels "
            f"limit of {max_pixels:,}; raise --max-pixels if the file is trusted"
        )
    if im.format not in IMAGE_FORMATS and im.format != MPO:
        im.close()
        raise MediaError(f"unsupported image format {im.format}; supported: {', '.join(IMAGE_FORMATS)}")
    n = int(getattr(im, "n_frames", 1))
    if im.format == MPO and _mp_views(im):
        im.close()
        raise MediaError(
            f"JPEG holds {n} views of the scene (MPF: a stereo pair, a panorama or several angles); split "
            "them first so no view is published unredacted"
        )
    if n > 1 and im.format != MPO:
        im.close()
        raise MediaError(
            f"{im.format} holds {n} frames/pages; multi-frame images are not supported "
            "(split them first so no frame is published unredacted)"
        )
    return im


def probe_image(path: Path, max_pixels: int) -> tuple[str, int, int]:
    """Format name, width and height from the header, without decoding pixels."""
    im = _open(path, max_pixels)
    with im:
        return _format(im), int(im.width), int(im.height)


def _format(im: Image.Image) -> str:
    """The format a picture is written back in: a JPEG with more pictures after it is a JPEG."""
    return "JPEG" if im.format == MPO else str(im.format)


def _mp_views(im: Image.Image) -> bool:
    """Whether a JPEG's multi-picture index calls its other pictures views of the scene."""
    entries = [e for e in ((getattr(im, "mpinfo", None) or {}).get(0xB002) or [])[1:] if isinstance(e, dict)]
    return any(str((e.get("Attribute") or {}).get("MPType", "")).startswith(_MP_VIEWS) for e in entries)


def read_image(path: Path | BinaryIO, max_pixels: int) -> LoadedImage:
    """Decode a still (a file, or its bytes already read) upright into BGR uint8.

    Raises:
        MediaError: unreadable, truncated, oversized, multi-frame or unsupported.
    """
    im = _open(path, max_pixels)
    notes: list[str] = []
    with im:
        fmt = _format(im)
        info = dict(im.info)
        if im.mode in ("RGB", "RGBA") and any(";16" in str(t.args) for t in getattr(im, "tile", None) or []):
            notes.append("16-bit colour reduced to 8 bits a channel")  # Pillow decodes it so
        extra = int(getattr(im, "n_frames", 1)) - 1 if im.format == MPO else 0
        if extra:
            notes.append(
                f"{extra} more picture(s) stored after the first (a preview, depth or gain map of the same shot) "
                "left out; the output is a plain JPEG"
            )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                saved = Image.MAX_IMAGE_PIXELS
                Image.MAX_IMAGE_PIXELS = None
                try:
                    im.load()
                    exif = im.getexif()
                    orientation = int(exif.get(_ORIENTATION_TAG, 1) or 1)
                    upright = ImageOps.exif_transpose(im) if orientation != 1 else im
                finally:
                    Image.MAX_IMAGE_PIXELS = saved
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise MediaError(f"cannot decode image (truncated or corrupt): {exc}") from None
        if orientation != 1:
            notes.append(f"EXIF orientation {orientation} applied; output pixels are upright")
        icc = info.get("icc_profile") or None
        bgr, alpha, gray, icc = _to_bgr(upright, icc, notes)
        metadata: dict[str, Any] = {}
        left_out: list[str] = []
        if len(exif):
            exif[_ORIENTATION_TAG] = 1
            exif_data, more = meta_mod.exif_bytes(exif)
            left_out += more
            if exif_data is not None:
                metadata["exif"] = exif_data
        for key in ("comment", "dpi"):
            if key in info:
                metadata[key] = info[key]
        if "xmp" in info:
            xmp, more = meta_mod.xmp_bytes(info["xmp"])
            left_out += more
            if xmp is not None:
                metadata["xmp"] = xmp
        if fmt == "PNG":
            text, more = meta_mod.png_text(getattr(im, "text", {}))
            left_out += [n for n in more if n not in left_out]
            if text:
                metadata["png_text"] = text
        if fmt == "TIFF":
            metadata["compression"] = info.get("compression")
    return LoadedImage(
        bgr=bgr,
        alpha=alpha,
        format=fmt,
        gray=gray,
        icc_profile=icc,
        metadata=metadata,
        warnings=notes,
        metadata_notes=left_out,
    )


def _to_bgr(
    im: Image.Image, icc: bytes | None, notes: list[str]
) -> tuple[NDArray[np.uint8], NDArray[np.uint8] | None, bool, bytes | None]:
    """BGR pixels, alpha, whether the picture is grey, and the ICC profile that still describes them."""
    mode = im.mode
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        notes.append(f"{mode} pixels reduced to 8-bit grey")
        arr = np.asarray(im, dtype=np.float64)
        hi = 65535.0 if mode.startswith("I;16") or arr.max() > 255 else 255.0
        gray8 = np.clip(arr / hi * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray8[:, :, None], 3, axis=2)), None, True, icc
    if mode in ("1", "L"):
        g = np.asarray(im.convert("L"), dtype=np.uint8)
        return np.ascontiguousarray(np.repeat(g[:, :, None], 3, axis=2)), None, True, icc
    if mode == "LA":
        la = np.asarray(im, dtype=np.uint8)
        return np.ascontiguousarray(np.repeat(la[:, :, :1], 3, axis=2)), la[:, :, 1].copy(), True, icc
    if mode not in ("RGB", "RGBA"):
        im, icc = _to_rgb(im, icc, notes)
    pixels: NDArray[np.uint8] = np.asarray(im).astype(np.uint8, copy=False)
    bgr: NDArray[np.uint8] = np.ascontiguousarray(pixels[:, :, 2::-1])
    alpha: NDArray[np.uint8] | None = pixels[:, :, 3].copy() if pixels.shape[2] == 4 else None
    return bgr, alpha, False, icc


def _to_rgb(im: Image.Image, icc: bytes | None, notes: list[str]) -> tuple[Image.Image, bytes | None]:
    """Another colour space (CMYK, LAB, ...) as RGB, through its own ICC profile where it has one.

    The output is RGB, so a profile describing the input's CMYK or LAB values no longer
    applies to it and is not carried over: viewers take the pixels as sRGB.
    """
    mode = im.mode
    rgb_space = mode in ("RGBX", "RGBa")
    alpha = mode[-1] in "Aa"  # RGBa, La, PA; LAB's A is a colour axis
    if mode == "CMYK" and icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            srgb = ImageCms.createProfile("sRGB")
            converted = ImageCms.profileToProfile(im, source, srgb, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            converted = None
        if converted is not None:
            notes.append("CMYK colour converted to sRGB through its ICC profile")
            return converted, None
    notes.append(f"{mode} colour converted to RGB")
    return im.convert("RGBA" if alpha else "RGB"), icc if rgb_space else None


def encode_image(
    image: LoadedImage,
    bgr: NDArray[np.uint8],
    *,
    quality: int,
    keep_metadata: bool,
) -> bytes:
    """Encode redacted pixels in the input's format.

    Only the ICC profile is carried over unless ``keep_metadata`` is set, in which
    case EXIF (orientation reset to 1), XMP, comments and PNG text are kept too.
    """
    if image.gray:
        gray = bgr[:, :, 0] if _is_gray(bgr) else _luma(bgr)
        arr = gray if image.alpha is None else np.dstack([gray, image.alpha])
        pil = Image.fromarray(arr, "L" if image.alpha is None else "LA")
    else:
        rgb = bgr[:, :, ::-1]
        arr = rgb if image.alpha is None else np.dstack([rgb, image.alpha])
        pil = Image.fromarray(np.ascontiguousarray(arr), "RGB" if image.alpha is None else "RGBA")
    fmt = image.format
    params: dict[str, Any] = {}
    if image.icc_profile:
        params["icc_profile"] = image.icc_profile
    meta = image.metadata
    if fmt == "JPEG":
        if pil.mode == "LA":
            pil = pil.convert("L")
        params.update(quality=quality, subsampling=0 if quality >= 90 else 2)
    elif fmt == "WEBP":
        params.update(quality=quality, method=4)
    elif fmt == "AVIF":
        params.update(quality=quality, subsampling="4:4:4" if quality >= 90 else "4:2:0")
        if pil.mode == "LA":  # AVIF keeps no alpha beside grey
            pil = pil.convert("RGBA")
    elif fmt == "PNG":
        params.update(compress_level=6)
    elif fmt == "TIFF":
        comp = meta.get("compression")
        params["compression"] = comp if comp in _TIFF_COMPRESSIONS else "tiff_lzw"
    elif fmt == "BMP" and pil.mode == "LA":
        pil = pil.convert("L")
    if keep_metadata:
        if "exif" in meta and fmt in ("JPEG", "PNG", "WEBP", "TIFF", "AVIF"):
            params["exif"] = meta["exif"]
        if "xmp" in meta and fmt in ("JPEG", "WEBP", "TIFF", "PNG", "AVIF"):
            params["xmp"] = meta["xmp"]
        if "comment" in meta and fmt == "JPEG":
            params["comment"] = meta["comment"]
        if "dpi" in meta:
            params["dpi"] = meta["dpi"]
        if fmt == "PNG" and "png_text" in meta:
            info = PngImagePlugin.PngInfo()
            for k, v in meta["png_text"].items():
                info.add_itxt(k, v)
            params["pnginfo"] = info
    buf = io.BytesIO()
    try:
        pil.save(buf, format=fmt, **params)
    except (OSError, ValueError) as exc:
        raise MediaError(f"cannot encode {fmt}: {exc}") from None
    return buf.getvalue()


def _is_gray(bgr: NDArray[np.uint8]) -> bool:
    return bool(np.array_equal(bgr[:, :, 0], bgr[:, :, 1]) and np.array_equal(bgr[:, :, 1], bgr[:, :, 2]))


def _luma(bgr: NDArray[np.uint8]) -> NDArray[np.uint8]:
    b, g, r = (bgr[:, :, i].astype(np.float32) for i in range(3))
    return np.clip(0.299 * r + 0.587 * g + 0.114 * b + 0.5, 0, 255).astype(np.uint8)
