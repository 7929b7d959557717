"""Fault injection: runs are never lost. Tiny data (64 px, 16 scenes), a few seconds per training.

In process (faults injected with monkeypatch): out-of-memory after epoch k, a full disk while saving, an interrupt
with --nosave / --noval. In subprocesses (real signals): SIGINT, SIGTERM, SIGKILL at a random moment, then --resume
to completion; two runs with the same --name at once.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import os
import pathlib
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import REPO, cli, guarded_env

from yolo_hornet import atomic
from yolo_hornet.atomic import atomic_write_bytes
from yolo_hornet.cli.safe_trainer import SafeTrainer, trim_results_csv
from yolo_hornet.cli.train import main as train_main
from yolo_hornet.data.digitscenes import write_dataset


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("ds") / "digits", train=16, val=4, imgsz=64, seed=5)


def base_args(data: Path, project: Path, epochs: int) -> list[str]:
    return ["--cfg", "yolov8n-hornet.yaml", "--data", str(data), "--epochs", str(epochs), "--imgsz", "64",
            "--batch-size", "8", "--workers", "0", "--project", str(project), "--noplots"]  # fmt: skip


def epochs_in_csv(run: Path) -> list[int]:
    """The epoch column of results.csv (ultralytics writes it 1-based)."""
    with (run / "results.csv").open() as f:
        return [int(float(row["epoch"])) for row in csv.DictReader(f)]


def ckpt_epoch(path: Path) -> int:
    return int(torch.load(path, map_location="cpu", weights_only=False)["epoch"])


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def inject(monkeypatch, at_epoch: int, error: BaseException) -> None:
    """Make the first training batch of epoch ``at_epoch`` (0-based) raise ``error``."""
    preprocess = SafeTrainer.preprocess_batch

    def failing(self, batch):
        if self.epoch == at_epoch:
            raise error
        return preprocess(self, batch)

    monkeypatch.setattr(SafeTrainer, "preprocess_batch", failing)


def last_error(capsys) -> tuple[list[str], str]:
    err = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(err)
    return err, err[-1] if err else ""


def test_oom_after_epoch_keeps_run_and_resumes(tmp_path, data, capsys, monkeypatch):
    project = tmp_path / "runs"
    inject(monkeypatch, 1, torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    rc = train_main(base_args(data, project, 3))
    _, line = last_error(capsys)
    run, last = project / "exp", project / "exp" / "weights" / "last.pt"
    assert rc == 2
    assert line.startswith("error: training stopped in epoch 2/3: out of memory"), line
    assert f"last.pt holds epoch 1/3; resume with: yolo-hornet-train --resume {last}" in line, line
    assert ckpt_epoch(last) == 0 and epochs_in_csv(run) == [1]
    assert "OutOfMemoryError" in (run / "traceback.txt").read_text()

    monkeypatch.undo()
    assert train_main(["--resume", str(last), "--project", str(project)]) == 0
    assert epochs_in_csv(run) == [1, 2, 3]
    assert ckpt_epoch(last) == -1  # finished and stripped
    assert sorted(p.name for p in project.iterdir()) == ["exp"]  # resumed in place, nothing else created


def test_disk_full_while_saving_keeps_previous_last(tmp_path, data, capsys, monkeypatch):
    project = tmp_path / "runs"
    writes = {"n": 0}
    write_bytes = pathlib.Path.write_bytes  # how this ultralytics writes checkpoints (the staging does not rely on it)

    def full_disk(path, blob):
        writes["n"] += 1
        if writes["n"] >= 3:  # epoch 1 wrote last.pt and best.pt; the next write fills the disk half way
            write_bytes(path, bytes(blob)[: len(blob) // 2])
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return write_bytes(path, blob)

    monkeypatch.setattr(pathlib.Path, "write_bytes", full_disk)
    rc = train_main(base_args(data, project, 3))
    _, line = last_error(capsys)
    weights = project / "exp" / "weights"
    assert rc == 2 and "disk full while writing" in line and "resume with" in line, line
    assert ckpt_epoch(weights / "last.pt") == 0  # the previous last.pt, whole
    assert sorted(p.name for p in weights.iterdir()) == ["best.pt", "last.pt"]  # no temporary file left


def test_interrupt_with_nosave_writes_nothing(tmp_path, data, capsys, monkeypatch):
    project = tmp_path / "runs"
    inject(monkeypatch, 1, KeyboardInterrupt())
    rc = train_main([*base_args(data, project, 3), "--nosave"])
    err, _ = last_error(capsys)
    assert rc == 130
    assert not list((project / "exp").rglob("*.pt"))
    assert any("interrupted: the run is kept" in e and "nothing to resume" in e for e in err), err[-3:]


def test_best_only_after_validation(tmp_path, data, capsys, monkeypatch):
    project = tmp_path / "runs"
    inject(monkeypatch, 2, KeyboardInterrupt())
    rc = train_main([*base_args(data, project, 4), "--noval"])
    err, _ = last_error(capsys)
    weights = project / "exp" / "weights"
    assert rc == 130
    assert ckpt_epoch(weights / "last.pt") == 1  # two completed epochs
    assert not (weights / "best.pt").exists()  # no validation ran, so there is no best
    assert f"resume with: yolo-hornet-train --resume {weights / 'last.pt'}" in err[-1], err[-1]


def test_error_before_training_removes_only_our_empty_folder(tmp_path, data, capsys, monkeypatch):
    project = tmp_path / "runs"
    (project / "exp").mkdir(parents=True)
    (project / "exp" / "keep.txt").write_text("someone else's run")

    def broken(self, *a, **k):
        raise FileNotFoundError("dataset vanished")

    monkeypatch.setattr(SafeTrainer, "get_dataloader", broken)
    rc = train_main(base_args(data, project, 1))
    _, line = last_error(capsys)
    assert rc == 2 and "dataset vanished" in line
    assert sorted(p.name for p in project.iterdir()) == ["exp"]  # exp2 (ours, empty) removed, exp untouched
    assert (project / "exp" / "keep.txt").read_text() == "someone else's run"


def test_kill_between_results_row_and_checkpoint(tmp_path, data, monkeypatch, capsys):
    """Epoch 2's row is in results.csv but its checkpoint never got written: resume redoes epoch 2, one row each."""
    project = tmp_path / "runs"
    save = SafeTrainer.save_model

    def dies_in_epoch_2(self):
        if self.epoch == 1:
            raise KeyboardInterrupt  # stands for a kill right after save_metrics()
        return save(self)

    monkeypatch.setattr(SafeTrainer, "save_model", dies_in_epoch_2)
    assert train_main(base_args(data, project, 3)) == 130
    run = project / "exp"
    assert epochs_in_csv(run) == [1, 2] and ckpt_epoch(run / "weights" / "last.pt") == 0
    monkeypatch.undo()
    assert train_main(["--resume", str(run / "weights" / "last.pt"), "--project", str(project)]) == 0
    assert epochs_in_csv(run) == [1, 2, 3]


def test_atomic_write_survives_a_kill_mid_write(tmp_path, monkeypatch):
    target = tmp_path / "last.pt"
    atomic_write_bytes(target, b"old checkpoint")

    def killed(f, blob):
        f.write(blob[:3])
        raise KeyboardInterrupt  # stands for the process dying half way

    monkeypatch.setattr(atomic, "write_all", killed)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(target, b"new checkpoint that never completes")
    assert target.read_bytes() == b"old checkpoint"
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_trim_results_csv(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text("epoch,time,loss\n1,1.0,0.5\n2,2.0,0.4\n3,3.0,0.3\n3,3.1,0.3\n4,4.0")
    assert trim_results_csv(path, 2) == 3
    assert path.read_text() == "epoch,time,loss\n1,1.0,0.5\n2,2.0,0.4\n"
    assert trim_results_csv(path, 2) == 0


def start(data: Path, cwd: Path, epochs: int, *extra: str) -> subprocess.Popen:
    args = [*base_args(data, cwd / "runs", epochs), *extra]
    return subprocess.Popen(
        [sys.executable, str(REPO / "train.py"), *args],
        cwd=cwd,
        env=guarded_env(cwd),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.time() < deadline, f"{path} did not appear"
        time.sleep(0.05)


def resume_to_completion(run: Path, cwd: Path, epochs: int) -> str:
    out = cli("train.py", ["--resume", str(run / "weights" / "last.pt"), "--project", "runs"], cwd)
    assert out.returncode == 0, out.stderr[-3000:]
    assert epochs_in_csv(run) == list(range(1, epochs + 1))
    assert ckpt_epoch(run / "weights" / "last.pt") == -1 and (run / "weights" / "best.pt").is_file()
    return out.stdout + out.stderr


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), pytest.param(signal.SIGTERM, 143, marks=pytest.mark.slow)])
def test_signal_keeps_last_completed_epoch_then_resume(tmp_path, data, sig, code):
    epochs = 6
    proc = start(data, tmp_path, epochs)
    run = tmp_path / "runs" / "exp"
    wait_for(run / "weights" / "last.pt", proc)
    time.sleep(0.3)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err[-3000:]
    assert "Traceback" not in err
    done = ckpt_epoch(run / "weights" / "last.pt") + 1
    assert 1 <= done < epochs
    assert f"last.pt holds epoch {done}/{epochs}; resume with: python train.py --resume" in err, err[-2000:]
    log = resume_to_completion(run, tmp_path, epochs)
    assert f"from epoch {done + 1} to {epochs}" in log  # the interrupted epoch is redone


def test_sigkill_at_a_random_moment_then_resume(tmp_path, data):
    seed = int(os.environ.get("FAULT_SEED", time.time_ns() % 10_000))
    delay = random.Random(seed).uniform(0.0, 2.5)
    epochs = 6
    proc = start(data, tmp_path, epochs)
    run = tmp_path / "runs" / "exp"
    wait_for(run / "weights" / "last.pt", proc)
    print(f"FAULT_SEED={seed}: SIGKILL {delay:.2f} s after the first last.pt")
    time.sleep(delay)
    if proc.poll() is not None:
        pytest.skip(f"training finished before the kill (FAULT_SEED={seed})")
    proc.kill()
    proc.communicate(timeout=60)
    epoch = ckpt_epoch(run / "weights" / "last.pt")  # loadable whatever the moment
    if epoch == -1:  # killed during the final validation: the run had finished and is not resumable
        assert epochs_in_csv(run) == list(range(1, epochs + 1)), seed
        out = cli("train.py", ["--resume", str(run / "weights" / "last.pt"), "--project", "runs"], tmp_path)
        assert out.returncode == 2 and f"finished at epoch {epochs}/{epochs}" in out.stderr, (seed, out.stderr[-500:])
    else:
        assert 0 <= epoch < epochs - 1, (seed, epoch)
        resume_to_completion(run, tmp_path, epochs)


def test_two_runs_with_the_same_name_at_once(tmp_path, data):
    procs = [start(data, tmp_path, 1, "--name", "same") for _ in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
    runs = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert runs == ["same", "same2"]
    for name in runs:
        assert epochs_in_csv(tmp_path / "runs" / name) == [1]
        assert (tmp_path / "runs" / name / "weights" / "best.pt").is_file()


def test_reserve_run_under_a_race(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from yolo_hornet.cli.runs import reserve_run

    with ThreadPoolExecutor(8) as pool:
        folders = list(pool.map(lambda _: reserve_run(tmp_path, "exp").path.name, range(16)))
    assert sorted(folders) == sorted(["exp", *(f"exp{i}" for i in range(2, 17))])


def test_resume_of_a_finished_run_is_refused(tmp_path, data):
    out = cli("train.py", base_args(data, tmp_path / "runs", 1), tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    last = tmp_path / "runs" / "exp" / "weights" / "last.pt"
    before = digest(last)
    for args in (["--resume", str(last)], ["--resume"]):
        out = cli("train.py", [*args, "--project", "runs"], tmp_path)
        err = out.stderr.strip().splitlines()
        assert out.returncode == 2 and err[-1].startswith("error: --resume"), out.stderr[-2000:]
        assert "Traceback" not in out.stderr
    assert "none of the 1 runs" in err[-1]
    out = cli("train.py", ["--resume", str(last), "--project", "runs"], tmp_path)
    assert "finished at epoch 1/1" in out.stderr and f"--weights {last} --epochs M" in out.stderr
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["exp"]  # no default run, nothing new
    assert not (tmp_path / "runs" / "detect").exists() and digest(last) == before


def test_malicious_pickle_never_runs(tmp_path, capsys):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    from yolo_hornet.cli.detect import main as detect_main

    for suffix in (".pt", ".pth"):
        evil = tmp_path / f"evil{suffix}"
        torch.save({"model": Payload(), "epoch": 1, "train_args": {}}, evil)
        for main, flag in ((train_main, "--weights"), (detect_main, "--weights"), (train_main, "--resume")):
            rc = main([flag, str(evil), "--project", str(tmp_path / "runs")])
            _, line = last_error(capsys)
            assert rc == 2 and "refused" in line and "system" in line and "--trust-weights" in line, line
    assert not marker.exists()
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_truncated_checkpoint(tmp_path, capsys):
    bundled = REPO / "weights" / "yolov8n-hornet.pt"
    cut = tmp_path / "cut.pt"
    cut.write_bytes(bundled.read_bytes()[: bundled.stat().st_size // 2])
    for flag in ("--weights", "--resume"):
        rc = train_main([flag, str(cut), "--project", str(tmp_path / "runs")])
        _, line = last_error(capsys)
        assert rc == 2 and f"error: {flag} '{cut}' is not a readable PyTorch checkpoint" in line, line
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {"w": torch.zeros(2)}}, foreign)
    rc = train_main(["--resume", str(foreign), "--project", str(tmp_path / "runs")])
    _, line = last_error(capsys)
    assert rc == 2 and "is not a training checkpoint" in line, line


def test_trust_weights_opt_in(tmp_path, capsys):
    """A checkpoint with an extra, harmless global is refused by default and loads with --trust-weights."""
    from fractions import Fraction

    from ultralytics import YOLO

    from yolo_hornet.cli.detect import main as detect_main

    ckpt = torch.load(REPO / "weights" / "yolov8n-hornet.pt", map_location="cpu", weights_only=False)
    ckpt["note"] = Fraction(1, 3)
    path = tmp_path / "noted.pt"
    torch.save(ckpt, path)
    image = next((REPO / "data" / "digitscenes" / "images" / "val").glob("*.jpg"))
    argv = ["--weights", str(path), "--source", str(image), "--project", str(tmp_path / "runs"), "--img", "96"]
    assert detect_main(argv) == 2
    assert "fractions.Fraction" in last_error(capsys)[1]
    assert detect_main([*argv, "--trust-weights"]) == 0
    assert len(list((tmp_path / "runs" / "exp").glob("*.jpg"))) == 1
    assert YOLO(str(REPO / "weights" / "yolov8n-hornet.pt")).names  # the process is not left restricted


def test_our_checkpoints_load_under_ultralytics_safe_load(tmp_path):
    code = (
        "import yolo_hornet, ultralytics.nn.tasks as t; from ultralytics import YOLO\n"
        f"assert t.SAFE_LOAD\nm = YOLO(r'{REPO / 'weights' / 'yolov8n-hornet.pt'}')\n"
        "print(type(m.model.model[-3]).__name__, len(m.names))\n"
    )
    env = {**guarded_env(tmp_path), "ULTRALYTICS_SAFE_LOAD": "1", "YOLO_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split()[-1] == "10"


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_interrupt_leaves_best_pt_as_it_was(tmp_path, data, monkeypatch, signal_name):
    """Ctrl-C or SIGTERM in epoch 3 (raised as in the real handlers): best.pt is byte-identical to the one the
    validated epochs wrote, last.pt holds epoch 2, the exit code is 130 or 143."""
    from yolo_hornet.cli.faults import Terminated

    project = tmp_path / "runs"
    best = project / "exp" / "weights" / "best.pt"
    seen = {}
    preprocess = SafeTrainer.preprocess_batch

    def failing(self, batch):
        if self.epoch == 2:
            seen["best"] = digest(best)  # what the validated epochs 1-2 left
            raise Terminated() if signal_name == "SIGTERM" else KeyboardInterrupt()
        return preprocess(self, batch)

    monkeypatch.setattr(SafeTrainer, "preprocess_batch", failing)
    rc = train_main(base_args(data, project, 4))
    assert rc == (143 if signal_name == "SIGTERM" else 130)
    assert digest(best) == seen["best"] and ckpt_epoch(project / "exp" / "weights" / "last.pt") == 1
    assert sorted(p.name for p in best.parent.iterdir()) == ["best.pt", "last.pt"]  # no staging or temp files


def test_epoch_checkpoints_and_final_strip_are_atomic(tmp_path, data, monkeypatch, capsys):
    """--save-period 1 writes epochN.pt through the staging folder; a final optimizer strip that dies half way
    leaves the previous (unstripped, complete) last.pt, and a normal end strips it."""
    import ultralytics.engine.trainer as engine

    project = tmp_path / "runs"
    original = engine.strip_optimizer

    def dies_half_way(f, s="", updates=None):
        Path(s or f).write_bytes(Path(f).read_bytes()[:100])
        raise OSError(errno.ENOSPC, "No space left on device", str(s or f))

    monkeypatch.setattr(engine, "strip_optimizer", dies_half_way)
    train_main([*base_args(data, project, 2), "--save-period", "1"])
    weights = project / "exp" / "weights"
    assert sorted(p.name for p in weights.iterdir()) == ["best.pt", "epoch0.pt", "epoch1.pt", "last.pt"]
    assert ckpt_epoch(weights / "last.pt") == 1  # complete and not stripped: the strip never replaced it
    assert ckpt_epoch(weights / "epoch0.pt") == 0 and ckpt_epoch(weights / "epoch1.pt") == 1
    monkeypatch.setattr(engine, "strip_optimizer", original)
    assert train_main([*base_args(data, project, 1), "--name", "ok"]) == 0
    assert ckpt_epoch(project / "ok" / "weights" / "last.pt") == -1  # stripped at the end (epoch -1)
    assert sorted(p.name for p in (project / "ok" / "weights").iterdir()) == ["best.pt", "last.pt"]
