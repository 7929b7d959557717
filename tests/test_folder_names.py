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
    """A copy of the package under ``run2s/``: our ready YAMLs by scaled name, through train.py's resolver."""
    root = tmp_path / "run2s"
    shutil.copytree(REPO / "yolo_hornet", root / "yolo_hornet", ignore=shutil.ignore_patterns("__pycache__", "assets"))
    code = (
        "import yolo_hornet; from ultralytics import YOLO\n"
        "from yolo_hornet.cli.resolve import resolve_cfg\n"
        "print(yolo_hornet.__file__)\n"
        "m = YOLO(resolve_cfg('yolov5s-hornet.yaml'))\n"
        "print(m.model.yaml['scale'], sum(p.numel() for p in m.model.parameters()))\n"
    )
    env = guarded_env(tmp_path)
    env["PYTHONPATH"] = f"{root}:{env.get('PYTHONPATH', '')}"
    env["YOLO_OFFLINE"] = "1"  # a library user's choice (the import itself sets nothing)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    file, scale, n = out.stdout.split()[-3:]
    assert file.startswith(str(root)) and scale == "s"
    assert int(n) == params(YOLO("yolov5s-hornet.yaml"))
