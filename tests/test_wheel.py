"""The installed package, not the checkout: build the wheel, install it into a fresh virtual environment and use it
from an empty folder, offline (names by bare name, no-argument detect, yolo-hornet val and export).

The new environment gets the already-installed dependencies (torch, ultralytics, ...) through a ``.pth`` line, so
nothing is downloaded; ``yolo_hornet`` itself comes only from the wheel (the checkout is not on its path).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, guarded_env

SKIP = shutil.ignore_patterns(".venv", ".git", "runs", "datasets", "build", "dist", "*.egg-info", "__pycache__",
                              ".pytest_cache", ".ruff_cache", "*.cache")  # fmt: skip


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("venv3m")  # a folder name with a digit + scale letter (venv3m0)
    src = shutil.copytree(REPO, root / "src", ignore=SKIP, symlinks=True)
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(root / "dist")]
    subprocess.run([*build, str(src)], check=True, capture_output=True, cwd=root)
    wheel = next((root / "dist").glob("yolo_hornet-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "yolo_hornet/assets/weights/yolov8n-hornet.pt" in names and "yolo_hornet/cfg/yolo11-hornet.yaml" in names
    assert "yolo_hornet/assets/weights/yolov8n-seg-hornet.pt" in names  # the bundled segmentation weights too
    assert "yolo_hornet/assets/demo/digits_demo.mp4" in names and "yolo_hornet_cli.py" in names
    env = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    python = env / "bin" / "python"
    site = Path(subprocess.check_output([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        text=True).strip())  # fmt: skip
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q"]
    subprocess.run([*install, str(wheel)], check=True, capture_output=True)
    return env


def run(env: Path, cmd: list[str], cwd: Path, **extra: str) -> subprocess.CompletedProcess:
    environ = {**guarded_env(cwd), **extra}
    environ["PATH"] = os.pathsep.join([str(env / "bin"), environ["PATH"]])
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=environ, timeout=600)
    assert out.returncode == 0, (cmd, out.stdout[-2000:], out.stderr[-3000:])
    return out


def test_installed_package_from_an_empty_folder(venv, tmp_path):
    code = (
        "import yolo_hornet; from ultralytics import YOLO\n"
        "print(yolo_hornet.__file__)\n"
        "print(sum(p.numel() for p in YOLO('yolov8s-hornet.yaml').model.parameters()))\n"
        "print(len(YOLO('yolov8n-hornet.pt').names))\n"
    )
    out = run(venv, [str(venv / "bin" / "python"), "-c", code], tmp_path, YOLO_OFFLINE="1")  # a library user's choice
    file, params, classes = out.stdout.split()[-3:]
    assert file.startswith(str(venv)) and not file.startswith(str(REPO))
    assert abs(int(params) / 1e6 - 10.36) < 0.01 and classes == "10"

    out = run(venv, [str(venv / "bin" / "yolo-hornet-detect")], tmp_path)
    assert "90 frames" in out.stdout and list((tmp_path / "runs" / "detect" / "exp").glob("digits_demo.*"))

    datasets = tmp_path / "datasets"  # ultralytics' datasets folder, in this test's fresh settings
    run(venv, [str(venv / "bin" / "yolo-hornet"), "settings", f"datasets_dir={datasets}"], tmp_path)
    args = ["model=yolov8n-hornet.pt", "data=digitscenes.yaml", "imgsz=96", "batch=16", "plots=False"]
    run(venv, [str(venv / "bin" / "yolo-hornet"), "val", *args], tmp_path)
    assert (datasets / "digitscenes" / "data.yaml").is_file()  # made on first use

    run(venv, [str(venv / "bin" / "yolo-hornet"), "export", "model=yolov8n-hornet.pt", "format=onnx", "imgsz=96"],
        tmp_path)  # fmt: skip
    assert (tmp_path / "yolov8n-hornet.onnx").stat().st_size > 1e6  # next to the copied weights, here
    assert not list(venv.rglob("*.onnx"))  # nothing written into the installed package


@pytest.mark.slow
def test_installed_yolov5_style_commands(venv, tmp_path):
    """yolo-hornet-train, -val and -export of the installed package, once each, from an empty folder."""
    from yolo_hornet.data.digitscenes import write_dataset

    data = write_dataset(tmp_path / "digits", train=8, val=4, imgsz=64, seed=6)
    bin_ = venv / "bin"
    run(venv, [str(bin_ / "yolo-hornet-train"), "--cfg", "yolov8n-hornet.yaml", "--data", str(data), "--epochs", "1",
               "--imgsz", "64", "--batch-size", "4", "--workers", "0", "--noplots"], tmp_path)  # fmt: skip
    best = tmp_path / "runs" / "train" / "exp" / "weights" / "best.pt"
    out = run(venv, [str(bin_ / "yolo-hornet-val"), "--weights", str(best), "--data", str(data), "--imgsz", "64"],
              tmp_path)  # fmt: skip
    assert "mAP50" in out.stdout and (tmp_path / "runs" / "val" / "exp").is_dir()
    run(venv, [str(bin_ / "yolo-hornet-export"), "--weights", str(best), "--include", "onnx", "--imgsz", "64"],
        tmp_path)  # fmt: skip
    assert best.with_suffix(".onnx").stat().st_size > 1e6
