"""Write the project's own demo media into samples/.

- samples/astronaut.jpg: NASA's public-domain portrait of Eileen Collins, as shipped in
  scikit-image (skimage/data/astronaut.png), saved as JPEG with made-up GPS and camera
  EXIF so the demo shows metadata being stripped.
- samples/street/parked-car.png: a generated street scene (drawn with OpenCV) with a car,
  a made-up licence plate and the astronaut's face pasted in as the driver.

Usage: python tools/make_samples.py [path/to/scikit_image-*.whl]
(without an argument the wheel is fetched with `pip download scikit-image`).
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


def street_scene(face_rgb: np.ndarray) -> np.ndarray:
    h, w = 720, 1280
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = (200, 170, 140)  # sky, BGR
    cv2.rectangle(img, (0, 380), (w, h), (90, 90, 90), -1)  # road
    cv2.rectangle(img, (0, 360), (w, 380), (150, 150, 150), -1)  # kerb
    for x in range(0, w, 160):
        cv2.rectangle(img, (x + 20, 550), (x + 100, 560), (230, 230, 230), -1)  # lane marks
    for x, bh, col in ((40, 240, (70, 90, 140)), (300, 300, (120, 120, 160)), (900, 260, (90, 110, 90))):
        cv2.rectangle(img, (x, 360 - bh), (x + 220, 360), col, -1)  # buildings
        for wy in range(360 - bh + 30, 330, 90):  # a few tall windows
            for wx in range(x + 30, x + 190, 80):
                cv2.rectangle(img, (wx, wy), (wx + 40, wy + 60), (150, 140, 120), -1)
    for cx in (250, 1180):  # trees
        cv2.rectangle(img, (cx - 8, 280), (cx + 8, 370), (40, 60, 90), -1)
        cv2.circle(img, (cx, 250), 55, (60, 130, 70), -1)
    # Car body, cabin and wheels.
    cv2.rectangle(img, (420, 420), (900, 600), (40, 40, 170), -1)
    cv2.rectangle(img, (500, 330), (820, 430), (40, 40, 150), -1)
    cv2.rectangle(img, (520, 345), (800, 425), (120, 100, 80), -1)  # windscreen
    for cx in (500, 820):
        cv2.circle(img, (cx, 610), 45, (20, 20, 20), -1)
        cv2.circle(img, (cx, 610), 20, (160, 160, 160), -1)
    # Driver: the astronaut's face behind the windscreen.
    face = cv2.cvtColor(face_rgb[20:230, 140:330], cv2.COLOR_RGB2BGR)
    face = cv2.resize(face, (95, 105), interpolation=cv2.INTER_AREA)
    img[340:445, 612:707] = face
    cv2.rectangle(img, (420, 420), (900, 600), (40, 40, 170), -1)
    cv2.rectangle(img, (520, 430), (800, 445), (30, 30, 30), -1)  # dashboard line
    # Licence plate: white with black characters and a blue band (EU style), made up.
    px1, py1, px2, py2 = 565, 525, 755, 570
    cv2.rectangle(img, (px1, py1), (px2, py2), (245, 245, 245), -1)
    cv2.rectangle(img, (px1, py1), (px2, py2), (10, 10, 10), 2)
    cv2.rectangle(img, (px1 + 2, py1 + 2), (px1 + 20, py2 - 2), (160, 60, 20), -1)
    cv2.putText(img, "KX58 RDW", (px1 + 26, py2 - 11), cv2.FONT_HERSHEY_DUPLEX, 1.05, (10, 10, 10), 2, cv2.LINE_AA)
    cv2.rectangle(img, (440, 470), (520, 500), (200, 230, 250), -1)  # headlights
    cv2.rectangle(img, (800, 470), (880, 500), (200, 230, 250), -1)
    return img


def main() -> None:
    wheel = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    png = astronaut_png(wheel)
    astro = Image.open(io.BytesIO(png)).convert("RGB")
    OUT.mkdir(exist_ok=True)
    astro.save(OUT / "astronaut.jpg", quality=92, exif=gps_exif())
    street = street_scene(np.asarray(astro))
    (OUT / "street").mkdir(exist_ok=True)
    cv2.imwrite(str(OUT / "street" / "parked-car.png"), street)
    print("wrote", OUT / "astronaut.jpg", OUT / "street" / "parked-car.png")


if __name__ == "__main__":
    main()
