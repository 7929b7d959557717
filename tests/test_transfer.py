"""train.py --cfg <our YAML> --weights <stock checkpoint>: every tensor whose name and shape match is transferred,
and the run says which YAML rows were transferred and which start fresh (offline: a stock model trained here)."""

from __future__ import annotations

import re

import pytest
import torch
from ultralytics import YOLO

import yolo_hornet  # noqa: F401
from yolo_hornet.cli.train import main as train_main
from yolo_hornet.cli.transfer import transfer_rows
from yolo_hornet.data.digitscenes import write_dataset


def test_stock_checkpoint_start_reports_rows(tmp_path, capsys):
    from yolo_hornet.ultralytics_glue import cli_offline_policy

    cli_offline_policy()  # as our commands run: no font or AMP-check download for the stock run either
    data = write_dataset(tmp_path / "ds", train=4, val=2, imgsz=64, seed=2)
    stock = YOLO("yolov8n.yaml")
    stock.train(data=str(data), epochs=1, imgsz=64, batch=2, workers=0, plots=False, val=False,
                project=str(tmp_path / "stock"), name="run", verbose=False)  # fmt: skip
    weights = tmp_path / "stock" / "run" / "weights" / "last.pt"
    capsys.readouterr()
    argv = ["--cfg", "yolov8n-hornet.yaml", "--weights", str(weights), "--data", str(data), "--epochs", "1"]
    assert (
        train_main([*argv, "--img", "64", "--batch-size", "2", "--workers", "0", "--project", str(tmp_path / "r")]) == 0
    )
    out = capsys.readouterr().out
    # yolov8-hornet differs from yolov8 only in rows 6 and 8; Upsample/Concat rows (10, 11, 13, 14, 17, 20) hold no
    # weights, and Detect (22) transfers whole because the model is built for the data's 10 classes, as trained
    assert "transferred rows: 0-5, 7, 9, 12, 15-16, 18-19, 21-22 " in out, out[-3000:]
    partly = re.search(r"partly transferred: (.*)", out).group(1)
    assert re.fullmatch(r"6 \(C2fHB: \d+/\d+\), 8 \(C2fHB: \d+/\d+\)", partly)  # their 1x1 input convs match
    assert "start fresh: none" in out


def test_transfer_rows_counts_name_and_shape_matches():
    ours = YOLO("yolov8n-hornet.yaml").model
    stock = YOLO("yolov8n.yaml").model
    rows = transfer_rows(ours, stock)
    assert rows[0] == (len(ours.model[0].state_dict()), len(ours.model[0].state_dict()))
    c2fhb = ours.model[6].state_dict()
    hit = sum(1 for k, v in c2fhb.items() if stock.model[6].state_dict().get(k, torch.empty(0)).shape == v.shape)
    assert rows[6] == (hit, len(c2fhb)) and 0 < hit < len(c2fhb)
    assert transfer_rows(ours, YOLO("yolo11n.yaml").model)[22][0] < len(ours.model[22].state_dict())


@pytest.mark.slow
def test_transferred_rows_hold_the_checkpoint_tensors_when_classes_differ(tmp_path, capsys):
    """With lr 0 the trained model keeps its start: every row the report calls transferred holds the stock
    checkpoint's tensors; with 12 classes for a 10-class checkpoint the class convs cannot transfer, and the report
    says the Detect row is only partly transferred."""
    import yaml

    from yolo_hornet.ultralytics_glue import cli_offline_policy

    cli_offline_policy()
    data = write_dataset(tmp_path / "ds", train=4, val=2, imgsz=64, seed=2)
    stock = YOLO("yolov8n.yaml")
    stock.train(data=str(data), epochs=1, imgsz=64, batch=2, workers=0, plots=False, val=False,
                project=str(tmp_path / "stock"), name="run", verbose=False)  # fmt: skip
    weights = tmp_path / "stock" / "run" / "weights" / "last.pt"
    d = yaml.safe_load(data.read_text())
    d["names"], d["nc"] = [str(i) for i in range(12)], 12  # 12 classes: the checkpoint has 10
    data12 = data.with_name("data12.yaml")
    data12.write_text(yaml.safe_dump(d))
    hyp = tmp_path / "hyp.yaml"
    hyp.write_text("lr0: 0.0\nlrf: 1.0\nwarmup_epochs: 0\nwarmup_bias_lr: 0.0\nweight_decay: 0.0\n")
    capsys.readouterr()
    argv = ["--cfg", "yolov8n-hornet.yaml", "--weights", str(weights), "--data", str(data12), "--epochs", "1",
            "--img", "64", "--batch-size", "2", "--workers", "0", "--hyp", str(hyp), "--optimizer", "SGD",
            "--project", str(tmp_path / "r")]  # fmt: skip
    assert train_main(argv) == 0
    out = capsys.readouterr().out
    partly = re.search(r"partly transferred: (.*)", out).group(1)
    assert re.search(r"\b22 \(Detect: \d+/\d+\)", partly), partly  # the class convs differ in shape
    whole = re.search(r"transferred rows: (.*?) \(", out).group(1)
    assert not re.search(r"\b22\b", whole), whole

    source = torch.load(weights, map_location="cpu", weights_only=False)
    source = (source.get("ema") or source["model"]).float().state_dict()
    trained = torch.load(tmp_path / "r" / "exp" / "weights" / "last.pt", map_location="cpu", weights_only=False)
    trained = (trained.get("ema") or trained["model"]).float().state_dict()
    same = differ = 0
    for key, value in trained.items():
        if "running_" in key or "num_batches" in key:
            continue  # BatchNorm statistics move in training whatever the learning rate
        if key in source and source[key].shape == value.shape:
            assert torch.equal(value, source[key]), key  # transferred and kept (lr 0)
            same += 1
        else:
            differ += 1
    assert same > 100 and differ > 0
    cls = [k for k in trained if k.startswith("model.22.cv3.") and k.endswith(".2.weight")]
    assert cls and all(trained[k].shape[0] == 12 and source[k].shape[0] == 10 for k in cls)
