"""train.py and detect.py end to end in subprocesses under a socket guard (no network), on data made here."""

import time
from pathlib import Path

import pytest
import torch
from conftest import REPO, cli

from yolo_hornet.data.digitscenes import write_dataset

BUNDLED_WEIGHTS = REPO / "weights" / "yolov8n-hornet.pt"


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("ds") / "digits", train=24, val=8, imgsz=96, seed=3)


def test_train_detect_continue_offline(tmp_path, tiny_data):
    base = ["--data", str(tiny_data), "--epochs", "1", "--imgsz", "96", "--batch-size", "8", "--workers", "0"]
    out = cli("train.py", ["--cfg", "yolov8n-hornet.yaml", *base, "--project", "runs/train"], tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    run = tmp_path / "runs" / "train" / "exp"
    for name in ("weights/best.pt", "weights/last.pt", "results.csv", "args.yaml", "labels.jpg", "train_batch0.jpg"):
        assert (run / name).is_file(), name
    best = torch.load(run / "weights" / "best.pt", map_location="cpu", weights_only=False)
    assert [type(best["model"].model[i]).__name__ for i in (6, 8)] == ["C2fHB", "C2fHB"]  # the HorNet rows trained

    val_images = tiny_data.parent / "images" / "val"
    args = ["--weights", str(run / "weights" / "best.pt"), "--source", str(val_images), "--save-txt", "--conf", "0.001"]
    out = cli("detect.py", args, tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    exp = tmp_path / "runs" / "detect" / "exp"
    assert len(list(exp.glob("*.jpg"))) == 8
    assert "8 frames" in out.stdout
    out = cli("detect.py", args, tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    exp2 = tmp_path / "runs" / "detect" / "exp2"
    assert len(list(exp2.glob("*.jpg"))) == 8 and len(list(exp.glob("*.jpg"))) == 8  # a new folder; exp untouched

    # fine-tune from the saved model: reload in a fresh process and continue training
    out = cli("train.py", ["--weights", str(run / "weights" / "best.pt"), *base, "--project", "runs/train"], tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert (tmp_path / "runs" / "train" / "exp2" / "weights" / "last.pt").is_file()


@pytest.mark.skipif(not BUNDLED_WEIGHTS.is_file(), reason="bundled weights not trained yet")
def test_detect_no_arguments_is_the_demo(tmp_path):
    out = cli("detect.py", ["--project", str(tmp_path / "runs" / "detect")], tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    videos = list((tmp_path / "runs" / "detect" / "exp").glob("digits_demo.*"))
    assert videos and videos[0].stat().st_size > 10_000
    n_det = int(out.stdout.split(" frames, ")[1].split(" detections")[0])
    assert n_det > 90  # real detections in the 90-frame demo video


@pytest.mark.skipif(not BUNDLED_WEIGHTS.is_file(), reason="bundled weights not trained yet")
def test_damaged_video_processed_to_the_end(tmp_path):
    src = REPO / "data" / "videos" / "Megamind_bugy.avi"
    out = cli("detect.py", ["--source", str(src), "--nosave", "--img", "160"], tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "270 frames" in out.stdout


@pytest.mark.slow
@pytest.mark.skipif(not BUNDLED_WEIGHTS.is_file(), reason="bundled weights not trained yet")
def test_train_no_arguments_fine_tunes_bundled(tmp_path):
    t0 = time.time()
    out = cli("train.py", ["--project", str(tmp_path / "runs" / "train")], tmp_path, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    run = tmp_path / "runs" / "train" / "exp"
    assert (run / "weights" / "best.pt").is_file() and (run / "results.png").is_file()
    assert time.time() - t0 < 600
