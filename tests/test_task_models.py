"""Segment, pose, OBB and classify models (and YOLO12/YOLO26 detect) with HorBlocks: folding, ONNX export (YOLO26's
NMS-free end-to-end head included) and restricted loading give the same outputs as the PyTorch model."""

import numpy as np
import pytest
import torch
from conftest import TASK_YAMLS, YAML_DIR, make_alive_, scale_n_cfg
from reference_hornet import randomize_
from ultralytics import YOLO

import yolo_hornet  # noqa: F401
from yolo_hornet import HorBlock
from yolo_hornet.safe_load import safe_load
from yolo_hornet.ultralytics_glue import restricted_loading

MODEL_CLASS = {
    "detect": "DetectionModel",
    "segment": "SegmentationModel",
    "pose": "PoseModel",
    "obb": "OBBModel",
    "classify": "ClassificationModel",
}


def tensors(out) -> list[torch.Tensor]:
    """Every tensor of a (nested) model output, in order."""
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in tensors(o)]
    if isinstance(out, dict):
        return [t for v in out.values() for t in tensors(v)]
    return []


def close(got, want, rel: float = 1e-4) -> None:
    got, want = tensors(got), tensors(want)
    assert len(got) == len(want) and got
    for g, w in zip(got, want):
        assert g.shape == w.shape
        assert (g - w).abs().max().item() <= rel * max(1.0, w.abs().max().item()), (g - w).abs().max()


@pytest.mark.parametrize("name", TASK_YAMLS)
def test_fused_equals_unfused(tmp_path, name):
    torch.manual_seed(0)
    model = YOLO(str(scale_n_cfg(tmp_path, name))).model
    blocks = [m for m in model.modules() if isinstance(m, HorBlock)]
    assert blocks
    topk = getattr(model.model[-1], "one2one_cv2", None) is not None
    if topk:
        model.end2end = True  # YOLO26: fusing drops the one-to-many branch, so compare the one-to-one outputs
    for block in blocks:
        randomize_(block, seed=2)
    model.eval()
    size = 64 if "-cls" in name else 160
    x = torch.rand(1, 3, size, size + 32 * ("-cls" not in name))
    with torch.no_grad():
        ref, ref_in = model(x), head_inputs(model, x)
        model.fuse()
        assert all(b.gamma1 is None for b in blocks)  # the layer scales went into the convs
        got, got_in = model(x), head_inputs(model, x)
    close(got_in, ref_in)  # every map the head reads: all HorNet parts have run
    if not topk:  # (YOLO26's top-k keeps one of several tied rows by float rounding; the maps above cover our parts)
        close(got[0], ref[0])  # the inference outputs (with the prototype masks of a segmentation head)


def head_inputs(model: torch.nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """The feature maps the model's head receives for ``x``."""
    seen: list[torch.Tensor] = []
    hook = model.model[-1].register_forward_hook(lambda m, inputs, out: seen.extend(tensors(inputs)))
    try:
        model(x)
    finally:
        hook.remove()
    return seen


ONNX_CASES = [
    ("yolo26-hornet.yaml", False),  # NMS-free one-to-one head: export bakes top-k, (1, 300, 6)
    ("yolo26-seg-hornet.yaml", False),
    pytest.param("yolo26-pose-hornet.yaml", False, marks=pytest.mark.slow),
    ("yolo26-obb-hornet.yaml", False),
    ("yolo26-cls-hornet.yaml", None),
    pytest.param("yolov8-seg-hornet.yaml", None, marks=pytest.mark.slow),
    ("yolo11-pose-hornet.yaml", None),
    pytest.param("yolo11-obb-hornet.yaml", None, marks=pytest.mark.slow),
]


def spread_scores_(model: torch.nn.Module) -> None:
    """Random weights everywhere, so that the scores of the top-k head differ between anchors (a fresh model's are
    all ~1.56e-4, which would make every row a tie)."""
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (2 / fan_in) ** 0.5)
                if m.bias is not None:
                    m.bias.zero_()  # (the class biases start at -ln(nc / 0.01 * ...), which flattens every score)


@pytest.mark.parametrize("name,nms", ONNX_CASES)
def test_onnx_matches_pytorch(tmp_path, name, nms):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    torch.manual_seed(0)
    model = YOLO(str(scale_n_cfg(tmp_path, name)))
    if nms is False:
        spread_scores_(model.model)
    make_alive_(model.model)
    size = 64 if "-cls" in name else 160
    f = model.export(format="onnx", imgsz=size, nms=nms, verbose=False)
    sess = ort.InferenceSession(f, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).random((1, 3, size, size), dtype=np.float32)
    got = [torch.from_numpy(o) for o in sess.run(None, {sess.get_inputs()[0].name: x})]
    net = model.model.eval()
    if nms is False:
        net.end2end = True
    with torch.no_grad():
        want = net(torch.from_numpy(x))
    want = [want] if isinstance(want, torch.Tensor) else tensors(want[0] if isinstance(want, tuple) else want)
    if nms is False:
        assert got[0].shape[:2] == (1, 300), got[0].shape  # top-k detections, no NMS needed
        assert want[0].shape == got[0].shape
        same_detections(got[0][0], want[0][0])
        got, want = got[1:], want[1:]  # (a segmentation head's prototype masks follow)
    if got:
        close(got, want[: len(got)])


def same_detections(got: torch.Tensor, want: torch.Tensor, tol: float = 1e-3) -> None:
    """Two top-k outputs (k, 6 + extra) hold the same detections: every row of ``got`` is a row of ``want`` (box,
    score, class and the task's extra columns), except rows whose score ties the k-th score (the two runtimes may
    pick different ones among equal scores)."""
    scale = max(1.0, want.abs().max().item())
    assert torch.allclose(got[:, 4].sort().values, want[:, 4].sort().values, atol=1e-4)
    kth = want[:, 4].min()
    boundary = 0
    for row in got:
        if ((want - row).abs().max(1).values <= tol * scale).any():
            continue
        assert row[4] - kth <= 1e-4, row  # an unmatched row must be a tie at the cut
        boundary += 1
    assert boundary <= len(got) // 10, boundary  # the scores are spread: nearly every row is compared


@pytest.mark.parametrize("name", TASK_YAMLS)
def test_restricted_loading_round_trip(tmp_path, name):
    torch.manual_seed(0)
    model = YOLO(str(scale_n_cfg(tmp_path, name)))
    path = tmp_path / "model.pt"
    model.save(path)
    ckpt = safe_load(path)  # refuses any class missing from the allow-list
    assert type(ckpt["model"]).__name__ == MODEL_CLASS[model.task]
    with restricted_loading():
        reloaded = YOLO(str(path))
    assert reloaded.task == model.task
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        close(reloaded.model.float().eval()(x), model.model.float().eval()(x), rel=1e-3)


def test_yaml_names_of_every_task_resolve_from_any_folder():
    for task, suffix in (("segment", "-seg"), ("pose", "-pose"), ("obb", "-obb"), ("classify", "-cls")):
        assert YOLO(f"yolo26s{suffix}-hornet.yaml").task == task
    assert (YAML_DIR / "yolo26-seg-hornet.yaml").is_file()
