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
from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError

from redact.errors import MediaError

# Pillow format name -> extensions we accept for it.
IMAGE_FORMATS: dict[str, tuple[str, ...]] = {
    "JPEG": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "PNG": (".png",),
    "WEBP": (".webp",),
    "TIFF": (".tif", ".tiff"),
    "BMP": (".bmp", ".dib"),
}
IMAGE_EXTENSIONS = frozenset(ext for exts in IMAGE_FORMATS.values() for ext in exts)
_TIFF_COMPRESSIONS = {"raw", "tiff_lzw", "tiff_deflate", "tiff_adobe_deflate", "packbits"}
_ORIENTATION_TAG = 0x0112


@dataclass
class LoadedImage:
    """A decoded still.

    Attributes:
        bgr: upright BGR uint8 pixels (H, W, 3).
        alpha: uint8 alpha (H, W) or None.
        format: Pillow format name (JPEG, PNG, WEBP, TIFF, BMP), from the file's content.
        gray: True when the picture was single-channel and is written back as such.
        icc_profile: the ICC colour profile bytes, kept in outputs (not identifying).
        metadata: format-specific metadata, written back only with ``keep_metadata``.
        warnings: notes for the manifest (e.g. a bit depth that was reduced).
    """

    bgr: NDArray[np.uint8]
    alpha: NDArray[np.uint8] | None
    format: str
    gray: bool
    icc_profile: bytes | None
    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

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
    if im.format not in IMAGE_FORMATS:
        im.close()
        raise MediaError(f"unsupported image format {im.format}; supported: {', '.join(IMAGE_FORMATS)}")
    n = int(getattr(im, "n_frames", 1))
    if n > 1:
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
        return str(im.format), int(im.width), int(im.height)


def read_image(path: Path | BinaryIO, max_pixels: int) -> LoadedImage:
    """Decode a still (a file, or its bytes already read) upright into BGR uint8.

    Raises:
        MediaError: unreadable, truncated, oversized, multi-frame or unsupported.
    """
    im = _open(path, max_pixels)
    notes: list[str] = []
    with im:
        fmt = str(im.format)
        info = dict(im.info)
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
        bgr, alpha, gray = _to_bgr(upright, notes)
        metadata: dict[str, Any] = {}
        if len(exif):
            exif[_ORIENTATION_TAG] = 1
            metadata["exif"] = exif.tobytes()
        for key in ("xmp", "comment", "dpi"):
            if key in info:
                metadata[key] = info[key]
        if fmt == "PNG":
            text = {k: v for k, v in getattr(im, "text", {}).items() if isinstance(v, str)}
            if text:
                metadata["png_text"] = text
        if fmt == "TIFF":
            metadata["compression"] = info.get("compression")
    return LoadedImage(
        bgr=bgr,
        alpha=alpha,
        format=fmt,
        gray=gray,
        icc_profile=info.get("icc_profile") or None,
        metadata=metadata,
        warnings=notes,
    )


def _to_bgr(im: Image.Image, notes: list[str]) -> tuple[NDArray[np.uint8], NDArray[np.uint8] | None, bool]:
    mode = im.mode
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        notes.append(f"{mode} pixels reduced to 8-bit grey")
        arr = np.asarray(im, dtype=np.float64)
        hi = 65535.0 if mode.startswith("I;16") or arr.max() > 255 else 255.0
        gray8 = np.clip(arr / hi * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray8[:, :, None], 3, axis=2)), None, True
    if mode in ("1", "L"):
        g = np.asarray(im.convert("L"), dtype=np.uint8)
        return np.ascontiguousarray(np.repeat(g[:, :, None], 3, axis=2)), None, True
    if mode == "LA":
        la = np.asarray(im, dtype=np.uint8)
        return np.ascontiguousarray(np.repeat(la[:, :, :1], 3, axis=2)), la[:, :, 1].copy(), True
    if mode not in ("RGB", "RGBA"):
        notes.append(f"{mode} colour converted to RGB")
        im = im.convert("RGBA" if "A" in mode else "RGB")
    pixels: NDArray[np.uint8] = np.asarray(im).astype(np.uint8, copy=False)
    bgr: NDArray[np.uint8] = np.ascontiguousarray(pixels[:, :, 2::-1])
    alpha: NDArray[np.uint8] | None = pixels[:, :, 3].copy() if pixels.shape[2] == 4 else None
    return bgr, alpha, False


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
    elif fmt == "PNG":
        params.update(compress_level=6)
    elif fmt == "TIFF":
        comp = meta.get("compression")
        params["compression"] = comp if comp in _TIFF_COMPRESSIONS else "tiff_lzw"
    elif fmt == "BMP" and pil.mode == "LA":
        pil = pil.convert("L")
    if keep_metadata:
        if "exif" in meta and fmt in ("JPEG", "PNG", "WEBP", "TIFF"):
            params["exif"] = meta["exif"]
        if "xmp" in meta and fmt in ("JPEG", "WEBP", "TIFF", "PNG"):
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
