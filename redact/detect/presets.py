"""Passes per quality: how each detector looks at a picture in ``fast``, ``balanced``,
``thorough`` and the video glance (sizes, scales, tiles, which boxes each pass keeps)."""

from __future__ import annotations

from redact.detect.panel_zoom import SHRUNK as _PANEL_SHRUNK
from redact.detect.registry import QUALITY_PRESETS
from redact.detect.tiling import Pass
from redact.detect.vehicle_zoom import ZOOM as _VEHICLE_ZOOM

# Passes per quality and detector. Tile sizes are in resized pixels; the models take any
# input size, so a "tile" is simply the largest picture run in one go (bounding memory).
# Upscaled passes keep only small boxes (max_box, source pixels): they are there for
# faces and plates too small for the network at native size.
# Native tiles are also at most TILE_PIXELS in area, about what a 1080p frame's two tiles are
# (1024x1080): one run's working memory grows with its area, and 4K memory is bounded by it
# (figures in docs/performance.md).
TILE_PIXELS = 1_200_000
_FACE_NATIVE = Pass(tile=1600, tile_pixels=TILE_PIXELS, overlap=128)
_FACE_X2 = Pass(scale=2.0, tile=2560, overlap=256, max_side=1280, max_box=64)
# Larger pictures at 1.5x: at native size CenterFace misses many faces under 32 px tall that
# it finds enlarged, whatever the picture's size (docs/performance.md, "Small faces in large
# pictures"); 2x found about as many for twice the time. Its tiles are at most a 1080p
# frame's two (1568x1620 resized), so a 4K frame's take no more memory; above a 4K frame's
# pixels each tile is enlarged on its own (redact.detect.tiling.WHOLE_RESIZE_PIXELS), so a
# 24-Mpx still holds one tile at a time too.
_FACE_X15 = Pass(scale=1.5, tile=2560, tile_pixels=2_600_000, overlap=256, min_side=1280, max_box=64)
# Small pictures (a web photo, a thumbnail, an enforcement camera's crop) also at 3x for faces
# under 24 px: enlarged three times, CenterFace finds faces under 16 px that it misses at 2x
# (docs/performance.md, "Small faces in small pictures"), for about 0.1 s per 500-px picture.
_FACE_X3_SMALL = Pass(scale=3.0, tile=2560, overlap=256, max_side=800, max_box=24)
# RetinaFace's upscaled pass is the second opinion for small pictures only: on 1280x720
# frames it costs ~0.3 s on 2 cores for little gain over CenterFace's.
_FACE_X2_SMALL = Pass(scale=2.0, tile=2560, overlap=256, max_side=960, max_box=64)
_PLATE_NATIVE = Pass(tile=1600, tile_pixels=TILE_PIXELS, overlap=160)
_PLATE_FIT = Pass(fit=640, min_box=32)
# The plate network on the picture's luma: under coloured street light, a tint or hard
# compression it misses small plates in colour that it finds by their contrast alone. Its
# boxes must be plate lines (at most half as high as wide): its squarer boxes were mostly
# signs, logos and lamps (docs/performance.md). In `thorough` only: `balanced` runs the
# lifted pass below in its place.
_PLATE_GREY = Pass(tile=1600, tile_pixels=TILE_PIXELS, overlap=160, grey=True, max_height_ratio=0.5)
# And on the luma sharpened: soft focus or motion runs a small plate's strokes together, and
# the network finds many such plates only once an unsharp mask gives their edges back. Beside
# a pass that does not sharpen, not instead: on dark, noisy frames the mask sharpens the
# noise too.
_PLATE_GREY_SHARP = Pass(
    tile=1600, tile_pixels=TILE_PIXELS, overlap=160, grey=True, max_height_ratio=0.5, unsharp=1.0
)
# And on the picture with its lightness equalised locally and stretched: on a dark night frame
# a dim plate's characters lie a few levels above their ground, and the network finds them
# once the plate's own surroundings set the contrast. Plate lines only, as the grey passes.
# In place of the plain grey pass: on the dev sets and their degraded copies as high a recall
# or higher (more at night), for the same time (docs/performance.md, "Plates lifted out of
# the dark").
_PLATE_LIFT = Pass(tile=1600, tile_pixels=TILE_PIXELS, overlap=160, max_height_ratio=0.5, lift=True)
# Plates under 16 px (distant cars in sub-1000-px footage) are only seen at 2x, where the
# network scores them ~0.1 lower than the same plate seen large.
_PLATE_X2_SMALL = Pass(scale=2.0, tile=1600, overlap=160, max_side=960, max_box=16, score_boost=0.1)
# Text: characters at native size, and the picture shrunk to 640 px for zoomed plate crops
# (an upscaled, blurred crop reads as text only once shrunk back).
_TEXT_NATIVE = Pass(tile=1600, tile_pixels=TILE_PIXELS, overlap=160)
_TEXT_FIT = Pass(fit=640, min_box=32)
# Pictures over 1920 px are also looked at shrunk to 1280 px: in a 4K frame the 640-px look is
# a sixth of the size, and a zoomed crop's plate (a 1080p screenshot shown on a 4K screen)
# was then seen at neither scale (docs/performance.md, "Plates in large pictures").
_TEXT_HALF = Pass(fit=1280, min_side=1920, min_box=32)
PRESETS: dict[str, dict[str, tuple[Pass, ...]]] = {
    "fast": {
        "centerface": (Pass(tile=1600, overlap=128, max_side=1280), Pass(fit=1280)),
        "yolo_plate": (Pass(max_side=640), Pass(fit=640)),
    },
    "balanced": {
        "centerface": (_FACE_NATIVE, _FACE_X2, _FACE_X15, _FACE_X3_SMALL, Pass(fit=640, min_box=32)),
        "retinaface": (_FACE_NATIVE, _FACE_X2_SMALL),
        "yolo_plate": (_PLATE_NATIVE, _PLATE_GREY_SHARP, _PLATE_LIFT, _PLATE_FIT, _PLATE_X2_SMALL),
        "text_plate": (_TEXT_NATIVE, _TEXT_HALF, _TEXT_FIT),
        "vehicle_plate": (_VEHICLE_ZOOM,),
        "panel_plate": _PANEL_SHRUNK,
    },
    "thorough": {
        "centerface": (
            _FACE_NATIVE,
            Pass(scale=2.0, tile=2560, overlap=256, max_side=2048, max_box=64),
            _FACE_X3_SMALL,
            Pass(fit=640, min_box=32),
            Pass(fit=320, min_box=64),
        ),
        "retinaface": (_FACE_NATIVE, Pass(scale=2.0, tile=2560, overlap=256, max_side=2048, max_box=64)),
        "yolo_plate": (
            _PLATE_NATIVE,
            _PLATE_GREY,
            _PLATE_GREY_SHARP,
            _PLATE_LIFT,
            _PLATE_FIT,
            Pass(fit=320, min_box=64),
            Pass(scale=1.5, tile=2560, overlap=256, max_side=1920, max_box=32),
            _PLATE_X2_SMALL,
        ),
        "text_plate": (
            _TEXT_NATIVE, _TEXT_HALF, _TEXT_FIT, Pass(scale=2.0, tile=1600, overlap=160, max_side=1280, max_box=40)
        ),
        "vehicle_plate": (_VEHICLE_ZOOM, Pass(scale=3.0, tile=1600, overlap=160, max_box=24, sharp=True)),
        "panel_plate": _PANEL_SHRUNK,
    },
}

# Occupants at every quality: the COCO network looks at the whole picture and, for large
# ones, its own tiles (redact.detect.yolox.views), so it takes no passes. Not in the video
# glance: vehicles are looked for on keyframes and tracked between.
for _quality in QUALITY_PRESETS:
    PRESETS[_quality]["occupants"] = ()

# The video "glance": one single-scale run per model on the frame shrunk to 640 px (long side),
# used on frames between keyframes (see redact.video.job). Not a user-facing quality: it only
# finds faces and plates large enough to matter at that scale, while the tracker and the
# keyframes' full passes cover the rest.
GLANCE = "glance"
GLANCE_SIDE = 640
PRESETS[GLANCE] = {
    "centerface": (Pass(fit=GLANCE_SIDE), Pass(max_side=GLANCE_SIDE)),
    "yolo_plate": (Pass(fit=GLANCE_SIDE), Pass(max_side=GLANCE_SIDE)),
}

# Qualities whose text boxes are read, and dropped where the reading cannot be a plate
# (redact.detect.reading); "thorough" keeps every plate-shaped line of text. Lines longer
# than a plate's are read in every quality that finds text, for the plates they print.
READ_TEXT: tuple[str, ...] = ("balanced",)
