"""Export with ultralytics: ONNX (global filter as a plain circular conv, no FFT op) == PyTorch; TorchScript runs."""

import numpy as np
import pytest
import torch
from conftest import DETECT_YAMLS, hornet_share, make_alive_, scale_n_cfg
from ultralytics import YOLO

from yolo_hornet import HorBlock

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
IMGSZ = 160


def compare(onnx_out: np.ndarray, torch_out: np.ndarray):
    box = np.abs(onnx_out[:, :4] - torch_out[:, :4]).max() / IMGSZ
    cls = np.abs(onnx_out[:, 4:] - torch_out[:, 4:]).max()
    assert box <= 1e-4 and cls <= 1e-4, (box, cls)


@pytest.mark.parametrize("name", [*DETECT_YAMLS, "gf"])
def test_onnx_matches_pytorch(tmp_path, name):
    torch.manual_seed(0)
    model = YOLO(str(scale_n_cfg(tmp_path, name)))
    make_alive_(model.model)
    f = model.export(format="onnx", imgsz=IMGSZ)
    graph = onnx.load(f)
    ops = {n.op_type for n in graph.graph.node}
    assert not any("DFT" in op or "FFT" in op for op in ops), ops
    sess = ort.InferenceSession(f, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).random((1, 3, IMGSZ, IMGSZ), dtype=np.float32)
    got = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    with torch.no_grad():
        ref = model.model.eval()(torch.from_numpy(x))[0].numpy()
    if any(isinstance(m, HorBlock) for m in model.model.modules()):  # (gnConv/HorFPN-only files have no gate)
        assert hornet_share(model.model, torch.from_numpy(x)) > 1e-2  # the HorBlocks really move the output
    compare(got, ref)


def test_torchscript_export_runs(tmp_path):
    torch.manual_seed(0)
    model = YOLO(str(scale_n_cfg(tmp_path, "gf")))
    make_alive_(model.model)
    f = model.export(format="torchscript", imgsz=IMGSZ)
    ts = torch.jit.load(f)
    x = torch.rand(1, 3, IMGSZ, IMGSZ)
    with torch.no_grad():
        compare(ts(x)[0].numpy() if isinstance(ts(x), tuple) else ts(x).numpy(), model.model.eval()(x)[0].numpy())
