"""Paths that do not depend on where things live: bundled names in every command, resume from another folder."""

from __future__ import annotations

import subprocess
import sys

import yaml
from conftest import cli, guarded_env
from test_faults import epochs_in_csv, inject

from yolo_hornet.cli.train import main as train_main
from yolo_hornet.data.digitscenes import write_dataset


def test_resume_from_another_folder(tmp_path, monkeypatch, capsys):
    """A run started with a relative --data path resumes from a different working folder."""
    first, other = tmp_path / "first", tmp_path / "other"
    first.mkdir()
    other.mkdir()
    write_dataset(first / "digits", train=16, val=4, imgsz=64, seed=5)
    monkeypatch.chdir(first)
    args = ["--cfg", "yolov8n-hornet.yaml", "--data", "digits/data.yaml", "--epochs", "2", "--imgsz", "64",
            "--batch-size", "8", "--workers", "0", "--project", "runs", "--noplots"]  # fmt: skip
    with monkeypatch.context() as mp:
        inject(mp, 1, KeyboardInterrupt())
        assert train_main(args) == 130
    run = first / "runs" / "exp"
    stored = yaml.safe_load((run / "args.yaml").read_text())["data"]
    assert stored == str(first / "digits" / "data.yaml")  # absolute, not 'digits/data.yaml'
    monkeypatch.chdir(other)
    assert train_main(["--resume", str(run / "weights" / "last.pt")]) == 0, capsys.readouterr().err[-500:]
    assert epochs_in_csv(run) == [1, 2] and not (other / "runs").exists()


def test_bundled_data_by_name_in_the_scripts(tmp_path):
    """``--data digitscenes.yaml`` works in val.py (and train.py) as ``data=digitscenes.yaml`` does in yolo-hornet."""
    datasets = tmp_path / "datasets"
    env = guarded_env(tmp_path)
    setup = f"from ultralytics.utils import SETTINGS; SETTINGS.update(datasets_dir={str(datasets)!r})"
    subprocess.run([sys.executable, "-c", setup], check=True, cwd=tmp_path, env={**env, "YOLO_OFFLINE": "1"})
    out = cli("val.py", ["--data", "digitscenes.yaml", "--imgsz", "64", "--batch-size", "16"], tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "mAP50" in out.stdout and (datasets / "digitscenes" / "data.yaml").is_file()
    bad = cli("train.py", ["--data", "nosuch.yaml", "--epochs", "1"], tmp_path)
    assert bad.returncode == 2 and bad.stderr.strip().splitlines()[-1] == (
        "error: --data 'nosuch.yaml' not found; give the path of a dataset YAML (train:, val:, names:) or "
        "digitscenes.yaml"
    )
