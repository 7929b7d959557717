"""val.py, export.py, the yolo-hornet command and names that resolve from any folder (offline, tiny data)."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest
import torch
from conftest import REPO, cli
from ultralytics import YOLO

import yolo_hornet  # noqa: F401
from yolo_hornet.cli.export import main as export_main
from yolo_hornet.cli.val import main as val_main
from yolo_hornet.cli.yolo import main as yolo_main
from yolo_hornet.data.digitscenes import write_dataset

BUNDLED_WEIGHTS = REPO / "weights" / "yolov8n-hornet.pt"


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("ds") / "digits", train=4, val=6, imgsz=96, seed=7)


@pytest.fixture
def weights(tmp_path) -> Path:
    """A copy of the bundled weights (export writes next to the .pt file)."""
    return Path(shutil.copy(BUNDLED_WEIGHTS, tmp_path / "digits.pt"))


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(err)
    return err[-1] if err else ""


def test_val_matches_ultralytics_val(tmp_path, data, weights, capsys):
    metrics = YOLO(str(weights)).val(data=str(data), imgsz=96, batch=8, conf=0.001, iou=0.6, plots=False,
                                     project=str(tmp_path / "ref"), verbose=False)  # fmt: skip
    capsys.readouterr()
    argv = ["--weights", str(weights), "--data", str(data), "--img", "96", "--batch-size", "8"]
    assert val_main([*argv, "--project", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    assert f"mAP50 {metrics.box.map50:.3f}  mAP50-95 {metrics.box.map:.3f}" in out, out[-500:]
    assert (tmp_path / "runs" / "exp" / "confusion_matrix.png").is_file()


def test_val_bad_inputs(tmp_path, data, weights, capsys):
    project = ["--project", str(tmp_path / "runs")]
    assert val_main(["--weights", str(weights), "--data", str(data), "--task", "test", *project]) == 2
    assert "has no 'test:' entry" in error_line(capsys)
    assert val_main(["--weights", str(tmp_path / "none.pt"), "--data", str(data), *project]) == 2
    assert "not found" in error_line(capsys)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_export_formats_and_errors(tmp_path, data, weights, capsys):
    assert export_main(["--weights", str(weights), "--include", "torchscript", "onnx", "--simplify"]) == 0
    captured = capsys.readouterr()
    assert "TorchScript export does not take simplify; ignored for torchscript" in captured.err
    ts, onnx = weights.with_suffix(".torchscript"), weights.with_suffix(".onnx")
    assert ts.stat().st_size > 1e6 and onnx.stat().st_size > 1e6
    x = torch.rand(1, 3, 320, 320)
    with torch.no_grad():
        want = YOLO(str(weights)).model.float().eval()(x)[0]
        got = torch.jit.load(str(ts))(x)
    got = got[0] if isinstance(got, (tuple, list)) else got
    assert torch.allclose(want, got, atol=1e-2), (want - got).abs().max()
    capsys.readouterr()
    argv = ["--weights", str(onnx), "--data", str(data), "--batch-size", "1", "--project", str(tmp_path / "runs")]
    assert val_main(argv) == 0  # an exported model validates too, at the size it was exported at (320)
    assert "mAP50 " in capsys.readouterr().out

    assert export_main(["--weights", str(weights), "--include", "foo"]) == 2
    assert "--include foo: not an export format; choose from torchscript, onnx, openvino" in error_line(capsys)
    if importlib.util.find_spec("openvino") is None:
        assert export_main(["--weights", str(weights), "--include", "openvino"]) == 2
        assert "needs the package 'openvino'" in error_line(capsys)


def test_yolo_hornet_is_the_ultralytics_cli(tmp_path, data, weights, capsys):
    args = ["val", f"model={weights}", f"data={data}", "imgsz=96", "batch=8", f"project={tmp_path}", "name=v"]
    assert yolo_main(args) == 0
    assert (tmp_path / "v" / "confusion_matrix.png").is_file()

    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    evil = tmp_path / "evil.pt"
    torch.save({"model": Payload()}, evil)
    assert yolo_main(["predict", f"model={evil}", f"source={data.parent / 'images' / 'val'}"]) == 2
    line = error_line(capsys)  # refused by our check before ultralytics loads it
    assert "refused" in line and "posix.system" in line and not marker.exists()
    assert yolo_main(["train", "model=no-such-model.yaml", f"data={data}"]) == 2
    assert error_line(capsys).startswith("error: FileNotFoundError")


def test_names_resolve_from_any_folder(tmp_path, monkeypatch):
    model = YOLO("yolov8s-hornet.yaml")  # cwd is an empty tmp folder
    assert abs(sum(p.numel() for p in model.model.parameters()) / 1e6 - 10.36) < 0.01  # the README's figure
    assert type(model.model.model[6]).__name__ == "C2fHB"
    local = tmp_path / "yolov8s-hornet.yaml"  # a user's file of the same name wins
    local.write_text((REPO / "models" / "yaml" / "yolov8-hornet.yaml").read_text().replace("nc: 80", "nc: 3"))
    assert YOLO("yolov8s-hornet.yaml").model.yaml["nc"] == 3

    import ultralytics.utils
    from ultralytics.data.utils import check_det_dataset

    monkeypatch.setattr(ultralytics.utils, "DATASETS_DIR", tmp_path / "datasets")
    d = check_det_dataset("digitscenes.yaml")
    assert d["nc"] == 10 and Path(d["val"]).parent.parent == tmp_path / "datasets" / "digitscenes"
    assert len(list((tmp_path / "datasets" / "digitscenes" / "images" / "train").glob("*.jpg"))) == 300
    bundled = sorted((REPO / "data" / "digitscenes" / "labels" / "val").glob("*.txt"))[:5]
    made = [tmp_path / "datasets" / "digitscenes" / "labels" / "val" / p.name for p in bundled]
    assert [p.read_text() for p in made] == [p.read_text() for p in bundled]  # the bundled split, regenerated


def test_detect_half_prints_no_deprecation(tmp_path):
    image = next((REPO / "data" / "digitscenes" / "images" / "val").glob("*.jpg"))
    out = cli("detect.py", ["--source", str(image), "--half", "--img", "96", "--project", "runs"], tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "deprecat" not in (out.stdout + out.stderr).lower()
