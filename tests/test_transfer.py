"""train.py --cfg <our YAML> --weights <stock checkpoint>: every tensor whose name and shape match is transferred,
and the run says which YAML rows were transferred and which start fresh (offline: a stock model trained here)."""

from __future__ import annotations

import re

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
