"""Semantic segmentation and depth (ultralytics' two newer tasks) with HorNet: DigitScenes maps that mean what they
say, the YOLO26 files fold and export like PyTorch with live HorBlocks, and every command trains, validates and
predicts them, or says in one line why the data does not fit."""

from __future__ import annotations

import csv
import math

import cv2
import numpy as np
import pytest
import torch
from conftest import DENSE_YAMLS, REPO, cli, make_alive_, scale_n_cfg
from test_task_models import close, head_inputs
from ultralytics import YOLO
from ultralytics.cfg import TASKS

from yolo_hornet import HorBlock
from yolo_hornet.data.dense_maps import DEPTH_SCALE, DIGIT_HEIGHT, INK_LEVEL, PLANE_DEPTH, overlap, semantic_map
from yolo_hornet.data.digitscenes import DigitScenes, write_dataset
from yolo_hornet.data.task_labels import BACKGROUND

pytestmark = pytest.mark.skipif(
    not {"semantic", "depth"} <= set(TASKS), reason="this ultralytics has no semantic/depth task (8.4.1xx has both)"
)


def test_detection_images_unchanged():
    """The depth scenes' cards are drawn only with ``cards``: a detection scene is still the bundled JPEG, byte for
    byte."""
    gen = DigitScenes(imgsz=320, seed=0)
    for i in (0, 7):
        image, _ = gen.scene_objects(i, "val")
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 75])
        assert ok and buf.tobytes() == (REPO / "data" / "digitscenes" / "images" / "val" / f"{i:05d}.jpg").read_bytes()


def test_semantic_masks_are_the_digits(tmp_path):
    data = write_dataset(tmp_path / "sem", train=6, val=2, imgsz=128, seed=3, task="semantic")
    text = data.read_text()
    assert "masks_dir: masks" in text and "nc: 11" in text and f"{BACKGROUND}: background" in text
    gen = DigitScenes(imgsz=128, seed=3)
    checked = 0
    for i in range(6):
        mask = cv2.imread(str(tmp_path / "sem" / "masks" / "train" / f"{i:05d}.png"), cv2.IMREAD_UNCHANGED)
        image = cv2.imread(str(tmp_path / "sem" / "images" / "train" / f"{i:05d}.jpg")).astype(float)
        _, objects = gen.scene_objects(i, "train")
        assert mask.dtype == np.uint8 and mask.shape == (128, 128)
        assert (mask == semantic_map(objects, 128)).all()
        outside = np.ones_like(mask, bool)
        for k, o in enumerate(objects):
            x1, y1, x2, y2 = o.box.astype(int)
            outside[y1:y2, x1:x2] = False
            if any(overlap(o.box, later.box) for later in objects[k + 1 :]):
                continue  # (a later digit may paint over this one)
            ink = o.ink >= INK_LEVEL
            region = mask[y1:y2, x1:x2]
            assert (region[ink] == o.cls).all() and ink.sum() >= 3
            shape = np.zeros((y2 - y1, x2 - x1), np.uint8)  # the segment task's polygon, filled
            cv2.fillPoly(shape, [np.round(o.outline - [x1, y1]).astype(np.int32)], 1)
            assert (region[shape.astype(bool)] == o.cls).all()
            pixels = image[y1:y2, x1:x2]
            if (~ink).sum() >= 3:  # the image shows ink where the mask says: its colour stands out of the box's rest
                assert np.abs(pixels[ink].mean(0) - pixels[~ink].mean(0)).max() > 25, (i, k)
            checked += 1
        assert (mask[outside] == BACKGROUND).all()
        assert set(np.unique(mask)) <= set(range(11))
    assert checked >= 15


def test_depth_maps_follow_the_cards(tmp_path):
    write_dataset(tmp_path / "d", train=8, val=2, imgsz=160, seed=4, task="depth")
    gen = DigitScenes(imgsz=160, seed=4)
    cards = 0
    for i in range(8):
        image, objects = gen.scene_objects(i, "train", cards=True)
        depth_png = cv2.imread(str(tmp_path / "d" / "depth" / "train" / f"{i:05d}.png"), cv2.IMREAD_UNCHANGED)
        assert depth_png.dtype == np.uint16 and depth_png.shape == (160, 160) and depth_png.min() > 0
        depth = depth_png / DEPTH_SCALE
        covered = np.zeros(depth.shape, bool)
        for k, o in enumerate(objects):
            h = o.ink.shape[0] if o.box[1] > 0 and o.box[3] < 160 else None  # a whole digit's height in pixels
            if h is not None and all(o.box[[0, 2]] == np.clip(o.box[[0, 2]], 1, 159)):
                assert abs(o.depth - DIGIT_HEIGHT * 160 / h) <= 0.35 * o.depth  # ink box ~ the pasted height
            x1, y1, x2, y2 = o.card
            covered[y1:y2, x1:x2] = True
            nearer = [p for p in objects if p is not o and p.depth < o.depth and overlap(o.card, p.card)]
            for later in objects[k + 1 :]:  # the image paints a later card over an earlier one: it is nearer
                if overlap(o.card, later.card):
                    assert later.depth < o.depth
            if not nearer:
                assert np.allclose(depth[y1:y2, x1:x2], o.depth, atol=1.0 / DEPTH_SCALE)
                free = np.zeros(depth.shape, bool)
                free[y1:y2, x1:x2] = True
                bx1, by1, bx2, by2 = o.box.astype(int)
                free[by1:by2, bx1:bx2] = False  # the card's paper, without the digit's ink box
                if free.sum() > 20:
                    assert image[free].std(0).max() < 6  # plain paper (+ noise): the image shows the card there
                cards += 1
        plane = depth[~covered]
        assert plane.size and PLANE_DEPTH[0] - 2.5 <= plane.min() and plane.max() <= PLANE_DEPTH[1] + 2.5
        assert plane.min() > max((o.depth for o in objects), default=0)  # every card is in front of the plane
    assert cards >= 15


def live_share(model: torch.nn.Module, x: torch.Tensor) -> float:
    """How much the HorBlocks move the output that an equality check compares: the max change of the model's first
    output when every HorBlock's layer scales are zeroed (semantic logits: the share of pixels whose class changes)."""

    def first(out):
        return out if isinstance(out, torch.Tensor) else first(out[0])

    blocks = [m for m in model.modules() if isinstance(m, HorBlock)]
    with torch.no_grad():
        ref = first(model(x)).clone()
        saved = [(m.gamma1.clone(), m.gamma2.clone()) for m in blocks]
        for m in blocks:
            m.gamma1.zero_()
            m.gamma2.zero_()
        off = first(model(x))
        for m, (g1, g2) in zip(blocks, saved):
            m.gamma1.copy_(g1)
            m.gamma2.copy_(g2)
    if type(model.model[-1]).__name__ == "SemanticSegment":
        return (ref.argmax(1) != off.argmax(1)).float().mean().item()
    return (ref - off).abs().max().item()


@pytest.mark.parametrize("name", DENSE_YAMLS)
def test_fused_equals_unfused(tmp_path, name):
    torch.manual_seed(0)
    model = make_alive_(YOLO(str(scale_n_cfg(tmp_path, name))).model, batch_norm=True).eval()
    x = torch.rand(1, 3, 96, 128)
    assert live_share(model, x) > 5e-3
    with torch.no_grad():
        ref, ref_in = model(x), head_inputs(model, x)
        model.fuse()
        got, got_in = model(x), head_inputs(model, x)
    assert all(b.gamma1 is None for b in model.modules() if isinstance(b, HorBlock))
    close(got_in, ref_in)
    close([got if isinstance(got, torch.Tensor) else got[0]], [ref if isinstance(ref, torch.Tensor) else ref[0]])


@pytest.mark.parametrize("name", DENSE_YAMLS)
def test_onnx_matches_pytorch(tmp_path, name):
    ort = pytest.importorskip("onnxruntime")
    torch.manual_seed(0)
    model = YOLO(str(scale_n_cfg(tmp_path, name)))
    make_alive_(model.model, batch_norm=True)
    f = model.export(format="onnx", imgsz=160, verbose=False)
    sess = ort.InferenceSession(f, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).random((1, 3, 160, 160), dtype=np.float32)
    got = torch.from_numpy(sess.run(None, {sess.get_inputs()[0].name: x})[0])
    net = model.model.eval()
    share = live_share(net, torch.from_numpy(x))  # the HorBlocks really move what is compared: without them, the
    assert share > (5e-3 if model.task == "semantic" else 1e-2)  # class map differs on 5x the 0.1% allowed below
    with torch.no_grad():
        want = net(torch.from_numpy(x))
    want = want if isinstance(want, torch.Tensor) else want[0]
    up = torch.nn.functional.interpolate  # the exported heads return maps at input size, as they resize:
    if model.task == "depth":  # depth 4x, bilinear, align_corners=True
        want = up(want, scale_factor=4.0, mode="bilinear", align_corners=True)
    else:  # semantic logits 8x, bilinear, then the class map (baked into the ONNX graph)
        want = up(want, scale_factor=8.0, mode="bilinear", align_corners=False).argmax(1)
    assert got.shape == want.shape
    if model.task == "semantic":  # the class map: identical on >= 99.9% of the pixels
        same = (got.long() == want).float().mean().item()
        assert same >= 0.999, same
        assert want.unique().numel() > 1  # (a constant map would pass anything)
    else:  # depth within 1e-3 relative
        rel = ((got - want).abs() / want.abs().clamp_min(1e-6)).max().item()
        assert rel <= 1e-3, rel


@pytest.fixture(scope="module")
def dense_sets(tmp_path_factory):
    root = tmp_path_factory.mktemp("dense")
    return {t: write_dataset(root / t, train=8, val=4, imgsz=96, seed=1, task=t) for t in ("semantic", "depth")}


def last_row(run) -> dict[str, float]:
    rows = list(csv.DictReader((run / "results.csv").open()))
    return {k.strip(): float(v) for k, v in rows[-1].items()}


@pytest.mark.parametrize(
    "task,cfg,metric,printed",
    [
        ("semantic", "yolo26n-sem-hornet.yaml", "metrics/mIoU", "mIoU"),
        ("depth", "yolo26n-depth-hornet.yaml", "metrics/delta1", "delta1"),
    ],
)
def test_train_val_detect_scripts(tmp_path, dense_sets, task, cfg, metric, printed):
    data = str(dense_sets[task])
    r = cli("train.py", ["--cfg", cfg, "--data", data, "--epochs", "1", "--img", "96", "--batch-size", "4",
                         "--project", str(tmp_path / "runs"), "--name", "t"], tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    run = tmp_path / "runs" / "t"
    row = last_row(run)
    assert 0.0 <= row[metric] <= 1.0 and all(math.isfinite(v) for v in row.values())
    assert any(k.startswith("train/") and row[k] > 0 for k in row)  # a finite, positive training loss
    best = run / "weights" / "best.pt"
    r = cli(
        "val.py", ["--weights", str(best), "--data", data, "--img", "96", "--project", str(tmp_path / "v")], tmp_path
    )
    assert r.returncode == 0, r.stderr[-2000:]
    line = next(x for x in r.stdout.splitlines() if x.startswith(printed))
    assert f"{printed} {row[metric]:.3f}" in line  # val of best.pt reproduces the training's last val metric
    if task == "depth":
        assert "abs_rel" in line
    r = cli("detect.py", ["--weights", str(best), "--source", str(dense_sets[task].parent / "images" / "val"),
                          "--img", "96", "--project", str(tmp_path / "d")], tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    frame = next(x for x in r.stdout.splitlines() if x.startswith("frame 1"))
    if task == "semantic":  # per-class pixel shares, the biggest first, summing to <= 100%
        shares = [int(s.split()[-1].rstrip("%")) for s in frame.split("pixels: ")[1].split("  ")[0].split(", ")]
        assert shares == sorted(shares, reverse=True) and 1 <= sum(shares) <= 101
    else:
        lo, hi = map(float, frame.split("depth ")[1].split(" m")[0].split("-"))
        assert 0 < lo <= hi
    assert "4 frames" in r.stdout and len(list((tmp_path / "d").rglob("*.jpg"))) == 4


@pytest.mark.parametrize(
    "cfg,data,says",
    [
        ("yolo26n-sem-hornet.yaml", "depth", "has no semantic masks"),
        ("yolo26n-depth-hornet.yaml", "semantic", "has no depth maps"),
        ("yolov8n-hornet.yaml", "semantic", "holds semantic masks and no label files; a detect model"),
        ("yolo26n-sem-hornet.yaml", "bundled", "holds boxes only"),
    ],
)
def test_data_task_mismatch_is_one_line(tmp_path, dense_sets, capsys, cfg, data, says):
    from yolo_hornet.cli.yolo import main as yolo_main

    data = str(REPO / "data" / "digitscenes" / "data.yaml") if data == "bundled" else str(dense_sets[data])
    r = cli("train.py", ["--cfg", cfg, "--data", data, "--epochs", "1", "--project", str(tmp_path / "r")], tmp_path)
    assert r.returncode == 2, r.stderr[-1500:]
    for err in (r.stderr, None):
        if err is None:  # the same through yolo-hornet, in ultralytics' syntax
            capsys.readouterr()
            assert yolo_main(["train", f"model={cfg}", f"data={data}", "epochs=1", f"project={tmp_path / 'r'}"]) == 2
            err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], lines
        assert not (tmp_path / "r").exists()  # no half-made run folder


def test_restricted_reload_and_stock_file(tmp_path, dense_sets):
    """Stock yolo26n-sem.yaml trains through our train.py too; its checkpoint reloads under restricted loading."""
    from yolo_hornet.ultralytics_glue import restricted_loading

    r = cli("train.py", ["--cfg", "yolo26n-sem.yaml", "--data", str(dense_sets["semantic"]), "--epochs", "1",
                         "--img", "64", "--project", str(tmp_path / "runs"), "--name", "s"], tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    with restricted_loading():
        model = YOLO(str(tmp_path / "runs" / "s" / "weights" / "last.pt"))
    assert model.task == "semantic" and model.model.names[BACKGROUND] == "background"


def test_depth_calibration_rewrites_checkpoints_atomically(tmp_path):
    """ultralytics re-saves best.pt/last.pt in place after depth training; in our commands a failure halfway (a kill,
    a full disk) leaves the previous whole file, and no temporary file."""
    from ultralytics.models.yolo.depth import calibrate

    from yolo_hornet.atomic import atomic_in_place
    from yolo_hornet.ultralytics_glue import apply_patches

    apply_patches("commands")
    assert getattr(calibrate.calibrate_checkpoint, "_yolo_hornet", False)  # what DepthTrainer.final_eval calls

    def half_written(path, *args):
        with open(path, "wb") as f:
            f.write(b"half")
        raise OSError("No space left on device")

    def rewrite(path, *args):
        with open(path, "ab") as f:
            f.write(b"+calibrated")
        return {"mode": "scale"}

    ckpt = tmp_path / "best.pt"
    ckpt.write_bytes(b"original")
    with pytest.raises(OSError, match="No space"):
        atomic_in_place(half_written)(ckpt, None, "cpu")
    assert ckpt.read_bytes() == b"original" and [p.name for p in tmp_path.iterdir()] == ["best.pt"]
    assert atomic_in_place(rewrite)(ckpt, None, "cpu") == {"mode": "scale"}
    assert ckpt.read_bytes() == b"original+calibrated" and [p.name for p in tmp_path.iterdir()] == ["best.pt"]
