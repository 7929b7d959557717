"""CPU deployment through OpenVINO: fp32 equals PyTorch for every ready YAML (the global filter included), and the
bundled weights quantized to int8 (NNCF, calibrated on DigitScenes) keep their detections."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import DETECT_YAMLS, REPO, make_alive_, scale_n_cfg
from ultralytics import YOLO

import yolo_hornet  # noqa: F401
from yolo_hornet.data.digitscenes import write_dataset

ov = pytest.importorskip("openvino")
IMGSZ = 96


@pytest.fixture(autouse=True)
def export_policy():
    """As export.py runs: OpenVINO's converter would otherwise send analytics (the network guard catches it)."""
    from yolo_hornet.ultralytics_glue import cli_offline_policy

    cli_offline_policy()


def run_openvino(folder: str, x: np.ndarray) -> np.ndarray:
    core = ov.Core()
    model = core.read_model(next(Path(folder).glob("*.xml")))
    compiled = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})  # not bf16 on bf16 CPUs
    return compiled([x])[compiled.outputs[0]]


@pytest.mark.parametrize("name", [*DETECT_YAMLS, "gf", "yolov8-hornet-tiny.yaml"])  # (+ the official HorNet-T row)
def test_openvino_fp32_matches_pytorch(tmp_path, name):
    torch.manual_seed(0)
    model = YOLO(str(scale_n_cfg(tmp_path, name)))
    make_alive_(model.model)
    folder = model.export(format="openvino", imgsz=IMGSZ, verbose=False)
    x = np.random.default_rng(0).random((1, 3, IMGSZ, IMGSZ), dtype=np.float32)
    got = run_openvino(folder, x)
    with torch.no_grad():
        want = model.model.eval()(torch.from_numpy(x))[0].numpy()
    assert np.abs(got[:, :4] - want[:, :4]).max() / IMGSZ <= 1e-4
    assert np.abs(got[:, 4:] - want[:, 4:]).max() <= 1e-4


@pytest.mark.parametrize(
    "name", ["yolov8-seg-hornet.yaml", "yolo11-pose-hornet.yaml", "yolov8-obb-hornet.yaml", "yolo11-cls-hornet.yaml"]
)
def test_openvino_fp32_matches_pytorch_for_every_task(tmp_path, name):
    """One model of each task besides detection, with live HorNet parts: every OpenVINO output equals PyTorch's."""
    from test_task_models import close, tensors

    torch.manual_seed(0)
    model = YOLO(str(scale_n_cfg(tmp_path, name)))
    make_alive_(model.model)
    size = 64 if "-cls" in name else IMGSZ
    folder = model.export(format="openvino", imgsz=size, verbose=False)
    x = np.random.default_rng(0).random((1, 3, size, size), dtype=np.float32)
    core = ov.Core()
    compiled = core.compile_model(core.read_model(next(Path(folder).glob("*.xml"))), "CPU",
                                  {"INFERENCE_PRECISION_HINT": "f32"})  # fmt: skip
    result = compiled([x])
    got = [torch.from_numpy(np.asarray(result[o])) for o in compiled.outputs]
    with torch.no_grad():
        want = model.model.eval()(torch.from_numpy(x))
    want = [want] if isinstance(want, torch.Tensor) else tensors(want[0] if isinstance(want, tuple) else want)
    close(got, want[: len(got)], rel=1e-4)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("nncf") is None, reason="nncf not installed")
def test_openvino_int8_keeps_the_detections(tmp_path):
    data = write_dataset(tmp_path / "ds", train=2, val=16, imgsz=160, seed=11)
    weights = Path(shutil.copy(REPO / "weights" / "yolov8n-hornet.pt", tmp_path / "w.pt"))
    fp32 = YOLO(str(weights)).export(format="openvino", imgsz=160, verbose=False)
    int8 = YOLO(str(weights)).export(format="openvino", imgsz=160, quantize=8, data=str(data), verbose=False)
    assert Path(int8) != Path(fp32) and list(Path(int8).glob("*.xml"))
    maps = {}
    for name, model in (("fp32", fp32), ("int8", int8)):
        m = YOLO(model, task="detect").val(data=str(data), imgsz=160, batch=1, plots=False, verbose=False,
                                           project=str(tmp_path / "val"), name=name)  # fmt: skip
        maps[name] = m.box.map50
    assert maps["fp32"] > 0.1, maps  # the bundled weights find digits at 160 px
    assert abs(maps["int8"] - maps["fp32"]) <= 0.05, maps
