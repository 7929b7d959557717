"""Scaled YAML names in any folder: a digit followed by n/s/m/l/x in a folder name (``run2s``, ``venv3m``,
``tmp.Xy1xl``), spaces and non-ASCII letters must not change which file is read or its scale.

ultralytics strips the scale letter with a pattern applied to the whole path string; before the fix
``YOLO("run2s/yolov8s-mine.yaml")`` looked for ``run2/yolov8s-mine.yaml``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from conftest import REPO, YAML_DIR, guarded_env
from ultralytics import YOLO

import yolo_hornet  # noqa: F401  (registers)

FOLDERS = ["run2s", "with space 3m", "dönër1x"]


def params(model: YOLO) -> int:
    return sum(p.numel() for p in model.model.parameters())


@pytest.mark.parametrize("folder", FOLDERS)
def test_users_scaled_yaml_in_any_folder(tmp_path, folder):
    here = tmp_path / folder
    here.mkdir()
    shutil.copyfile(YAML_DIR / "yolov8-hornet.yaml", here / "yolov8-mine.yaml")
    model = YOLO(str(here / "yolov8s-mine.yaml"))
    assert model.model.yaml["scale"] == "s"
    assert model.model.yaml["yaml_file"] == str(here / "yolov8s-mine.yaml")
    assert params(model) == params(YOLO("yolov8s-hornet.yaml"))  # the same file by name, scale s
    assert params(YOLO(str(here / "yolov8n-mine.yaml"))) < params(model)
    with pytest.raises(FileNotFoundError):  # a name whose unscaled file is not there still fails as in ultralytics
        YOLO(str(here / "yolov8s-other.yaml"))


def test_checkout_under_a_scaled_folder_name(tmp_path):
    """A copy of the checkout under ``run2s ü/`` (digit + scale letter, a space, non-ASCII): train.py with a scaled
    ready-YAML name trains one epoch there, and detect.py predicts with the result."""
    from yolo_hornet.data.digitscenes import write_dataset

    root = tmp_path / "run2s ü"
    shutil.copytree(REPO / "yolo_hornet", root / "yolo_hornet", ignore=shutil.ignore_patterns("__pycache__", "*.pt"))
    for script in ("yolo_hornet_cli.py", "train.py", "detect.py"):
        shutil.copy(REPO / script, root / script)
    data = write_dataset(tmp_path / "digits", train=8, val=4, imgsz=64, seed=4)
    env = guarded_env(tmp_path)
    run = [
        sys.executable,
        str(root / "train.py"),
        "--cfg",
        "yolov5s-hornet.yaml",
        "--data",
        str(data),
        "--epochs",
        "1",
        "--imgsz",
        "64",
        "--batch-size",
        "4",
        "--workers",
        "0",
        "--project",
        str(root / "runs"),
        "--noplots",
    ]
    out = subprocess.run(run, capture_output=True, text=True, cwd=root, env=env)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    best = root / "runs" / "exp" / "weights" / "best.pt"
    code = f"import torch; m = torch.load({str(best)!r}, weights_only=False)['model']; print(m.yaml['scale'])"
    scale = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root,
                           env={**env, "YOLO_OFFLINE": "1"})  # fmt: skip
    assert scale.stdout.split()[-1] == "s", scale.stderr[-1000:]  # yolov5s: the scale letter was read
    detect = [sys.executable, str(root / "detect.py"), "--weights", str(best), "--source",
              str(data.parent / "images" / "val"), "--imgsz", "64", "--project", str(root / "det")]  # fmt: skip
    out = subprocess.run(detect, capture_output=True, text=True, cwd=root, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert len(list((root / "det" / "exp").glob("*.jpg"))) == 4
