"""train.py --freeze N / hornet (frozen rows keep their tensors through training, the others move), and a preset
HorNet row with drop path (the official linear schedule; stochastic in training, deterministic in eval)."""

from __future__ import annotations

import pytest
import torch
import yaml
from conftest import YAML_DIR, make_alive_
from ultralytics import YOLO

from yolo_hornet.cli.train import main as train_main
from yolo_hornet.data.digitscenes import write_dataset
from yolo_hornet.horblock import DropPath


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("ds") / "digits", train=8, val=4, imgsz=64, seed=8)


def rows_moved(start: dict, end: dict) -> dict[int, bool]:
    """``{row: any parameter changed}`` between two state dicts of the same YOLO model (BN statistics ignored)."""
    moved: dict[int, bool] = {}
    for key, value in start.items():
        if "running_" in key or "num_batches" in key or not key.startswith("model."):
            continue
        row = int(key.split(".")[1])
        moved[row] = moved.get(row, False) or not torch.equal(value, end[key])
    return moved


@pytest.mark.parametrize(
    "name, freeze, frozen",
    [("yolov8-hornet.yaml", ["3"], {0, 1, 2}), ("yolov8-hornet-backbone.yaml", ["hornet"], {0})],
)
def test_frozen_rows_keep_their_tensors(tmp_path, data, name, freeze, frozen):
    stem, rest = name.split("-", 1)
    cfg = tmp_path / f"{stem}n-{rest}"
    cfg.write_text((YAML_DIR / name).read_text())
    torch.manual_seed(0)
    start = YOLO(str(cfg))
    make_alive_(start.model)
    start.save(tmp_path / "start.pt")
    args = ["--weights", str(tmp_path / "start.pt"), "--data", str(data), "--epochs", "2", "--imgsz", "64",
            "--batch-size", "4", "--workers", "0", "--project", str(tmp_path / "runs"), "--noplots", "--noval",
            "--optimizer", "SGD", "--freeze", *freeze]  # fmt: skip
    assert train_main(args) == 0
    before = torch.load(tmp_path / "start.pt", map_location="cpu", weights_only=False)["model"].float().state_dict()
    after = torch.load(tmp_path / "runs" / "exp" / "weights" / "last.pt", map_location="cpu", weights_only=False)
    moved = rows_moved(before, after["model"].float().state_dict())  # the trained model itself, not its EMA
    assert {r for r, m in moved.items() if not m} >= frozen, moved  # frozen rows: every tensor as it started
    assert all(moved[r] for r in moved if r not in frozen), moved  # the rest trained


def test_preset_row_with_drop_path(tmp_path):
    d = yaml.safe_load((YAML_DIR / "yolov8-hornet-tiny.yaml").read_text())
    d["backbone"][0][3] = ["tiny_7x7", 0.2]  # HorNet-T with stochastic depth 0.2, as official detection configs
    cfg = tmp_path / "yolov8n-hornet-tiny-dp.yaml"
    cfg.write_text(yaml.safe_dump(d))
    model = YOLO(str(cfg)).model
    rates = [m.p for m in model.model[0].modules() if isinstance(m, DropPath)]
    expected = torch.linspace(0, 0.2, 2 + 3 + 18 + 2).tolist()[1:]  # the first block's rate is 0: no DropPath
    assert rates == pytest.approx(expected)  # one per block, used by both of its branches
    x = torch.rand(2, 3, 64, 64)
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(x)[0], model(x)[0])
        model.model[0].train()
        a, b = model.model[0](x), model.model[0](x)
    assert any(not torch.equal(u, v) for u, v in zip(a, b))  # stochastic in training
