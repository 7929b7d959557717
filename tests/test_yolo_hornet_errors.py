"""``yolo-hornet`` keeps the scripts' promises: each bad input of train.py/detect.py, given in ultralytics' syntax, is
one ``error:`` line, exit 2, no traceback, nothing left in ``project=``; its help is ours."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from yolo_hornet.cli.yolo import main as yolo_main

DATA = REPO / "data" / "digitscenes" / "data.yaml"
IMAGES = REPO / "data" / "digitscenes" / "images" / "val"

CFG, PT = "model=yolov8n-hornet.yaml", "model=yolov8n-hornet.pt"
CASES = {  # the cases of test_cli_errors.py that ultralytics' syntax can express, as a user would type them
    "unknown-cfg": (["train", "model=yolov9z-nothing.yaml", f"data={DATA}"], ["yolov9z-nothing.yaml"]),
    "missing-data": (["train", CFG, "data=nope/data.yaml"], ["data='nope/data.yaml' not found"]),
    "broken-data": (["train", CFG, "data=BROKEN", "epochs=1", "imgsz=64"], ["images not found"]),
    "bad-device-train": (["train", CFG, f"data={DATA}", "device=cuda:7"], ["device=", "not available"]),
    "missing-weights": (["predict", "model=nope.pt", f"source={IMAGES}"], ["model='nope.pt' not found"]),
    "missing-source": (["predict", PT, "source=nope/where.jpg"], ["source='nope/where.jpg' not found"]),
    "webcam-missing": (["predict", PT, "source=7"], ["no webcam with index 7"]),
    "stream-unreachable": (["predict", PT, "source=rtsp://127.0.0.1:9/live"], ["stream unreachable"]),
    "empty-glob": (["predict", PT, "source=nowhere/*.jpg"], ["matches no files"]),
    "bad-device-predict": (["predict", PT, f"source={IMAGES}", "device=cuda:7"], ["device='cuda:7'"]),
    "conf-1.5": (["predict", PT, f"source={IMAGES}", "conf=1.5"], ["conf"]),
    "bad-mode": (["fly", PT], ["not a valid YOLO argument"]),
    "resume-nothing": (["train", "resume=True"], ["resume=True needs model="]),
    "resume-not-a-run": (["train", "resume=True", PT], ["resume=True: model="]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_error_line(case, tmp_path, capsys):
    args, needles = CASES[case]
    if "data=BROKEN" in args:
        broken = tmp_path / "broken.yaml"
        broken.write_text(f"path: {tmp_path / 'nothing'}\ntrain: images/train\nval: images/val\nnames: [a]\n")
        args = [f"data={broken}" if a == "data=BROKEN" else a for a in args]
    project = tmp_path / "runs"
    rc = yolo_main([*args, f"project={project}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2, err[-3:]
    assert err and err[-1].startswith("error: ") and "Traceback" not in "\n".join(err), err[-3:]
    for needle in needles:
        assert needle in err[-1], err[-1]
    assert not project.exists() or not any(project.rglob("*")), sorted(project.rglob("*"))  # nothing left


def test_untrusted_weights_name_our_switch(tmp_path, capsys):
    import os

    import torch

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    torch.save({"model": Payload()}, tmp_path / "evil.pt")
    assert yolo_main(["predict", f"model={tmp_path / 'evil.pt'}", f"source={IMAGES}"]) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "refused" in line and "trust_weights=True" in line and not (tmp_path / "pwned").exists()


def test_help_is_ours_and_fast(tmp_path):
    out = subprocess.run([sys.executable, "-m", "yolo_hornet.cli.yolo", "--help"], capture_output=True, text=True,
                         cwd=tmp_path)  # fmt: skip
    assert out.returncode == 0 and out.stdout.startswith("usage: yolo-hornet")
    for needle in ("trust_weights", "digitscenes.yaml", "yolov8n-hornet.pt", "doctor"):
        assert needle in out.stdout
    assert not Path(tmp_path / "runs").exists()


def test_offline_defaults_only_for_model_modes():
    from yolo_hornet.cli.yolo import with_defaults

    assert with_defaults(["settings", "datasets_dir=/x"]) == ["settings", "datasets_dir=/x"]  # ultralytics' own
    assert with_defaults(["train"]) == ["train", "model=yolov8n-hornet.pt", "data=digitscenes.yaml"]
    assert with_defaults(["predict", "model=a.pt", "source=b.jpg"]) == ["predict", "model=a.pt", "source=b.jpg"]
