"""What a bare name means in this package: a ready YAML, bundled weights or the bundled DigitScenes split.

Used by the name hook of :mod:`yolo_hornet.ultralytics_glue` (``YOLO("yolov8s-hornet.yaml")`` from any folder) and
by the commands. ``digitscenes.yaml`` is the bundled DigitScenes split (300 train / 100 val at 320 px, seed 0),
written on first use into ultralytics' datasets folder, as ultralytics does for ``coco8.yaml``.
"""

from __future__ import annotations

from pathlib import Path

from .paths import CFG_DIR, WEIGHTS_DIR


def bundled_file(name: str) -> str | None:
    """Path of what the bare ``name`` means here (a ready YAML, ``yolov8n-hornet.pt``, ``yolov8n-seg-hornet.pt``,
    ``digitscenes.yaml``); None for any other name."""
    if (CFG_DIR / name).is_file():
        return str(CFG_DIR / name)
    if name.endswith(".pt") and (WEIGHTS_DIR / name).is_file():
        return str(WEIGHTS_DIR / name)
    if name == "digitscenes.yaml":
        from ultralytics.utils import DATASETS_DIR

        from .data.digitscenes import write_dataset_safely

        folder = Path(DATASETS_DIR) / "digitscenes"
        if not (folder / "data.yaml").is_file():
            write_dataset_safely(folder, overwrite=folder.is_dir(), train=300, val=100, imgsz=320, seed=0)
        return str(folder / "data.yaml")
    return None
