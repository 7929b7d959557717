"""DigitScenes labels for every ultralytics task: the label lines of one scene, and classification crops.

Formats (normalised by the image size, one line per digit):

* detect:   ``cls cx cy w h`` (the visible ink box)
* segment:  ``cls x1 y1 x2 y2 ...`` (the polygon around the digit's visible ink)
* obb:      ``cls x1 y1 x2 y2 x3 y3 x4 y4`` (the digit's rotated frame: top-left, top-right, bottom-right,
  bottom-left of the digit itself)
* pose:     ``cls cx cy w h`` of the frame's box, then the four frame corners as keypoints ``x y 2`` in the same
  order; a horizontal flip swaps left and right, hence ``FLIP_IDX = [1, 0, 3, 2]``
* classify: crops of each digit in the ImageFolder layout (``train/<digit>/*.jpg``), no label files
* semantic: a class map per image, ``masks/<split>/<stem>.png`` (uint8): the digit's class on its shape (the ink
  outline filled, plus its ink), ``BACKGROUND`` (10) everywhere else, in ultralytics' ``masks_dir`` format (255
  would be ignored; none is)
* depth:    a depth map per image, ``depth/<split>/<stem>.png`` (uint16, metres x ``DEPTH_SCALE``, 0 = invalid;
  none is): each digit is written on a flat card facing the camera at the depth its size implies, in front of a
  tilted background plane (:func:`yolo_hornet.data.dense_maps.depth_map`)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TASKS = ("detect", "segment", "pose", "obb", "classify", "semantic", "depth")
DENSE = {"semantic", "depth"}  # tasks labelled by a map per image instead of label lines
BACKGROUND = 10  # the semantic class of every pixel that is not a digit's ink (the digits are 0..9)
KPT_SHAPE = [4, 3]  # four corners of each digit's rotated frame, (x, y, visibility)
FLIP_IDX = [1, 0, 3, 2]  # top-left <-> top-right, bottom-right <-> bottom-left
WHOLE = {"pose", "obb"}  # tasks whose labels need every digit's rotated frame inside the image


@dataclass
class Digit:
    """One pasted digit, in image pixels.

    Attributes:
        cls (int): The digit 0..9.
        box (np.ndarray): (4,) visible axis-aligned box x1, y1, x2, y2.
        frame (np.ndarray): (4, 2) corners of the digit's rotated frame, top-left, top-right, bottom-right,
            bottom-left of the digit itself (may reach outside the image when the digit is cut at the border).
        outline (np.ndarray): (K, 2) polygon around the digit's visible ink (K >= 3).
        ink (np.ndarray | None): (h, w) ink coverage in [0, 1] over ``box`` (integer pixels), as painted.
        card (np.ndarray | None): (4,) the card's box x1, y1, x2, y2 in integer pixels (depth scenes only).
        depth (float): the card's distance in metres (depth scenes only; 0 otherwise).
    """

    cls: int
    box: np.ndarray
    frame: np.ndarray
    outline: np.ndarray
    ink: np.ndarray | None = None
    card: np.ndarray | None = None
    depth: float = 0.0


def points(xy: np.ndarray, imgsz: int) -> str:
    """(K, 2) pixel points -> ``"x1 y1 x2 y2 ..."`` normalised to [0, 1]."""
    return " ".join(f"{v:.6f}" for v in np.clip(np.asarray(xy, float) / imgsz, 0.0, 1.0).reshape(-1))


def box_line(cls: int, box, imgsz: int) -> str:
    """``cls cx cy w h`` (normalised) of a pixel box x1, y1, x2, y2 (computed in the box's own dtype)."""
    x1, y1, x2, y2 = box
    cx, cy, w, h = (x1 + x2) / 2 / imgsz, (y1 + y2) / 2 / imgsz, (x2 - x1) / imgsz, (y2 - y1) / imgsz
    return f"{int(cls)} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}"


def label_lines(task: str, objects: list[Digit], imgsz: int) -> list[str]:
    """The label file lines of one scene for ``task`` (detect, segment, obb or pose)."""
    if task == "detect":
        return [box_line(o.cls, o.box.astype(np.float32), imgsz) for o in objects]  # float32 as ever
    if task == "segment":
        return [f"{o.cls} {points(o.outline, imgsz)}" for o in objects]
    if task == "obb":
        return [f"{o.cls} {points(o.frame, imgsz)}" for o in objects]
    if task == "pose":
        lines = []
        for o in objects:
            frame_box = [*o.frame.min(0), *o.frame.max(0)]
            kpts = " ".join(f"{x:.6f} {y:.6f} 2" for x, y in np.clip(o.frame / imgsz, 0.0, 1.0))
            lines.append(f"{box_line(o.cls, frame_box, imgsz)} {kpts}")
        return lines
    raise ValueError(f"no label lines for task '{task}'; one of {', '.join(TASKS[:4])}")


def crops(
    image: np.ndarray, objects: list[Digit], margin: float = 0.15, min_side: int = 8
) -> list[tuple[int, np.ndarray]]:
    """(class, BGR crop) of every digit whose box is at least ``min_side`` pixels, with ``margin`` of its size
    around it (clipped to the image)."""
    h, w = image.shape[:2]
    out = []
    for o in objects:
        x1, y1, x2, y2 = o.box
        if min(x2 - x1, y2 - y1) < min_side:
            continue
        mx, my = margin * (x2 - x1), margin * (y2 - y1)
        x1, y1 = int(max(0, x1 - mx)), int(max(0, y1 - my))
        x2, y2 = int(min(w, np.ceil(x2 + mx))), int(min(h, np.ceil(y2 + my)))
        out.append((o.cls, image[y1:y2, x1:x2].copy()))
    return out
