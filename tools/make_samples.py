"""Write the project's own demo media into samples/.

- samples/astronaut.jpg: NASA's public-domain portrait of Eileen Collins, as shipped in
  scikit-image (skimage/data/astronaut.png), saved as JPEG with made-up GPS and camera
  EXIF so the demo shows metadata being stripped.
- samples/street/parked-car.png: a generated street scene (drawn with OpenCV and numpy,
  shaded and softened) with a car seen from the front, a made-up licence plate and
  the astronaut's face from samples/astronaut.jpg as the driver.

Usage: python tools/make_samples.py [--astronaut [path/to/scikit_image-*.whl]]
(``--astronaut`` rewrites astronaut.jpg first; without a wheel it is fetched with
`pip download scikit-image`).

``python tools/make_samples.py --readme`` (after ``make demo``) writes
docs/occupant-before-after.png: the street scene's car before and after redaction.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "samples"


def astronaut_png(wheel: Path | None) -> bytes:
    if wheel is None:
        tmp = Path(tempfile.mkdtemp())
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "scikit-image==0.26.0", "-d", str(tmp)],
            check=True,
        )
        wheel = next(tmp.glob("scikit_image-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        return zf.read("skimage/data/astronaut.png")


def gps_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "ExampleCam"  # Make
    exif[0x0110] = "Model 1"  # Model
    exif[0x0132] = "2026:01:02 03:04:05"  # DateTime
    gps = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    exif[0x8825] = gps
    return exif.tobytes()


# Drawing helpers on float32 BGR pictures (H, W, 3); colours are BGR 0..255.
def lerp(a, b, t):
    return np.asarray(a, np.float32) * (1 - t) + np.asarray(b, np.float32) * t


def vgrad(h, w, top, bottom):
    """An (h, w, 3) vertical gradient from colour ``top`` to ``bottom``."""
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    return np.broadcast_to(lerp(top, bottom, t), (h, w, 3)).copy()


def fill_poly(img, pts, color):
    cv2.fillPoly(img, [np.asarray(pts, np.int32)], color, cv2.LINE_AA)


def shaded_poly(img, pts, top, bottom):
    """Fill a polygon (clipped to the picture) with a vertical gradient."""
    pts = np.asarray(pts, np.int32)
    x, y, w, h = cv2.boundingRect(pts)
    x0, y0 = max(x, 0), max(y, 0)
    w, h = min(x + w, img.shape[1]) - x0, min(y + h, img.shape[0]) - y0
    x, y = x0, y0
    mask = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(mask, [pts], 255, cv2.LINE_AA)
    g = vgrad(h, w, top, bottom)
    a = mask[y : y + h, x : x + w, None].astype(np.float32) / 255
    img[y : y + h, x : x + w] = img[y : y + h, x : x + w] * (1 - a) + g * a


def street_scene(face_bgr: np.ndarray) -> np.ndarray:
    """A 1280x720 street with a car seen from the front, its driver behind the windscreen
    (``face_bgr``, about 78x88 px) and a made-up plate; shaded and softened like a photo
    so that the real networks take the car for a car and the driver for a person."""
    W, H = 1280, 720
    img = np.zeros((H, W, 3), np.float32)
    horizon = 300
    img[:horizon] = vgrad(horizon, W, (235, 205, 170), (215, 200, 190))
    img[horizon:] = vgrad(H - horizon, W, (105, 105, 110), (70, 72, 75))
    # buildings far away
    for x, bw, bh, col in (
        (0, 260, 170, (120, 135, 150)),
        (250, 200, 230, (140, 140, 150)),
        (880, 240, 200, (110, 125, 135)),
        (1100, 200, 150, (150, 150, 160)),
    ):
        shaded_poly(
            img,
            [(x, horizon - bh), (x + bw, horizon - bh), (x + bw, horizon), (x, horizon)],
            np.array(col) + 15,
            np.array(col) - 10,
        )
        for wy in range(horizon - bh + 15, horizon - 20, 35):
            for wx in range(x + 12, x + bw - 20, 30):
                cv2.rectangle(img, (wx, wy), (wx + 14, wy + 20), (95, 90, 85), -1)
    # pavement and kerb
    fill_poly(img, [(0, horizon), (W, horizon), (W, horizon + 12), (0, horizon + 12)], (150, 155, 160))
    # lane lines in perspective
    vx = W // 2
    for i in range(8):
        y0 = horizon + 20 + i * i * 9
        y1 = y0 + 8 + i * 3
        if y1 > H:
            break

        def xat(y, off):
            return int(vx + off * (y - horizon) / (H - horizon))

        for off in (-900, 900):
            fill_poly(
                img,
                [(xat(y0, off) - 2, y0), (xat(y0, off) + 2, y0), (xat(y1, off) + 4, y1), (xat(y1, off) - 4, y1)],
                (220, 220, 220),
            )
    # The car, seen from the front, centred on cx.
    cx, top, bot = 640, 285, 640
    hw = 300  # half width of body
    body = (45, 45, 160)
    body_hi = (90, 90, 205)
    body_lo = (25, 25, 100)
    # shadow
    sh = np.zeros((H, W), np.float32)
    cv2.ellipse(sh, (cx, bot + 8), (hw + 30, 22), 0, 0, 360, 1.0, -1)
    sh = cv2.GaussianBlur(sh, (0, 0), 9)[..., None]
    img = img * (1 - 0.6 * sh)
    # tyres
    for sx in (-1, 1):
        cv2.rectangle(img, (cx + sx * (hw - 40) - 40, bot - 60), (cx + sx * (hw - 40) + 40, bot + 10), (25, 25, 28), -1)
    # mirrors
    for sx in (-1, 1):
        shaded_poly(
            img,
            [
                (cx + sx * (hw - 10), 395),
                (cx + sx * (hw + 45), 385),
                (cx + sx * (hw + 50), 425),
                (cx + sx * (hw - 5), 430),
            ],
            body_hi,
            body_lo,
        )
    # cabin (roof + pillars)
    cabin = [(cx - 175, top), (cx + 175, top), (cx + 250, 432), (cx - 250, 432)]
    shaded_poly(img, cabin, body_hi, body)
    # windshield
    ws = [(cx - 158, top + 16), (cx + 158, top + 16), (cx + 226, 428), (cx - 226, 428)]
    shaded_poly(img, ws, (95, 85, 75), (60, 55, 50))
    ws_mask = np.zeros((H, W), np.uint8)
    cv2.fillPoly(ws_mask, [np.asarray(ws, np.int32)], 255)
    # Behind the glass: the driver (left of the picture), a headrest, the steering wheel.
    interior = img.copy()
    dx, dy = cx - 95, 352  # driver's face centre
    cv2.ellipse(interior, (dx, dy + 95), (80, 45), 0, 180, 360, (150, 110, 80), -1, cv2.LINE_AA)  # shoulders
    cv2.rectangle(interior, (dx - 80, dy + 94), (dx + 80, 430), (150, 110, 80), -1)
    cv2.rectangle(interior, (dx - 14, dy + 30), (dx + 14, dy + 60), (110, 140, 185), -1)  # neck
    fh, fw = face_bgr.shape[:2]
    y0, x0 = dy - fh // 2, dx - fw // 2
    # paste face with an elliptical soft mask
    m = np.zeros((fh, fw), np.float32)
    cv2.ellipse(m, (fw // 2, fh // 2), (fw // 2 - 2, fh // 2 - 2), 0, 0, 360, 1.0, -1)
    m = cv2.GaussianBlur(m, (0, 0), 3)[..., None]
    interior[y0 : y0 + fh, x0 : x0 + fw] = (
        interior[y0 : y0 + fh, x0 : x0 + fw] * (1 - m) + face_bgr.astype(np.float32) * m
    )
    # passenger headrest
    cv2.ellipse(interior, (cx + 110, 355), (45, 55), 0, 0, 360, (40, 38, 38), -1)
    # steering wheel
    cv2.ellipse(interior, (dx + 5, 425), (70, 28), 0, 180, 360, (25, 25, 25), 9, cv2.LINE_AA)
    a = (ws_mask.astype(np.float32) / 255)[..., None]
    img = img * (1 - a) + (interior * 0.78 + np.array([70, 65, 60]) * 0.22) * a  # glass tint
    # reflection streak
    refl = np.zeros((H, W), np.float32)
    fill_poly(refl, [(cx + 60, top + 18), (cx + 130, top + 18), (cx + 40, 425), (cx - 30, 425)], 1.0)
    refl = cv2.GaussianBlur(refl, (0, 0), 12) * (ws_mask / 255)
    img = img + refl[..., None] * 45
    # bonnet and front
    shaded_poly(img, [(cx - 258, 428), (cx + 258, 428), (cx + hw, 488), (cx - hw, 488)], body_hi, body)
    shaded_poly(img, [(cx - hw, 486), (cx + hw, 486), (cx + hw - 4, 600), (cx - hw + 4, 600)], body, body_lo)
    # headlights
    for sx in (-1, 1):
        pts = [(cx + sx * 285, 496), (cx + sx * 175, 500), (cx + sx * 182, 530), (cx + sx * 288, 524)]
        shaded_poly(img, pts, (250, 250, 245), (190, 200, 210))
        cv2.polylines(img, [np.asarray(pts, np.int32)], True, (40, 40, 40), 2, cv2.LINE_AA)
    # grille
    shaded_poly(img, [(cx - 150, 502), (cx + 150, 502), (cx + 140, 545), (cx - 140, 545)], (40, 40, 42), (20, 20, 22))
    for gy in range(510, 543, 8):
        cv2.line(img, (cx - 140, gy), (cx + 140, gy), (70, 70, 72), 2, cv2.LINE_AA)
    # bumper
    shaded_poly(
        img,
        [(cx - hw + 4, 560), (cx + hw - 4, 560), (cx + hw - 12, 615), (cx - hw + 12, 615)],
        (55, 55, 60),
        (30, 30, 34),
    )
    # plate
    px1, py1, px2, py2 = cx - 78, 560, cx + 78, 596
    cv2.rectangle(img, (px1, py1), (px2, py2), (240, 240, 240), -1)
    cv2.rectangle(img, (px1, py1), (px2, py2), (20, 20, 20), 2)
    cv2.rectangle(img, (px1 + 2, py1 + 2), (px1 + 16, py2 - 2), (160, 60, 20), -1)
    img8 = np.clip(img, 0, 255).astype(np.uint8)
    cv2.putText(img8, "KX58 RDW", (px1 + 22, py2 - 9), cv2.FONT_HERSHEY_DUPLEX, 0.85, (15, 15, 15), 2, cv2.LINE_AA)
    img = img8.astype(np.float32)
    # fog lights
    for sx in (-1, 1):
        cv2.ellipse(img, (cx + sx * 235, 585), (22, 10), 0, 0, 360, (200, 210, 215), -1, cv2.LINE_AA)
    img = cv2.GaussianBlur(img, (0, 0), 0.8)
    return np.clip(img, 0, 255).astype(np.uint8)


def driver_face(astronaut_bgr: np.ndarray) -> np.ndarray:
    """The astronaut's head and collar, 78x88 px (BGR), for the driver."""
    return cv2.resize(astronaut_bgr[20:230, 140:330], (78, 88), interpolation=cv2.INTER_AREA)


def before_after(before: np.ndarray, after: np.ndarray) -> Image.Image:
    """The car of the street scene before and after redaction, side by side, captioned
    (a 128-colour PNG-ready picture)."""
    crop = (slice(220, 670), slice(250, 1030))  # rows, columns of the 1280x720 scene
    panels = []
    for picture, caption in ((before, "before"), (after, "after: occupant, face and plate redacted")):
        panel = cv2.resize(picture[crop], None, fx=0.55, fy=0.55, interpolation=cv2.INTER_AREA)
        bar = np.full((24, panel.shape[1], 3), 255, np.uint8)
        cv2.putText(bar, caption, (6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (20, 20, 20), 1, cv2.LINE_AA)
        panels.append(np.vstack([bar, panel]))
    gap = np.full((panels[0].shape[0], 8, 3), 255, np.uint8)
    rgb = cv2.cvtColor(np.hstack([panels[0], gap, panels[1]]), cv2.COLOR_BGR2RGB)
    return Image.fromarray(rgb).quantize(128)


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["--readme"]:
        after = cv2.imread(str(ROOT / "out" / "street" / "parked-car.png"), cv2.IMREAD_COLOR)
        if after is None:
            raise SystemExit("out/street/parked-car.png is missing: run `make demo` first")
        before = cv2.imread(str(OUT / "street" / "parked-car.png"), cv2.IMREAD_COLOR)
        target = ROOT / "docs" / "occupant-before-after.png"
        before_after(before, after).save(target, optimize=True)
        print("wrote", target)
        return
    if args[:1] == ["--astronaut"]:
        wheel = Path(args[1]) if len(args) > 1 else None
        astro = Image.open(io.BytesIO(astronaut_png(wheel))).convert("RGB")
        OUT.mkdir(exist_ok=True)
        astro.save(OUT / "astronaut.jpg", quality=92, exif=gps_exif())
        print("wrote", OUT / "astronaut.jpg")
    astronaut = cv2.imread(str(OUT / "astronaut.jpg"), cv2.IMREAD_COLOR)
    if astronaut is None:
        raise SystemExit(f"{OUT / 'astronaut.jpg'} is missing: run with --astronaut first")
    (OUT / "street").mkdir(exist_ok=True)
    scene = street_scene(driver_face(astronaut))
    cv2.imwrite(str(OUT / "street" / "parked-car.png"), scene, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print("wrote", OUT / "street" / "parked-car.png")


if __name__ == "__main__":
    main()
