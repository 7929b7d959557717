"""The export equality checks can fail: with HorBlocks silently dropped from the exported graph only (ONNX export,
or tracing for TorchScript), the same comparison the export tests make goes red on a model with live HorNet parts,
while on a fresh model (layer scales 1e-6) the drop would pass unnoticed (the weakness the live fixture removes)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import make_alive_, scale_n_cfg
from test_export import IMGSZ, compare
from ultralytics import YOLO

from yolo_hornet import HorBlock

ort = pytest.importorskip("onnxruntime")


def drop_horblocks_when(monkeypatch, exporting) -> None:
    """A deliberate bug: HorBlock returns its input (both residual branches skipped) while ``exporting()``."""
    forward = HorBlock.forward

    def broken(self, x):
        return self.proj(x) if exporting() else forward(self, x)

    monkeypatch.setattr(HorBlock, "forward", broken)


def onnx_vs_torch(tmp_path, alive: bool) -> tuple[np.ndarray, np.ndarray]:
    tmp_path.mkdir()
    torch.manual_seed(0)
    model = YOLO(str(scale_n_cfg(tmp_path, "yolov8-hornet.yaml")))
    if alive:
        make_alive_(model.model)
    f = model.export(format="onnx", imgsz=IMGSZ, verbose=False)
    sess = ort.InferenceSession(f, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).random((1, 3, IMGSZ, IMGSZ), dtype=np.float32)
    got = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    with torch.no_grad():
        return got, model.model.eval()(torch.from_numpy(x))[0].numpy()


def test_onnx_check_sees_horblocks_dropped_from_the_export(tmp_path, monkeypatch):
    drop_horblocks_when(monkeypatch, torch.onnx.is_in_onnx_export)
    with pytest.raises(AssertionError):
        compare(*onnx_vs_torch(tmp_path / "alive", alive=True))
    compare(*onnx_vs_torch(tmp_path / "fresh", alive=False))  # what the old fixture-free check could not see


def test_torchscript_check_sees_horblocks_dropped_from_tracing(tmp_path, monkeypatch):
    drop_horblocks_when(monkeypatch, torch.jit.is_tracing)
    torch.manual_seed(0)
    model = YOLO(str(scale_n_cfg(tmp_path, "yolov8-hornet.yaml")))
    make_alive_(model.model)
    ts = torch.jit.load(model.export(format="torchscript", imgsz=IMGSZ, verbose=False))
    x = torch.rand(1, 3, IMGSZ, IMGSZ)
    with torch.no_grad():
        got, want = ts(x), model.model.eval()(x)
    with pytest.raises(AssertionError):
        compare((got[0] if isinstance(got, tuple) else got).numpy(), want[0].numpy())
