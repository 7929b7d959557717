"""The ultralytics tasks in our commands: does a dataset fit the model's task, and what to print per task.

A model's task comes from its head (``YOLO(...).task``: detect, segment, pose, obb, classify, and on ultralytics
8.4.1xx semantic and depth). Datasets are
checked before training or validation so that a mismatch is one clear error instead of an empty-mask run or a
traceback deep in ultralytics' loader.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from .errors import UserError
from .resolve import load_data_yaml, split_paths

MAKE = "python -m yolo_hornet.data.digitscenes --task {task} --out datasets/digitscenes-{task}"
SAMPLE = 50  # label files read to tell the label format


def sample_images(data: str, d: dict, split: str) -> list[str]:
    """Up to ``SAMPLE`` image paths of ``split`` in the dataset YAML ``data`` (already read as ``d``)."""
    from ultralytics.data.utils import IMG_FORMATS

    images: list[str] = []
    for p in split_paths(data, d, split):
        if p.is_dir():
            images += sorted(str(f) for f in p.rglob("*") if f.suffix[1:].lower() in IMG_FORMATS)[:SAMPLE]
    return images[:SAMPLE]


def label_columns(data: str, d: dict, split: str = "train") -> set[int]:
    """Numbers per line in up to ``SAMPLE`` label files of ``split`` (ultralytics' layout: the image path with
    ``/images/`` replaced by ``/labels/`` and a ``.txt`` suffix)."""
    from ultralytics.data.utils import img2label_paths

    columns: set[int] = set()
    for label in img2label_paths(sample_images(data, d, split)):
        if Path(label).is_file():
            columns |= {len(line.split()) for line in Path(label).read_text().splitlines() if line.strip()}
    return columns


def dense_maps(data: str, d: dict, split: str) -> dict[str, int]:
    """How many of up to ``SAMPLE`` images of ``split`` have a semantic mask (``masks_dir``, default ``masks``,
    ``.png``) and a depth map (``depth/``, ``.png`` or ``.npy``), in ultralytics' layouts."""

    def swap(image: str, folder: str) -> Path:
        parts = list(Path(image).parts)
        i = len(parts) - 1 - parts[::-1].index("images") if "images" in parts else None
        if i is None:
            return Path(image + ".missing")
        parts[i] = folder
        return Path(*parts).with_suffix(".png")

    images = sample_images(data, d, split)
    masks = str(d.get("masks_dir") or "masks")
    return {
        "semantic": sum(swap(im, masks).is_file() for im in images),
        "depth": sum(swap(im, "depth").is_file() or swap(im, "depth").with_suffix(".npy").is_file() for im in images),
    }


def check_dense_data(data: str, d: dict, task: str, split: str | None, columns: set[int]) -> None:
    """Semantic and depth models need their maps; a box/mask/pose/OBB model does not train on maps alone."""
    maps = dense_maps(data, d, split) if split else {"semantic": 0, "depth": 0}
    if task == "semantic" and not maps["semantic"]:
        if columns == {5}:
            raise UserError(
                f"--data '{data}' holds boxes only (5 numbers per line) and no masks/ folder; a semantic model "
                f"needs class masks (masks_dir) or polygon labels; {make_data_hint(task)}"
            )
        if not columns:
            raise UserError(
                f"--data '{data}' has no semantic masks ({d.get('masks_dir') or 'masks'}/<split>/<image>.png) "
                f"and no polygon labels; {make_data_hint(task)}"
            )
    if task == "depth" and not maps["depth"]:
        raise UserError(
            f"--data '{data}' has no depth maps (depth/<split>/<image>.png or .npy next to images/); a depth model "
            f"needs them; {make_data_hint(task)}"
        )
    if task not in ("semantic", "depth") and not columns and (maps["semantic"] or maps["depth"]):
        kind = "semantic masks" if maps["semantic"] else "depth maps"
        raise UserError(
            f"--data '{data}' holds {kind} and no label files; a {task} model needs {task} labels; "
            f"{make_data_hint(task)}"
        )


def check_classify_folder(data: str, splits: tuple[str, ...] = ("train",)) -> str:
    """An image-classification dataset: a folder with ``train/<class>/`` (and ``val/`` or ``test/``) subfolders."""
    path = Path(data)
    if not path.is_dir():
        raise UserError(
            f"--data '{data}': a classify model needs a folder in the ImageFolder layout (train/<class>/*.jpg, "
            f"val/<class>/*.jpg), not a file; make one with: {MAKE.format(task='classify')}"
        )
    for split in splits:
        folder = path / split
        if not folder.is_dir() or not any(c.is_dir() for c in folder.iterdir()):
            raise UserError(f"--data '{data}' has no {split}/<class>/ folders (ImageFolder layout)")
    if not any((path / s).is_dir() for s in ("val", "test")):
        raise UserError(f"--data '{data}' has no val/ or test/ folder to validate on")
    return str(path)


def check_task_data(data: str, task: str, splits: tuple[str, ...] = ("train", "val")) -> str:
    """Check that ``data`` suits a model of ``task``; return what ultralytics' ``data=`` gets.

    Raises :class:`UserError` naming the mismatch: a classify model with a YAML or a box model with a folder, a
    pose dataset without ``kpt_shape``, boxes for a segment model, labels that are not 8 corner numbers for OBB,
    keypoints that do not match ``kpt_shape``.
    """
    if task == "classify":
        return check_classify_folder(data, tuple(s for s in splits if s == "train"))
    if Path(data).is_dir():
        raise UserError(
            f"--data '{data}' is a folder (an image-classification layout); a {task} model needs a dataset YAML"
        )
    d = load_data_yaml(data, splits)
    if task == "pose" and not d.get("kpt_shape"):
        raise UserError(
            f"--data '{data}' has no 'kpt_shape:' (e.g. kpt_shape: [17, 3]); a pose model needs keypoint labels; "
            f"make a pose set with: {MAKE.format(task='pose')}"
        )
    split = next((s for s in splits if d.get(s)), None)
    columns = label_columns(data, d, split) if split else set()
    check_dense_data(data, d, task, split, columns)
    if not columns or task in (
        "detect",
        "semantic",
        "depth",
    ):  # (detection also trains on polygon labels: ultralytics boxes them)
        return data
    if task == "segment" and columns == {5}:
        raise UserError(
            f"--data '{data}' holds boxes only (5 numbers per line); a segment model needs polygon labels "
            f"(class x1 y1 x2 y2 ...); make a segment set with: {MAKE.format(task='segment')}"
        )
    if task == "obb" and columns != {9}:
        raise UserError(
            f"--data '{data}' labels have {sorted(columns)} numbers per line; OBB needs 9 numbers per line (class "
            f"and 4 corners); make an OBB set with: {MAKE.format(task='obb')}"
        )
    if task == "pose":
        want = 5 + math.prod(d["kpt_shape"])
        if columns != {want}:
            raise UserError(
                f"--data '{data}' labels have {sorted(columns)} numbers per line; kpt_shape {d['kpt_shape']} "
                f"needs {want} (class, box, keypoints)"
            )
    return data


def result_summary(result) -> tuple[int, str]:
    """(objects found, short text) for one ``ultralytics.engine.results.Results`` of any task."""
    if getattr(result, "semantic_mask", None) is not None:  # the classes covering >= 1% of the pixels
        ids, counts = torch.unique(result.semantic_mask.data.flatten(), return_counts=True)
        shares = sorted(zip((counts / counts.sum()).tolist(), ids.tolist()), reverse=True)
        top = [f"{result.names.get(int(i), int(i))} {100 * f:.0f}%" for f, i in shares if f >= 0.01][:4]
        return 1, "pixels: " + ", ".join(top)
    if getattr(result, "depth", None) is not None:
        d = result.depth.data
        d = d[d > 0]
        return 1, f"depth {float(d.min()):.2f}-{float(d.max()):.2f} m" if d.numel() else "depth: no valid pixel"
    if result.probs is not None:
        top = int(result.probs.top1)
        return 1, f"top-1 '{result.names[top]}' {float(result.probs.top1conf):.2f}"
    boxes = result.obb if result.obb is not None else result.boxes
    n = len(boxes) if boxes is not None else 0
    return n, f"{n:3d} detections"


def make_data_hint(task: str) -> str:
    """How to get a dataset for ``task``: the DigitScenes command for the tasks it makes, else ultralytics' format."""
    from yolo_hornet.data.task_labels import TASKS

    if task in TASKS:
        return f"make a {task} set with: {MAKE.format(task=task)}"
    return f"give --data with a {task} dataset in ultralytics' format (see docs.ultralytics.com/datasets/{task})"


def metrics_line(metrics, task: str, split: str) -> str:
    """One line of validation results for ``task`` (detect: P, R, mAP50, mAP50-95; plus mask/pose/top-k; any other
    task: ultralytics' own metric names)."""
    if not hasattr(metrics, "box") and task != "classify":
        values = getattr(metrics, "results_dict", {}) or {}
        return "  ".join(f"{k.split('/')[-1].removesuffix('(B)')} {float(v):.3f}" for k, v in values.items()) + (
            f"  ({split} split)"
        )
    if task == "classify":
        return f"top-1 {metrics.top1:.3f}  top-5 {metrics.top5:.3f}  ({split} split)"
    box = metrics.box
    line = f"P {box.mp:.3f}  R {box.mr:.3f}  mAP50 {box.map50:.3f}  mAP50-95 {box.map:.3f}"
    extra = {"segment": ("mask", "seg"), "pose": ("pose", "pose")}.get(task)
    if extra:
        m = getattr(metrics, extra[1])
        line += f"  {extra[0]} mAP50 {m.map50:.3f}  {extra[0]} mAP50-95 {m.map:.3f}"
    return f"{line}  ({split} split)"
