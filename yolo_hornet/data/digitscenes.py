"""DigitScenes: a deterministic dataset of real handwritten digits pasted onto real photos, for every YOLO task.

Sources (shipped in ``yolo_hornet/assets``, OpenCV sample data, Apache-2.0/BSD): ``digits.png`` holds 5,000 real
handwritten digits (20x20 px cells, 50 rows x 100 columns, rows 5k..5k+4 are digit k) and ``backgrounds/`` 20 real
photos. Every scene is a random crop of a photo with 2-8 digits pasted on it: height 12-120 px (log-uniform), aspect
0.7-1.4, rotation +-12 deg, random ink colour with contrast to the local background, some overlap (IoU <= 0.3) and
some partial crops at the border (>= 55% visible). Train scenes use digit columns 0-79, val scenes columns 80-99, so
val digits are unseen writing. Everything follows one seed: the same arguments write byte-identical labels.

    python -m yolo_hornet.data.digitscenes --out datasets/digitscenes-2k --train 2000 --val 500 --imgsz 320
    python -m yolo_hornet.data.digitscenes --task segment --out datasets/digitscenes-seg --train 300 --val 100

``--task`` picks the labels (:mod:`yolo_hornet.data.task_labels`): detect boxes, segment ink polygons, obb rotated
frames, pose frame corners as keypoints, classify crops, semantic class maps of the ink, depth maps of digits on
cards (:mod:`yolo_hornet.data.dense_maps`). Pose and OBB scenes keep every digit whole in the image.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..paths import ASSETS
from .dense_maps import DEPTH_SCALE, card_box, card_depth, overlap, write_map
from .task_labels import BACKGROUND, DENSE, FLIP_IDX, KPT_SHAPE, TASKS, WHOLE, Digit, box_line, crops, label_lines

NAMES = [str(i) for i in range(10)]


def load_digits(path: Path = ASSETS / "digits.png") -> np.ndarray:
    """Return the digit sheet as (50, 100, 20, 20) uint8 cells: [row, column, y, x]."""
    sheet = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if sheet is None:
        raise FileNotFoundError(f"digit sheet not found: {path}")
    return sheet.reshape(50, 20, 100, 20).transpose(0, 2, 1, 3)


def load_backgrounds(folder: Path = ASSETS / "backgrounds") -> list[np.ndarray]:
    """Return the background photos (BGR), sorted by file name for determinism."""
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".png"})
    images = [cv2.imread(str(p), cv2.IMREAD_COLOR) for p in files]
    if not images or any(im is None for im in images):
        raise FileNotFoundError(f"background photos missing in {folder}")
    return images


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of one xyxy box ``a`` (4,) against boxes ``b`` (N, 4) -> (N,)."""
    x1, y1 = np.maximum(a[0], b[:, 0]), np.maximum(a[1], b[:, 1])
    x2, y2 = np.minimum(a[2], b[:, 2]), np.minimum(a[3], b[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda z: (z[..., 2] - z[..., 0]) * (z[..., 3] - z[..., 1])  # noqa: E731
    return inter / (area(a) + area(b) - inter + 1e-9)


@dataclass
class DigitScenes:
    """Scene generator. ``scene(i)`` is a pure function of (seed, split, i).

    Args:
        imgsz (int): Square image size in pixels.
        seed (int): Master seed.
        min_size (int): Smallest digit height in pixels.
        max_size (int): Largest digit height in pixels.
    """

    imgsz: int = 320
    seed: int = 0
    min_size: int = 12
    max_size: int = 120

    def __post_init__(self):
        self.cells = load_digits()
        self.backgrounds = load_backgrounds()

    def columns(self, split: str) -> range:
        """Digit sheet columns reserved for a split (train 0-79, val 80-99)."""
        return range(0, 80) if split == "train" else range(80, 100)

    def background(self, rng: np.random.Generator) -> np.ndarray:
        """Random crop (10-100% of the shorter side) of a random photo, resized to imgsz, with colour jitter."""
        im = self.backgrounds[rng.integers(len(self.backgrounds))]
        h, w = im.shape[:2]
        side = int(min(h, w) * rng.uniform(0.35, 1.0))
        y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
        crop = cv2.resize(im[y : y + side, x : x + side], (self.imgsz, self.imgsz), interpolation=cv2.INTER_LINEAR)
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        gain = rng.uniform(0.6, 1.3, size=3)
        return np.clip(crop.astype(np.float32) * gain, 0, 255)

    def digit_alpha(self, rng: np.random.Generator, split: str) -> tuple[int, np.ndarray, np.ndarray]:
        """Pick a digit; return (class, alpha mask (h, w) in [0, 1], frame (4, 2)) resized, stretched and rotated.

        ``frame`` holds the corners of the digit's own upright ink box after the rotation, in alpha pixel
        coordinates (x, y), in the digit's order top-left, top-right, bottom-right, bottom-left.
        """
        cls = int(rng.integers(10))
        row = 5 * cls + int(rng.integers(5))
        col = int(rng.choice(self.columns(split)))
        cell = self.cells[row, col].astype(np.float32) / 255.0
        ys, xs = np.nonzero(cell > 0.1)
        cell = cell[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        height = float(np.exp(rng.uniform(np.log(self.min_size), np.log(self.max_size))))
        aspect = rng.uniform(0.7, 1.4) * cell.shape[1] / cell.shape[0]
        size = (max(3, round(height * aspect)), max(4, round(height)))
        alpha = cv2.resize(cell, size, interpolation=cv2.INTER_LINEAR)
        pad = max(size) // 2
        alpha = cv2.copyMakeBorder(alpha, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
        centre = (alpha.shape[1] / 2, alpha.shape[0] / 2)
        rot = cv2.getRotationMatrix2D(centre, rng.uniform(-12, 12), 1.0)
        alpha = cv2.warpAffine(alpha, rot, (alpha.shape[1], alpha.shape[0]), flags=cv2.INTER_LINEAR)
        w, h = size
        corners = np.array([[pad, pad], [pad + w, pad], [pad + w, pad + h], [pad, pad + h]], np.float64)
        frame = corners @ rot[:, :2].T + rot[:, 2]
        ys, xs = np.nonzero(alpha > 0.25)
        return cls, alpha[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1], frame - [xs.min(), ys.min()]

    def scene(self, index: int, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
        """Return (BGR uint8 image (imgsz, imgsz, 3), labels (N, 5) as class, x1, y1, x2, y2 in pixels)."""
        image, objects = self.scene_objects(index, split)
        return image, np.array([[o.cls, *o.box] for o in objects], dtype=np.float32).reshape(-1, 5)

    def scene_objects(
        self, index: int, split: str = "train", whole: bool = False, cards: bool = False
    ) -> tuple[np.ndarray, list[Digit]]:
        """Return (BGR uint8 image (imgsz, imgsz, 3), the pasted digits).

        ``whole`` keeps every digit's rotated frame inside the image (for oriented boxes and keypoints, which must
        lie in the image); otherwise digits may be cut at the border (>= 55% of the box visible). ``cards`` (depth
        scenes) writes each digit on a flat card of plain paper at the distance its height implies
        (:func:`~yolo_hornet.data.dense_maps.card_depth`), and only lets a card cover cards that are farther away,
        so that what the image shows in front is in front. Without ``whole`` and ``cards`` the scenes are the
        detection scenes, unchanged.
        """
        rng = np.random.default_rng([self.seed, 0 if split == "train" else 1, index])
        img = self.background(rng)
        objects: list[Digit] = []
        for _ in range(int(rng.integers(2, 9))):
            for _attempt in range(10):
                cls, alpha, frame = self.digit_alpha(rng, split)
                h, w = alpha.shape
                x0 = int(rng.integers(-w // 3, self.imgsz - 2 * w // 3 + 1))
                y0 = int(rng.integers(-h // 3, self.imgsz - 2 * h // 3 + 1))
                box = np.array([max(x0, 0), max(y0, 0), min(x0 + w, self.imgsz), min(y0 + h, self.imgsz)], float)
                visible = (box[2] - box[0]) * (box[3] - box[1]) / (w * h)
                boxes = np.array([o.box for o in objects]).reshape(-1, 4)
                if visible < 0.55 or (objects and box_iou(box, boxes).max() > 0.3):
                    continue
                frame = frame + [x0, y0]
                if whole and not ((frame >= 0).all() and (frame <= self.imgsz).all() and visible == 1):
                    continue
                card, depth = None, 0.0
                if cards:
                    card, depth = card_box(x0, y0, w, h, self.imgsz), card_depth(h, self.imgsz)
                    if any(o.depth <= depth and overlap(card, o.card) for o in objects):
                        continue  # it would be painted over a nearer card
                    paper = rng.uniform(205, 250, size=3) if rng.random() < 0.6 else rng.uniform(25, 70, size=3)
                    img[card[1] : card[3], card[0] : card[2]] = paper * rng.uniform(0.9, 1.0)
                a = alpha[
                    box[1].astype(int) - y0 : box[3].astype(int) - y0, box[0].astype(int) - x0 : box[2].astype(int) - x0
                ]
                region = img[int(box[1]) : int(box[3]), int(box[0]) : int(box[2])]
                bright = region.mean() < 128
                ink = rng.uniform(170, 255, size=3) if bright else rng.uniform(0, 90, size=3)
                strength = rng.uniform(0.75, 1.0)
                region[:] = region * (1 - strength * a[..., None]) + ink * strength * a[..., None]
                objects.append(Digit(cls, box, frame, ink_outline(a) + box[:2], strength * a, card, depth))
                break
        noise = rng.normal(0, rng.uniform(0, 3), img.shape)
        image = np.clip(img + noise, 0, 255).astype(np.uint8)
        return image, objects


def ink_outline(alpha: np.ndarray, level: float = 0.35) -> np.ndarray:
    """Polygon (K, 2), K >= 3, around the ink of an alpha mask (h, w): the outer contour of the ink pixels, with
    strokes a few pixels apart joined first so that a broken stroke stays one digit."""
    mask = (alpha > level).astype(np.uint8)
    k = max(3, min(alpha.shape) // 6) | 1
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    mask = cv2.copyMakeBorder(mask, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)  # closes contours at the border
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    contour = max(contours, key=cv2.contourArea).reshape(-1, 2).astype(np.float64) - 1
    if len(contour) < 3:  # a one-pixel line: its box
        h, w = alpha.shape
        return np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    contour = cv2.approxPolyDP(contour.astype(np.float32), 0.7, True).reshape(-1, 2).astype(np.float64)
    return np.clip(contour, 0, [alpha.shape[1], alpha.shape[0]])


def yolo_lines(labels: np.ndarray, imgsz: int) -> list[str]:
    """Convert (N, 5) class/xyxy pixel labels to YOLO txt lines ``cls cx cy w h`` (normalised)."""
    return [box_line(int(cls), box, imgsz) for cls, *box in labels]


def write_dataset(
    out: str | Path, train: int = 300, val: int = 100, imgsz: int = 320, seed: int = 0, task: str = "detect"
) -> Path:
    """Write an ultralytics-format DigitScenes dataset for ``task``; return its data.yaml (classify: the folder).

    detect/segment/obb/pose: images/, labels/ and data.yaml with 10 classes '0'..'9' (pose adds ``kpt_shape``
    and ``flip_idx``); semantic: images/, masks/ and 11 classes (10: background); depth: images/, depth/ and
    ``depth_scale``; classify: crops in ``train/<digit>/`` and ``val/<digit>/``. Label formats:
    :mod:`yolo_hornet.data.task_labels` and :mod:`yolo_hornet.data.dense_maps`.

    Args:
        out (str | Path): Output folder (created).
        train (int): Number of training scenes.
        val (int): Number of validation scenes.
        imgsz (int): Image size in pixels.
        seed (int): Master seed.
        task (str): detect, segment, pose, obb, classify, semantic or depth.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task '{task}'; one of {', '.join(TASKS)}")
    out = Path(out)
    gen = DigitScenes(imgsz=imgsz, seed=seed)
    folder = {"semantic": "masks", "depth": "depth"}.get(task, "labels")
    for split, count in (("train", train), ("val", val)):
        if task == "classify":
            for name in NAMES:
                (out / split / name).mkdir(parents=True, exist_ok=True)
        else:
            (out / "images" / split).mkdir(parents=True, exist_ok=True)
            (out / folder / split).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            image, objects = gen.scene_objects(i, split, whole=task in WHOLE, cards=task == "depth")
            if task == "classify":
                for j, (cls, crop) in enumerate(crops(image, objects)):
                    cv2.imwrite(
                        str(out / split / NAMES[cls] / f"{i:05d}_{j}.jpg"), crop, [cv2.IMWRITE_JPEG_QUALITY, 90]
                    )
                continue
            cv2.imwrite(str(out / "images" / split / f"{i:05d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 75])
            if task in DENSE:
                plane = np.random.default_rng([seed, 0 if split == "train" else 1, i, 1])  # the background plane
                write_map(out / folder / split / f"{i:05d}.png", task, objects, imgsz, plane)
                continue
            lines = label_lines(task, objects, imgsz)
            (out / "labels" / split / f"{i:05d}.txt").write_text("\n".join(lines) + "\n")
    if task == "classify":
        return out
    names = "\n".join(f"  {i}: '{n}'" for i, n in enumerate(NAMES))
    extra = {
        "pose": f"kpt_shape: {KPT_SHAPE} # the 4 corners of each digit's rotated frame: TL, TR, BR, BL\n"
        f"flip_idx: {FLIP_IDX}\n",
        "semantic": "masks_dir: masks # class maps masks/<split>/<stem>.png: digits 0-9 on their ink, 10 elsewhere\n",
        "depth": f"depth_scale: {DEPTH_SCALE} # depth/<split>/<stem>.png: uint16, PNG value {DEPTH_SCALE} = 1 metre\n",
    }.get(task, "")
    classes = f"nc: 10\nnames:\n{names}\n"
    if task == "semantic":
        classes = f"nc: 11\nnames:\n{names}\n  {BACKGROUND}: background\n"
    elif task == "depth":
        classes = "nc: 1\nnames:\n  0: depth\n"
    yaml_path = out / "data.yaml"
    title = "DigitScenes" if task == "detect" else f"DigitScenes-{task}"
    yaml_path.write_text(
        f"# {title} (yolo_hornet.data.digitscenes): {train} train / {val} val, {imgsz} px, seed {seed}\n"
        "# Real OpenCV handwritten digits on real photos; Apache-2.0/BSD (see NOTICE.md)\n"
        f"train: images/train\nval: images/val\n{extra}{classes}"
    )
    return yaml_path


def make_demo_video(
    out: str | Path,
    seconds: float = 6.0,
    fps: int = 15,
    size: tuple[int, int] = (640, 384),
    seed: int = 7,
    background: str = "board.jpg",
) -> Path:
    """Write an MP4 of real digits drifting over a real photo (the default source of ``detect.py``).

    Args:
        out (str | Path): Output ``.mp4`` path.
        seconds (float): Duration.
        fps (int): Frames per second.
        size (tuple[int, int]): (width, height).
        seed (int): Seed for digit choice and motion.
        background (str): File name of the photo in ``assets/backgrounds``.
    """
    rng = np.random.default_rng(seed)
    gen = DigitScenes(seed=seed, min_size=40, max_size=110)
    w, h = size
    photo = cv2.imread(str(ASSETS / "backgrounds" / background), cv2.IMREAD_COLOR)
    bg = cv2.resize(photo, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    sprites = []
    for _ in range(7):
        _, alpha, _ = gen.digit_alpha(rng, "val")
        pos = rng.uniform([0, 0], [w - alpha.shape[1], h - alpha.shape[0]])
        vel = rng.uniform(-40, 40, size=2) / fps
        ink = rng.uniform(0, 60, size=3) if bg.mean() > 110 else rng.uniform(200, 255, size=3)
        sprites.append([alpha, pos, vel, ink])
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for _ in range(int(seconds * fps)):
        frame = bg.copy()
        for sprite in sprites:
            alpha, pos, vel, ink = sprite
            ah, aw = alpha.shape
            pos += vel
            for k, lim in ((0, w - aw), (1, h - ah)):
                if not 0 <= pos[k] <= lim:
                    vel[k] = -vel[k]
                    pos[k] = np.clip(pos[k], 0, lim)
            x, y = int(pos[0]), int(pos[1])
            region = frame[y : y + ah, x : x + aw]
            region[:] = region * (1 - alpha[..., None]) + ink * alpha[..., None]
        writer.write(frame.astype(np.uint8))
    writer.release()
    return Path(out)


def write_dataset_safely(out: str | Path, overwrite: bool = False, **kwargs) -> Path:
    """Write a dataset to ``out`` without ever mixing it with, or silently replacing, files already there.

    A non-empty ``out`` is refused (``FileExistsError``) unless ``overwrite``; then the new set is written to a
    temporary sibling folder first and swapped in whole, so ``out`` never holds old and new files together.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"--out {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise FileExistsError(f"--out {out} is not empty; choose an empty folder or add --overwrite to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        written = write_dataset(staging, **kwargs)
        if out.exists():
            old = staging.with_name(staging.name + ".old")
            os.replace(out, old)
            os.replace(staging, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out / written.relative_to(staging)


def main(argv: list[str] | None = None) -> int:
    """Command line: write a DigitScenes dataset (and optionally the demo video). Returns the exit code."""
    p = argparse.ArgumentParser(
        description="Write a DigitScenes dataset (real handwritten digits on real photos) for one ultralytics task."
    )
    p.add_argument("--task", default="detect", choices=TASKS, help="label format (classify: ImageFolder crops)")
    p.add_argument("--out", default="datasets/digitscenes", help="output folder (must be empty, or --overwrite)")
    p.add_argument("--overwrite", action="store_true", help="replace a non-empty --out folder whole")
    p.add_argument("--train", type=int, default=300, help="number of training images")
    p.add_argument("--val", type=int, default=100, help="number of validation images")
    p.add_argument("--imgsz", type=int, default=320, help="image size in pixels")
    p.add_argument("--seed", type=int, default=0, help="master seed")
    p.add_argument("--demo-video", default="", help="also write the demo video to this .mp4 path")
    a = p.parse_args(argv)
    if a.train < 0 or a.val < 1 or a.imgsz < 32:
        print("error: --train must be >= 0, --val >= 1 and --imgsz >= 32", file=sys.stderr)
        return 2
    try:
        data = write_dataset_safely(
            a.out, a.overwrite, train=a.train, val=a.val, imgsz=a.imgsz, seed=a.seed, task=a.task
        )
    except (FileExistsError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {data}")
    if a.demo_video:
        print(f"wrote {make_demo_video(a.demo_video)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
