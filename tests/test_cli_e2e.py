"""train.py and detect.py end to end in subprocesses under a socket guard (no network), on data made here."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO

from yolo_hornet.data.digitscenes import write_dataset

GUARD = REPO / "tests" / "netguard"
BUNDLED_WEIGHTS = REPO / "weights" / "yolov8n-hornet.pt"


def guarded_env(tmp: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(GUARD), env.get("PYTHONPATH", "")])
    env["NETGUARD_LOG"] = str(tmp / "netguard.log")
    env["YOLO_CONFIG_DIR"] = str(tmp / "ultralytics-config")  # a fresh config dir: no cached fonts or settings
    env.pop("YOLO_OFFLINE", None)  # the package itself must keep ultralytics offline
    return env


def cli(script: str, args: list[str], tmp: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    out = subprocess.run(
        [sys.executable, str(REPO / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=tmp,
        env=guarded_env(tmp),
    )
    log = tmp / "netguard.log"
    assert not log.exists(), f"network access attempted: {log.read_text()}"
    return out


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
    assert "C2fHB" in (run / "args.yaml").read_text() or (run / "weights" / "best.pt").stat().st_size > 1e6

    val_images = tiny_data.parent / "images" / "val"
    args = ["--weights", str(run / "weights" / "best.pt"), "--source", str(val_images), "--save-txt", "--conf", "0.001"]
    out = cli("detect.py", args, tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    exp = tmp_path / "runs" / "detect" / "exp"
    assert len(list(exp.glob("*.jpg"))) == 8
    assert "8 frames" in out.stdout
    out = cli("detect.py", args, tmp_path)
    assert (tmp_path / "runs" / "detect" / "exp2").is_dir() and len(list(exp.glob("*.jpg"))) == 8

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


def test_ctrl_c_leaves_resumable_last_pt(tmp_path, tiny_data):
    args = ["--cfg", "yolov8n-hornet.yaml", "--data", str(tiny_data), "--epochs", "30", "--imgsz", "96"]
    args += ["--batch-size", "8", "--workers", "0", "--project", "runs/train"]
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "train.py"), *args],
        cwd=tmp_path,
        env=guarded_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen, deadline = "", time.time() + 300
    while "2/30" not in seen and time.time() < deadline and proc.poll() is None:
        seen += proc.stdout.read(1)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=120)
    last = tmp_path / "runs" / "train" / "exp" / "weights" / "last.pt"
    assert proc.returncode == 130, (seen + rest)[-3000:]
    assert last.is_file()
    assert "resume with" in rest
    import torch

    ckpt = torch.load(last, map_location="cpu", weights_only=False)
    assert ckpt["epoch"] >= 0 and ckpt["train_args"]["epochs"] == 30
    out = cli("train.py", ["--resume", str(last), "--project", "runs/train"], tmp_path, timeout=60)
    assert "Resuming training" in out.stdout + out.stderr


@pytest.mark.slow
@pytest.mark.skipif(not BUNDLED_WEIGHTS.is_file(), reason="bundled weights not trained yet")
def test_train_no_arguments_fine_tunes_bundled(tmp_path):
    t0 = time.time()
    out = cli("train.py", ["--project", str(tmp_path / "runs" / "train")], tmp_path, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    run = tmp_path / "runs" / "train" / "exp"
    assert (run / "weights" / "best.pt").is_file() and (run / "results.png").is_file()
    assert time.time() - t0 < 600
