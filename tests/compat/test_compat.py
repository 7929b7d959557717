"""The compatibility subset: what must work on every ultralytics in the supported window.

Run by ``tests/compat/run.py`` once per ultralytics version, each installed into its own folder and put first on
``PYTHONPATH`` (``COMPAT_ULTRALYTICS`` names the version expected). Not collected by the default suite
(``norecursedirs``), which runs on the newest version anyway. Each test is one column of the matrix table.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
import ultralytics
from conftest import ALL_YAMLS, YAML_DIR
from reference_hornet import randomize_
from test_faults import base_args, epochs_in_csv, inject
from test_task_models import head_inputs
from ultralytics import YOLO

import yolo_hornet  # noqa: F401  (registers)
from yolo_hornet import ultralytics_glue as glue
from yolo_hornet.data.digitscenes import write_dataset

EXPECTED = os.environ.get("COMPAT_ULTRALYTICS") or ultralytics.__version__


def test_import():
    """The requested ultralytics is the one imported, and every import-time patch row holds on it."""
    assert ultralytics.__version__ == EXPECTED
    rows = {r.name: glue.STATUS.get(r.name) for r in glue.PATCHES if r.scope == "import"}
    assert all(v == "ok" for v in rows.values()), rows


@pytest.mark.parametrize("name", ALL_YAMLS)
def test_yaml_builds_and_fuses(name, tmp_path):
    """Every ready YAML builds at scale n and folds to the same output with live HorNet parts, or (a YOLO26 file on
    an ultralytics before YOLO26) fails with one line naming the version needed."""
    stem, rest = name.split("-", 1)
    path = tmp_path / f"{stem}n-{rest}"
    path.write_text((YAML_DIR / name).read_text())
    needed = next((v for p, v in glue.NEEDS_ULTRALYTICS.items() if name.startswith(p)), None)
    if needed and glue.Version(ultralytics.__version__) < glue.Version(needed):
        with pytest.raises(ValueError, match=rf"needs ultralytics>={needed}"):
            YOLO(str(path))
        return
    from ultralytics.cfg import TASKS

    task = next((t for part, t in glue.NEEDS_TASK.items() if part in path.name), None)
    if task and task not in TASKS:  # semantic/depth files on an ultralytics without that task: one clear line
        with pytest.raises(ValueError, match=rf"is a {task} model, and ultralytics .* has no {task} task"):
            YOLO(str(path))
        return
    model = YOLO(str(path)).model.eval()
    randomize_(model, seed=1)
    size = 64 if "-cls-" in name else 128
    x = torch.rand(1, 3, size, size)
    with torch.no_grad():
        before = head_inputs(model, x)
        model.fuse()
        after = head_inputs(model, x)
    assert len(before) == len(after) > 0
    for b, a in zip(before, after):
        scale = b.abs().max().item()
        assert a.shape == b.shape and scale > 0 and (a - b).abs().max().item() <= 1e-3 * scale + 1e-5


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """A 2-epoch yolov8n-hornet run of train.py interrupted in epoch 2, then resumed to the end."""
    from yolo_hornet.cli.train import main as train_main

    root = tmp_path_factory.mktemp("compat")
    data = write_dataset(root / "digits", train=16, val=4, imgsz=64, seed=5)
    project = root / "runs"
    mp = pytest.MonkeyPatch()
    inject(mp, 1, KeyboardInterrupt())
    rc = train_main(base_args(data, project, 2))
    mp.undo()
    assert rc == 130
    run = project / "exp"
    assert epochs_in_csv(run) == [1]
    assert train_main(["--resume", str(run / "weights" / "last.pt"), "--project", str(project)]) == 0
    return run


def test_train_interrupt_resume(run):
    assert epochs_in_csv(run) == [1, 2]
    assert sorted(p.name for p in (run / "weights").iterdir()) == ["best.pt", "last.pt"]


def test_predict(run, tmp_path):
    from yolo_hornet.cli.detect import main as detect_main

    image = next((run.parent.parent / "digits" / "images" / "val").glob("*.jpg"))
    rc = detect_main(["--weights", str(run / "weights" / "best.pt"), "--source", str(image), "--imgsz", "64",
                      "--project", str(tmp_path / "det"), "--conf-thres", "0.0001"])  # fmt: skip
    assert rc == 0 and (tmp_path / "det" / "exp" / image.name).is_file()


def test_val(run, tmp_path, capsys):
    from yolo_hornet.cli.val import main as val_main

    data = run.parent.parent / "digits" / "data.yaml"
    rc = val_main(["--weights", str(run / "weights" / "best.pt"), "--data", str(data), "--imgsz", "64",
                   "--project", str(tmp_path / "val")])  # fmt: skip
    assert rc == 0 and "mAP50" in capsys.readouterr().out


def test_export_onnx(run, tmp_path):
    import onnxruntime as ort

    from yolo_hornet.cli.export import main as export_main

    weights = tmp_path / "best.pt"
    weights.write_bytes((run / "weights" / "best.pt").read_bytes())
    assert export_main(["--weights", str(weights), "--include", "onnx", "--imgsz", "64"]) == 0
    onnx = weights.with_suffix(".onnx")
    model = YOLO(str(weights)).model.float().eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        ref = model(x)
    ref = (ref[0] if isinstance(ref, (list, tuple)) else ref).numpy()
    session = ort.InferenceSession(str(onnx), providers=["CPUExecutionProvider"])
    out = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    assert out.shape == ref.shape and abs(out - ref).max() <= 1e-3 * abs(ref).max() + 1e-4


def test_restricted_reload(run):
    from yolo_hornet.safe_load import safe_load

    ckpt = safe_load(run / "weights" / "best.pt")
    model = ckpt.get("ema") or ckpt.get("model")
    assert any(type(m).__name__ == "HorBlock" for m in model.modules())
    with glue.restricted_loading():
        assert YOLO(str(run / "weights" / "best.pt")).task == "detect"


def test_yolo_hornet_command(run, tmp_path, capsys):
    """``yolo-hornet`` (ultralytics' syntax) on this version: a scaled ready-YAML name trains, and a mistake is one
    ``error:`` line with nothing left in ``project=``."""
    from yolo_hornet.cli.yolo import main as yolo_main

    data = run.parent.parent / "digits" / "data.yaml"
    args = ["train", "model=yolov8n-hornet.yaml", f"data={data}", "epochs=1", "imgsz=64", "batch=4", "workers=0",
            f"project={tmp_path}", "name=y", "plots=False"]  # fmt: skip
    assert yolo_main(args) == 0
    assert YOLO(str(tmp_path / "y" / "weights" / "last.pt")).model.yaml["scale"] == "n"
    capsys.readouterr()
    assert yolo_main(["train", "model=yolov8n-hornet.yaml", "data=nope.yaml", f"project={tmp_path / 'bad'}"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("error: data='nope.yaml' not found")
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize("name", ["yolov8n.yaml", "yolo11n-seg.yaml", "yolov10n.yaml", "yolov9t.yaml"])
def test_graft_stock_file(name):
    """yolo-hornet-graft on this version's own stock files: the stage blocks are found and the model builds."""
    import copy

    from yolo_hornet import HorBlock
    from yolo_hornet.graft import graft, model_class

    g = graft(name)
    assert len(g.replaced) == 2
    cfg = {**copy.deepcopy(g.model), "scale": g.scales[0]} if g.scales[0] else copy.deepcopy(g.model)
    model = model_class(cfg)(cfg, verbose=False)
    assert sum(isinstance(m, HorBlock) for m in model.modules()) >= 2
