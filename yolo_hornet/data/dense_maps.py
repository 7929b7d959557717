"""Per-pixel DigitScenes labels: semantic class maps and metric depth maps, in ultralytics' file formats.

* Semantic: ``masks/<split>/<stem>.png``, uint8 class ids; a digit's shape (its ink outline filled, as the segment
  task's polygon, plus ink pixels of painted coverage >= ``INK_LEVEL``) takes the digit's class, later digits over
  earlier ones as painted, the rest is ``BACKGROUND``. (Bare 1-3 px strokes would be below what a stride-8 head
  resolves.)
* Depth: ``depth/<split>/<stem>.png``, uint16 metres x ``DEPTH_SCALE`` (ultralytics' default 1000: millimetres).
  A pinhole camera with a focal length of ``imgsz`` pixels looks at a tilted background plane 8-12 m away; every
  digit is written on a card facing the camera, and all digits are ``DIGIT_HEIGHT`` metres tall, so a digit ``h``
  pixels tall lies at ``DIGIT_HEIGHT * imgsz / h`` metres (0.67 m for 120 px, 6.7 m for 12 px at 320 px). Cards
  are only painted over farther cards (:meth:`DigitScenes.scene_objects` with ``cards``), so the nearest card in
  the image is the nearest in the map.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .task_labels import BACKGROUND, Digit

INK_LEVEL = 0.4  # painted ink coverage from which a pixel belongs to the digit
DEPTH_SCALE = 1000  # PNG value per metre
DIGIT_HEIGHT = 0.25  # metres: every digit's height on its card
CARD_MARGIN = 0.2  # card border around the digit, as a fraction of the digit's height
PLANE_DEPTH = (8.0, 12.0)  # metres: range of the background plane's distance at the image centre


def card_box(x0: int, y0: int, w: int, h: int, imgsz: int) -> np.ndarray:
    """(4,) integer box x1, y1, x2, y2 of the card around a digit pasted at (x0, y0) with size (w, h), in the image."""
    m = round(CARD_MARGIN * h)
    return np.clip(np.array([x0 - m, y0 - m, x0 + w + m, y0 + h + m]), 0, imgsz).astype(int)


def card_depth(h: int, imgsz: int) -> float:
    """Distance in metres of a card whose digit is ``h`` pixels tall (pinhole camera, focal length ``imgsz`` px)."""
    return DIGIT_HEIGHT * imgsz / h


def overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two x1, y1, x2, y2 boxes share any pixel."""
    return bool(a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])


def semantic_map(objects: list[Digit], imgsz: int) -> np.ndarray:
    """(imgsz, imgsz) uint8 class map: each digit's class on its shape (the filled ink outline, the polygon of the
    segment task, as ultralytics rasterizes polygons for semantic training; plus any ink outside it), later digits
    over earlier ones as painted, ``BACKGROUND`` elsewhere."""
    mask = np.full((imgsz, imgsz), BACKGROUND, np.uint8)
    for o in objects:
        cv2.fillPoly(mask, [np.round(o.outline).astype(np.int32)], int(o.cls))
        x1, y1, x2, y2 = o.box.astype(int)
        region = mask[y1:y2, x1:x2]
        region[o.ink >= INK_LEVEL] = o.cls
    return mask


def depth_map(objects: list[Digit], imgsz: int, rng: np.random.Generator) -> np.ndarray:
    """(imgsz, imgsz) float32 depth in metres: the background plane, then the cards from far to near."""
    base = rng.uniform(*PLANE_DEPTH)
    tilt_x, tilt_y = rng.uniform(-1.5, 1.5), rng.uniform(-3.0, 3.0)
    ramp = (np.arange(imgsz, dtype=np.float32) + 0.5) / imgsz - 0.5
    depth = (base + tilt_x * ramp[None, :] + tilt_y * ramp[:, None]).astype(np.float32)
    for o in sorted(objects, key=lambda o: -o.depth):
        x1, y1, x2, y2 = o.card
        depth[y1:y2, x1:x2] = o.depth
    return depth


def write_map(path: Path, task: str, objects: list[Digit], imgsz: int, rng: np.random.Generator) -> None:
    """Write the semantic or depth map of one scene as a PNG at ``path``."""
    if task == "semantic":
        image = semantic_map(objects, imgsz)
    else:
        image = np.rint(depth_map(objects, imgsz, rng) * DEPTH_SCALE).clip(1, 65535).astype(np.uint16)
    if not cv2.imwrite(str(path), image):
        raise OSError(f"could not write {path}")
